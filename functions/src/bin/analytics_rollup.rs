//! Lambda entry point for the daily rollup's dispatcher (one unit per workspace on the jobs queue).

use contacts_functions::analytics_rollup;
use contacts_functions::config::{self, Clients, DispatcherConfig};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let dispatcher = DispatcherConfig::from_env(config::process_env)?.build(&Clients::load().await);
    config::run_scheduled(|_| analytics_rollup::dispatch(&dispatcher)).await
}
