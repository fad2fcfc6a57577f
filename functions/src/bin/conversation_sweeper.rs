//! Lambda entry point for the scheduled idle-conversation sweep's dispatcher (one unit per shard on the jobs queue).

use contacts_functions::config::{self, Clients, DispatcherConfig};
use contacts_functions::conversation_sweeper;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let dispatcher = DispatcherConfig::from_env(config::process_env)?.build(&Clients::load().await);
    config::run_scheduled(|_| conversation_sweeper::dispatch(&dispatcher)).await
}
