//! Lambda entry point for the import worker (SQS, ReportBatchItemFailures).

#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::SqsEvent;
use contacts_functions::config::{self, Clients, ImportWorkerConfig};
use contacts_functions::import_worker::handle;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let worker = ImportWorkerConfig::from_env(config::process_env)?.build(&Clients::load().await);
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = &worker;
        async move { Ok::<_, Error>(handle(worker, event.payload, config::lambda_deadline(&event.context)).await) }
    }))
    .await
}
