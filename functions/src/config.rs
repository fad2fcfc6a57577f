//! Each function's configuration and wiring, written once. A configuration is read from
//! variables by name (`from_env`): the process environment on Lambda, the template's
//! values in the local server; its defaults are here and nowhere else. Its `build` makes
//! the function's handler state from the configuration and the AWS clients. The Lambda
//! mains and the local server both go through these, so they cannot drift.

use crate::api::exports::ExportSettings;
use crate::api::Api;
use crate::bot_cache::BotCache;
use crate::bucket::Bucket;
use crate::capture_queue::{CaptureQueue, DeadLetters};
use crate::capture_worker::{GraphProfiles, Worker};
use crate::conversation_sweeper::Sweeper;
use crate::dashboard::Dashboard;
use crate::export_queue::ExportQueue;
use crate::export_worker::ExportWorker;
use crate::webhooks::Webhooks;
use aws_config::BehaviorVersion;
use model::auth::KeyPepper;
use model::listing::CursorKey;
use model::usecases::capture::CaptureSettings;
use store::Store;

/// A variable a function needs is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is `{value}`, but must be {expected}")]
    Invalid { name: &'static str, value: String, expected: &'static str },
}

/// The process environment, for the Lambda mains.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Typed reads of variables by name.
struct Vars<F>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        (self.0)(name).ok_or(ConfigError::Missing(name))
    }

    fn or(&self, name: &'static str, default: &str) -> String {
        (self.0)(name).unwrap_or_else(|| default.to_string())
    }

    fn positive(&self, name: &'static str, default: u32) -> Result<u32, ConfigError> {
        match (self.0)(name) {
            None => Ok(default),
            Some(value) => value.parse::<u32>().ok().filter(|n| *n > 0).ok_or(ConfigError::Invalid {
                name,
                value,
                expected: "a positive whole number",
            }),
        }
    }

    /// `1` turns it on; anything else, or nothing, leaves it off.
    fn flag(&self, name: &'static str) -> bool {
        (self.0)(name).is_some_and(|v| v == "1")
    }

    /// The key that seals list cursors (`CURSOR_KEY`, at least 32 characters): the same for
    /// every instance, so a cursor one instance issued is accepted by the next.
    fn cursor_key(&self) -> Result<CursorKey, ConfigError> {
        let value = self.required("CURSOR_KEY")?;
        if value.len() < 32 {
            return Err(ConfigError::Invalid {
                name: "CURSOR_KEY",
                value: "(hidden)".into(),
                expected: "at least 32 characters",
            });
        }
        Ok(CursorKey::new(value.as_bytes()))
    }

    /// The secret API keys are hashed under (`KEY_PEPPER`, at least 32 characters): the
    /// same for every function that authenticates keys and for `provision`.
    fn key_pepper(&self) -> Result<KeyPepper, ConfigError> {
        KeyPepper::new(&self.required("KEY_PEPPER")?).map_err(|_| ConfigError::Invalid {
            name: "KEY_PEPPER",
            value: "(hidden)".into(),
            expected: "at least 32 characters",
        })
    }

    /// The table every function uses (`TABLE_NAME`, set for all by the template's globals).
    fn table(&self) -> Result<String, ConfigError> {
        self.required("TABLE_NAME")
    }

    /// How long a conversation may stay silent before it is over (`CONVERSATION_IDLE_MINUTES`, default 30).
    fn conversation_idle(&self) -> Result<chrono::Duration, ConfigError> {
        Ok(chrono::Duration::minutes(self.positive("CONVERSATION_IDLE_MINUTES", 30)?.into()))
    }
}

/// The AWS clients, built once per execution environment from the shared SDK configuration.
#[derive(Debug, Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            s3: crate::bucket::client(sdk),
        }
    }

    /// From the Lambda environment; `AWS_ENDPOINT_URL` points every client at an emulator.
    pub async fn load() -> Self {
        Clients::new(&aws_config::load_defaults(BehaviorVersion::latest()).await)
    }

    fn store(&self, table: &str) -> Store {
        Store::new(self.dynamodb.clone(), table)
    }
}

/// JSON logs through tracing, honouring `AWS_LAMBDA_LOG_LEVEL` and `AWS_LAMBDA_LOG_FORMAT`.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// Functions that need only the table: the contact purger, the analytics rollup, the
/// retention job (and the `provision` tool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConfig {
    pub table: String,
}

impl TableConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(TableConfig { table: Vars(vars).table()? })
    }

    pub fn build(&self, aws: &Clients) -> Store {
        aws.store(&self.table)
    }
}

