//! Lambda entry point for the scheduled idle-conversation sweep.

use contacts_functions::{config, conversation_sweeper};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let store = config::store().await?;
    let idle = config::conversation_idle()?;
    config::run_scheduled(|_| conversation_sweeper::handle(&store, idle)).await
}
