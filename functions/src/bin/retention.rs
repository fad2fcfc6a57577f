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
        let deadline = chrono::DateTime::from_timestamp_millis(event.context.deadline as i64 - 60_000).unwrap_or_else(chrono::Utc::now);
        async move { Box::pin(retention_job::handle(store, deadline)).await.map_err(Error::from) }
    }))
    .await
}
