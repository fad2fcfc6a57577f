//! Lambda entry point for the scheduled retention job.

use contacts_functions::config::{self, Clients, TableConfig};
use contacts_functions::retention_job;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let store = TableConfig::from_env(config::process_env)?.build(&Clients::load().await);
    config::run_scheduled(|context| retention_job::handle(&store, retention_job::stop_by(context.deadline))).await
}
