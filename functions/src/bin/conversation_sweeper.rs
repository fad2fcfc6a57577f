//! Lambda entry point for the scheduled idle-conversation sweep.

use contacts_functions::config::{self, Clients, ConversationSweeperConfig};
use contacts_functions::conversation_sweeper;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let sweeper = ConversationSweeperConfig::from_env(config::process_env)?.build(&Clients::load().await);
    config::run_scheduled(|_| conversation_sweeper::handle(&sweeper.store, sweeper.idle)).await
}
