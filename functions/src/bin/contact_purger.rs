//! Lambda entry point for the scheduled purge of deleted contacts.

use contacts_functions::config::{self, Clients, TableConfig};
use contacts_functions::contact_purger;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let store = TableConfig::from_env(config::process_env)?.build(&Clients::load().await);
    config::run_scheduled(|_| contact_purger::handle(&store)).await
}
