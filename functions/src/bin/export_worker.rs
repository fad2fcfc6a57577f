//! Lambda entry point for the export worker (SQS, ReportBatchItemFailures).

#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::SqsEvent;
use contacts_functions::export_worker::{handle, ExportWorker};
use contacts_functions::{bucket, config};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let sdk = config::aws().await;
    let worker = ExportWorker {
        store: config::store().await?,
        bucket: config::exports_bucket(&config::env_vars, bucket::client(&sdk))?,
    };
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = &worker;
        async move { Ok::<_, Error>(handle(worker, event.payload).await) }
    }))
    .await
}
