//! Lambda entry point for the scheduled retention job.

use contacts_functions::{config, retention_job};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let store = config::store().await?;
    config::run_scheduled(|context: lambda_runtime::Context| {
        // Stop a minute before the timeout (the context's deadline, epoch milliseconds); the
        // checkpoint lets the next invocation go on. Local runtimes (cargo lambda watch)
        // report a deadline in the past: then allow 4 minutes.
        let deadline = chrono::DateTime::from_timestamp_millis(context.deadline as i64 - 60_000)
            .filter(|d| *d > chrono::Utc::now())
            .unwrap_or_else(|| chrono::Utc::now() + chrono::Duration::minutes(4));
        retention_job::handle(&store, deadline)
    })
    .await
}
