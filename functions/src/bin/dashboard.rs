//! Lambda entry point for the contacts dashboard (server-rendered pages).

use contacts_functions::config::{self, Clients, DashboardConfig};
use contacts_functions::dashboard::handle;
use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let dashboard = DashboardConfig::from_env(config::process_env)?.build(&Clients::load().await);
    run(service_fn(|req| handle(&dashboard, req))).await
}
