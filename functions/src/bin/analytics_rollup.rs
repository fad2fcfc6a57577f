//! Lambda entry point for the daily analytics rollup.

use contacts_functions::analytics_rollup;
use contacts_functions::config::{self, Clients, TableConfig};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let store = TableConfig::from_env(config::process_env)?.build(&Clients::load().await);
    config::run_scheduled(|_| analytics_rollup::handle(&store)).await
}
