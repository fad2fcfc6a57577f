//! Lambda entry point for the capture worker (SQS FIFO, ReportBatchItemFailures).

use aws_lambda_events::event::sqs::SqsEvent;
use contacts_functions::capture_worker::handle;
use contacts_functions::config::{self, CaptureWorkerConfig, Clients};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let worker = CaptureWorkerConfig::from_env(config::process_env)?.build(&Clients::load().await);
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = &worker;
        // Boxed: the handler's future is deep enough to pass the compiler's layout recursion limit inline.
        async move { Ok::<_, Error>(Box::pin(handle(worker, event.payload)).await) }
    }))
    .await
}