/// What requesting and downloading exports needs (the API and the dashboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportsConfig {
    /// `EXPORTS_BUCKET`.
    pub bucket: String,
    /// `EXPORTS_QUEUE_URL`.
    pub queue_url: String,
    /// How long a download link works (`EXPORT_LINK_MINUTES`, default 15).
    pub link_minutes: u32,
    /// How long files are kept (`EXPORT_RETENTION_DAYS`, default 7; the bucket's lifecycle rule).
    pub retention_days: u32,
}

impl ExportsConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(ExportsConfig {
            bucket: vars.required("EXPORTS_BUCKET")?,
            queue_url: vars.required("EXPORTS_QUEUE_URL")?,
            link_minutes: vars.positive("EXPORT_LINK_MINUTES", 15)?,
            retention_days: vars.positive("EXPORT_RETENTION_DAYS", 7)?,
        })
    }

    pub fn build(&self, aws: &Clients) -> ExportSettings {
        ExportSettings {
            bucket: Bucket::new(aws.s3.clone(), &self.bucket),
            queue: ExportQueue::new(aws.sqs.clone(), &self.queue_url),
            link_expiry: std::time::Duration::from_secs(u64::from(self.link_minutes) * 60),
            retention_days: self.retention_days.into(),
        }
    }
}

/// The `contacts-api` function.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub table: String,
    pub exports: ExportsConfig,
    pub cursors: CursorKey,
    pub pepper: KeyPepper,
    /// `EXPOSE_DDB_USAGE=1`: responses carry their DynamoDB usage in `Server-Timing`.
    pub expose_usage: bool,
}

impl ApiConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(ApiConfig {
            table: vars.table()?,
            exports: ExportsConfig::from_env(&vars.0)?,
            cursors: vars.cursor_key()?,
            pepper: vars.key_pepper()?,
            expose_usage: vars.flag("EXPOSE_DDB_USAGE"),
        })
    }

    pub fn build(&self, aws: &Clients) -> Api {
        Api {
            expose_usage: self.expose_usage,
            exports: Some(self.exports.build(aws)),
            ..Api::new(aws.store(&self.table), self.cursors.clone(), self.pepper.clone())
        }
    }
}

/// The `dashboard` function.
#[derive(Debug, Clone)]
pub struct DashboardConfig {
    pub table: String,
    pub exports: ExportsConfig,
    pub cursors: CursorKey,
    pub pepper: KeyPepper,
}

impl DashboardConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(DashboardConfig {
            table: vars.table()?,
            exports: ExportsConfig::from_env(&vars.0)?,
            cursors: vars.cursor_key()?,
            pepper: vars.key_pepper()?,
        })
    }

    pub fn build(&self, aws: &Clients) -> Dashboard {
        Dashboard {
            exports: Some(self.exports.build(aws)),
            ..Dashboard::new(aws.store(&self.table), self.cursors.clone(), self.pepper.clone())
        }
    }
}

/// The `webhooks` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhooksConfig {
    pub table: String,
    /// `CAPTURE_QUEUE_URL`.
    pub capture_queue_url: String,
}

impl WebhooksConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(WebhooksConfig { table: vars.table()?, capture_queue_url: vars.required("CAPTURE_QUEUE_URL")? })
    }

    pub fn build(&self, aws: &Clients) -> Webhooks {
        Webhooks {
            bots: BotCache::new(aws.store(&self.table)),
            queue: CaptureQueue::new(aws.sqs.clone(), &self.capture_queue_url),
        }
    }
}

/// The `capture-worker` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureWorkerConfig {
    pub table: String,
    pub conversation_idle: chrono::Duration,
    /// The Graph API base for Messenger profile names (`GRAPH_API_BASE`).
    pub graph_api_base: String,
    /// Where messages that can never be captured go at once (`CAPTURE_DLQ_URL`).
    pub dead_letter_queue_url: String,
}

impl CaptureWorkerConfig {
    pub const DEFAULT_GRAPH_API_BASE: &str = "https://graph.facebook.com/v21.0";

    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(CaptureWorkerConfig {
            table: vars.table()?,
            conversation_idle: vars.conversation_idle()?,
            graph_api_base: vars.or("GRAPH_API_BASE", Self::DEFAULT_GRAPH_API_BASE),
            dead_letter_queue_url: vars.required("CAPTURE_DLQ_URL")?,
        })
    }

    pub fn build(&self, aws: &Clients) -> Worker {
        // Settings and bots change rarely and every event needs them: read once a minute.
        let store = aws.store(&self.table).caching_settings(std::time::Duration::from_secs(60));
        Worker {
            bots: BotCache::new(store.clone()),
            store,
            settings: CaptureSettings { idle: self.conversation_idle },
            profiles: GraphProfiles::new(&self.graph_api_base),
            dead_letters: DeadLetters::new(aws.sqs.clone(), &self.dead_letter_queue_url),
        }
    }
}

