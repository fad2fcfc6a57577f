//! Lambda entry point for the contacts API.

use contacts_functions::api::{handle, Api};
use contacts_functions::config;
use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let api = Api::from_env(config::store().await?);
    run(service_fn(|req| handle(&api, req))).await
}
