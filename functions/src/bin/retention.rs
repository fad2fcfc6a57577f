//! Lambda entry point for the scheduled retention's dispatcher (one unit per workspace on the jobs queue).

use contacts_functions::config::{self, Clients, DispatcherConfig};
use contacts_functions::retention_job;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let dispatcher = DispatcherConfig::from_env(config::process_env)?.build(&Clients::load().await);
    config::run_scheduled(|_| retention_job::dispatch(&dispatcher)).await
}