/// The `conversation-sweeper` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSweeperConfig {
    pub table: String,
    pub conversation_idle: chrono::Duration,
}

impl ConversationSweeperConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(ConversationSweeperConfig { table: vars.table()?, conversation_idle: vars.conversation_idle()? })
    }

    pub fn build(&self, aws: &Clients) -> Sweeper {
        Sweeper { store: aws.store(&self.table), idle: self.conversation_idle }
    }
}

/// The `export-worker` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportWorkerConfig {
    pub table: String,
    /// `EXPORTS_BUCKET`.
    pub bucket: String,
}

impl ExportWorkerConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(ExportWorkerConfig { table: vars.table()?, bucket: vars.required("EXPORTS_BUCKET")? })
    }

    pub fn build(&self, aws: &Clients) -> ExportWorker {
        ExportWorker { store: aws.store(&self.table), bucket: Bucket::new(aws.s3.clone(), &self.bucket) }
    }
}

/// Runs a scheduled job's Lambda: each EventBridge invocation runs the job once; its
/// result is the invocation's answer, and an error fails the invocation (so it is retried).
pub async fn run_scheduled<F, Fut, T, E>(job: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(lambda_runtime::Context) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>> + Send,
    T: serde::Serialize,
    E: Into<lambda_runtime::Error>,
{
    lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        // Boxed: job futures are deep enough to pass the compiler's layout recursion limit inline.
        let job = Box::pin(job(event.context));
        async move { job.await.map_err(Into::into) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_apply_when_a_variable_is_absent() {
        let c = CaptureWorkerConfig::from_env(env(&[("TABLE_NAME", "t"), ("CAPTURE_DLQ_URL", "d")])).unwrap();
        assert_eq!(c.conversation_idle, chrono::Duration::minutes(30));
        assert_eq!(c.graph_api_base, CaptureWorkerConfig::DEFAULT_GRAPH_API_BASE);
        let e = ExportsConfig::from_env(env(&[("EXPORTS_BUCKET", "b"), ("EXPORTS_QUEUE_URL", "q")])).unwrap();
        assert_eq!((e.link_minutes, e.retention_days), (15, 7));
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(
            WebhooksConfig::from_env(env(&[("TABLE_NAME", "t")])),
            Err(ConfigError::Missing("CAPTURE_QUEUE_URL"))
        );
        let bad = ConversationSweeperConfig::from_env(env(&[("TABLE_NAME", "t"), ("CONVERSATION_IDLE_MINUTES", "0")]));
        let message = bad.unwrap_err().to_string();
        assert!(message.contains("CONVERSATION_IDLE_MINUTES") && message.contains("`0`"), "{message}");
    }

    #[test]
    fn usage_is_exposed_only_when_asked() {
        let base = [
            ("TABLE_NAME", "t"),
            ("EXPORTS_BUCKET", "b"),
            ("EXPORTS_QUEUE_URL", "q"),
            ("CURSOR_KEY", "0123456789abcdef0123456789abcdef"),
            ("KEY_PEPPER", "fedcba9876543210fedcba9876543210"),
        ];
        assert!(!ApiConfig::from_env(env(&base)).unwrap().expose_usage);
        let on = [&base[..], &[("EXPOSE_DDB_USAGE", "1")]].concat();
        assert!(ApiConfig::from_env(env(&on)).unwrap().expose_usage);
    }

    #[test]
    fn key_authenticating_functions_need_a_long_pepper_and_never_show_it() {
        let base = [
            ("TABLE_NAME", "t"),
            ("EXPORTS_BUCKET", "b"),
            ("EXPORTS_QUEUE_URL", "q"),
            ("CURSOR_KEY", "0123456789abcdef0123456789abcdef"),
        ];
        assert_eq!(DashboardConfig::from_env(env(&base)).unwrap_err(), ConfigError::Missing("KEY_PEPPER"));
        let short = [&base[..], &[("KEY_PEPPER", "short pepper")]].concat();
        let message = ApiConfig::from_env(env(&short)).unwrap_err().to_string();
        assert!(message.contains("KEY_PEPPER") && !message.contains("short pepper"), "{message}");
    }
}
