//! Lambda entry point for the scheduled purge of deleted contacts.

use contacts_functions::{config, contact_purger};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let store = config::store().await?;
    config::run_scheduled(|_| contact_purger::handle(&store)).await
}
