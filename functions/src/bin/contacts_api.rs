//! Lambda entry point for the contacts API.

use contacts_functions::api::{handle, Api};
use contacts_functions::{bucket, config};
use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let sdk = config::aws().await;
    let mut api = Api::from_env(config::store().await?);
    api.exports =
        Some(config::export_settings(&config::env_vars, bucket::client(&sdk), aws_sdk_sqs::Client::new(&sdk))?);
    run(service_fn(|req| handle(&api, req))).await
}
