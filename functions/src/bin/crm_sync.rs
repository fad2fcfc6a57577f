//! Lambda entry point for the CRM sync worker (SQS `SyncQueue`, ReportBatchItemFailures).

use aws_lambda_events::event::sqs::SqsEvent;
use contacts_functions::config::{self, Clients, CrmSyncConfig};
use contacts_functions::crm_sync::handle;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let worker = CrmSyncConfig::from_env(config::process_env)?.build(&Clients::load().await);
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = &worker;
        let deadline = config::lambda_deadline(&event.context);
        async move { Ok::<_, Error>(Box::pin(handle(worker, event.payload, deadline)).await) }
    }))
    .await
}
