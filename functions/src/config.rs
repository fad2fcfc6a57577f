//! Configuration and AWS clients, built once per execution environment.

use aws_config::BehaviorVersion;
use store::Store;

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

/// The capture queue, from `CAPTURE_QUEUE_URL`.
pub async fn capture_queue() -> Result<crate::capture_queue::CaptureQueue, String> {
    let url = required_env("CAPTURE_QUEUE_URL")?;
    Ok(crate::capture_queue::CaptureQueue::new(aws_sdk_sqs::Client::new(&aws().await), url))
}

/// How long a conversation may stay silent before it is over (`CONVERSATION_IDLE_MINUTES`, default 30).
pub fn conversation_idle() -> Result<chrono::Duration, String> {
    let minutes = match std::env::var("CONVERSATION_IDLE_MINUTES") {
        Ok(v) => v
            .parse::<i64>()
            .ok()
            .filter(|m| *m > 0)
            .ok_or("CONVERSATION_IDLE_MINUTES must be a positive number of minutes")?,
        Err(_) => 30,
    };
    Ok(chrono::Duration::minutes(minutes))
}

/// The Graph API base for Messenger profile names (`GRAPH_API_BASE`).
pub fn graph_api_base() -> String {
    std::env::var("GRAPH_API_BASE").unwrap_or_else(|_| "https://graph.facebook.com/v21.0".to_string())
}

/// Where variables come from: the process environment on Lambda, the template's values locally.
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn env_vars(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn var(vars: Vars, name: &str) -> Result<String, String> {
    vars(name).ok_or_else(|| format!("environment variable {name} is not set"))
}

fn positive(vars: Vars, name: &str, default: i64) -> Result<i64, String> {
    match vars(name) {
        None => Ok(default),
        Some(v) => {
            v.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| format!("{name} must be a positive whole number"))
        }
    }
}

/// The exports bucket (`EXPORTS_BUCKET`).
pub fn exports_bucket(vars: Vars, s3: aws_sdk_s3::Client) -> Result<crate::bucket::Bucket, String> {
    Ok(crate::bucket::Bucket::new(s3, var(vars, "EXPORTS_BUCKET")?))
}

/// What the API needs for exports: bucket, queue (`EXPORTS_QUEUE_URL`), link lifetime
/// (`EXPORT_LINK_MINUTES`, default 15) and file lifetime (`EXPORT_RETENTION_DAYS`, default 7).
pub fn export_settings(
    vars: Vars,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
) -> Result<crate::api::exports::ExportSettings, String> {
    Ok(crate::api::exports::ExportSettings {
        bucket: exports_bucket(vars, s3)?,
        queue: crate::export_queue::ExportQueue::new(sqs, var(vars, "EXPORTS_QUEUE_URL")?),
        link_expiry: std::time::Duration::from_secs(positive(vars, "EXPORT_LINK_MINUTES", 15)? as u64 * 60),
        retention_days: positive(vars, "EXPORT_RETENTION_DAYS", 7)?,
    })
}

/// Runs a scheduled job's Lambda: each EventBridge invocation runs the job once; its
/// result is the invocation's answer, and an error fails the invocation (so it is retried).
pub async fn run_scheduled<F, Fut, T>(job: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(lambda_runtime::Context) -> Fut,
    Fut: std::future::Future<Output = Result<T, String>> + Send,
    T: serde::Serialize,
{
    lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        // Boxed: job futures are deep enough to pass the compiler's layout recursion limit inline.
        let job = Box::pin(job(event.context));
        async move { job.await.map_err(lambda_runtime::Error::from) }
    }))
    .await
}
