//! Configuration and AWS clients, built once per execution environment.

use aws_config::BehaviorVersion;
use contacts::store::Store;

/// Reads a required environment variable, naming it when it is missing.
pub fn required_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
}

/// The shared AWS configuration. `AWS_ENDPOINT_URL` points every client at the local emulator.
pub async fn aws() -> aws_config::SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// The table store, from `TABLE_NAME`.
pub async fn store() -> Result<Store, String> {
    let table = required_env("TABLE_NAME")?;
    Ok(Store::new(aws_sdk_dynamodb::Client::new(&aws().await), table))
}

/// JSON logs through tracing, honouring `AWS_LAMBDA_LOG_LEVEL` and `AWS_LAMBDA_LOG_FORMAT`.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}
