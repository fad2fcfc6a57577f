//! Lambda entry point for the scheduled purge's dispatcher (one unit per purge shard on the jobs queue).

use contacts_functions::config::{self, Clients, DispatcherConfig};
use contacts_functions::contact_purger;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let dispatcher = DispatcherConfig::from_env(config::process_env)?.build(&Clients::load().await);
    config::run_scheduled(|_| contact_purger::dispatch(&dispatcher)).await
}
