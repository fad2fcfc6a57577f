//! Lambda entry point for the scheduled retention job.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use contacts_functions::{config, retention_job};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let store = config::store().await?;
    run(service_fn(|event: LambdaEvent<EventBridgeEvent>| {
        let store = &store;
        // Stop a minute before the timeout (the context's deadline, epoch milliseconds); the
        // checkpoint lets the next invocation go on.
        // Local runtimes (cargo lambda watch) report a deadline in the past: then allow 4 minutes.
        let deadline = chrono::DateTime::from_timestamp_millis(event.context.deadline as i64 - 60_000)
            .filter(|d| *d > chrono::Utc::now())
            .unwrap_or_else(|| chrono::Utc::now() + chrono::Duration::minutes(4));
        async move { Box::pin(retention_job::handle(store, deadline)).await.map_err(Error::from) }
    }))
    .await
}
