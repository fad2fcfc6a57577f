//! Lambda entry point for the contacts API.

use contacts_functions::api::handle;
use contacts_functions::config::{self, ApiConfig, Clients};
use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let api = ApiConfig::from_env(config::process_env)?.build(&Clients::load().await);
    run(service_fn(|req| handle(&api, req))).await
}
