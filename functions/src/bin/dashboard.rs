//! Lambda entry point for the contacts dashboard (server-rendered pages).

use contacts_functions::dashboard::{handle, Dashboard};
use contacts_functions::{bucket, config};
use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let sdk = config::aws().await;
    let mut dashboard = Dashboard::new(config::store().await?);
    dashboard.exports =
        Some(config::export_settings(&config::env_vars, bucket::client(&sdk), aws_sdk_sqs::Client::new(&sdk))?);
    run(service_fn(|req| handle(&dashboard, req))).await
}
