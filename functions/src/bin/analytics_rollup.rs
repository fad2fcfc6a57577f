//! Lambda entry point for the daily analytics rollup.

use contacts_functions::{analytics_rollup, config};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    config::init_tracing();
    let store = config::store().await?;
    config::run_scheduled(|_| analytics_rollup::handle(&store)).await
}
