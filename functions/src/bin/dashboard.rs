//! Lambda entry point for the contacts dashboard (server-rendered pages).

use contacts_functions::config;
use contacts_functions::dashboard::{handle, Dashboard};
use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let dashboard = Dashboard::new(config::store().await?);
    run(service_fn(|req| handle(&dashboard, req))).await
}
