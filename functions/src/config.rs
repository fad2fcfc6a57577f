//! Each function's configuration and wiring, written once. A configuration is read from
//! variables by name (`from_env`): the process environment on Lambda, the template's
//! values in the local server; its defaults are here and nowhere else. Its `build` makes
//! the function's handler state from the configuration and the AWS clients. The Lambda
//! mains and the local server both go through these, so they cannot drift.

use crate::api::exports::ExportSettings;
use crate::api::imports::ImportSettings;
use crate::api::Api;
use crate::bot_cache::BotCache;
use crate::bucket::Bucket;
use crate::capture_queue::{CaptureQueue, DeadLetters};
use crate::capture_worker::{GraphProfiles, Worker};
use crate::crm_sync::fanout::Fanout;
use crate::crm_sync::message::SyncQueue;
use crate::crm_sync::SyncWorker;
use crate::dashboard::Dashboard;
use crate::export_worker::ExportWorker;
use crate::import_worker::ImportWorker;
use crate::jobs::{Dispatcher, GdprJobs, JobQueue, JobsWorker};
use crate::webhooks::Webhooks;
use crate::work_queue::WorkQueue;
use aws_config::BehaviorVersion;
use chrono::{DateTime, Utc};
use model::auth::KeyPepper;
use model::integration::address::AddressPolicy;
use model::listing::CursorKey;
use model::usecases::capture::CaptureSettings;
use model::usecases::exports::MAX_RUNNING_EXPORTS;
use store::{Secrets, SecretsKey, Store};

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

    /// How bots' channel secrets and integrations' credentials are sealed: the stack's KMS
    /// key (`SECRETS_KMS_KEY_ID`), and the key of values sealed before KMS (`SECRETS_KEY`,
    /// 64 hex digits), while a stack still has some.
    fn secrets(&self) -> Result<SecretsConfig, ConfigError> {
        let legacy = match (self.0)("SECRETS_KEY").filter(|v| !v.is_empty()) {
            None => None,
            Some(hex) => Some(SecretsKey::from_hex(&hex).map_err(|_| ConfigError::Invalid {
                name: "SECRETS_KEY",
                value: "(hidden)".into(),
                expected: "64 hex digits (openssl rand -hex 32), or unset",
            })?),
        };
        Ok(SecretsConfig { kms_key: self.required("SECRETS_KMS_KEY_ID")?, legacy })
    }

    fn key_cache(&self) -> Result<std::time::Duration, ConfigError> {
        let default = crate::http::auth::DEFAULT_CACHE_TTL.as_secs();
        let seconds = (self.0)("KEY_CACHE_SECONDS").map_or(Ok(default), |v| v.parse::<u64>().map_err(|_| v));
        match seconds {
            Ok(s) if (1..=300).contains(&s) => Ok(std::time::Duration::from_secs(s)),
            Ok(s) => Err(s.to_string()),
            Err(v) => Err(v),
        }
        .map_err(|value| ConfigError::Invalid {
            name: "KEY_CACHE_SECONDS",
            value,
            expected: "1 to 300 seconds",
        })
    }

    fn address_policy(&self) -> AddressPolicy {
        AddressPolicy { allow_local_http: self.flag("INTEGRATIONS_ALLOW_LOCAL_HTTP") }
    }

    /// The table every function uses (`TABLE_NAME`, set for all by the template's globals).
    fn table(&self) -> Result<String, ConfigError> {
        self.required("TABLE_NAME")
    }

    /// `JOB_TIME_BUDGET_SECONDS`: how long one run of a job or of the export or import worker may work
    /// before it saves its place and hands the rest on (default: the function's timeout less
    /// a margin).
    fn time_budget(&self) -> Result<TimeBudget, ConfigError> {
        Ok(match (self.0)("JOB_TIME_BUDGET_SECONDS") {
            None => TimeBudget::default(),
            Some(_) => TimeBudget::seconds(self.positive("JOB_TIME_BUDGET_SECONDS", 1)?),
        })
    }

    /// How long a conversation may stay silent before it is over (`CONVERSATION_IDLE_MINUTES`, default 30).
    fn conversation_idle(&self) -> Result<chrono::Duration, ConfigError> {
        Ok(chrono::Duration::minutes(self.positive("CONVERSATION_IDLE_MINUTES", 30)?.into()))
    }
}

/// How long one run of a job or of the export worker may work: until its Lambda's deadline
/// less a margin for saving its place (a fifth of the time left, at most a minute), or
/// less when `JOB_TIME_BUDGET_SECONDS` says so (tests prove continuation with 1 or 2 s).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeBudget {
    configured: Option<u32>,
}

impl TimeBudget {
    pub fn seconds(seconds: u32) -> Self {
        TimeBudget { configured: Some(seconds) }
    }

    /// When a run that Lambda stops at `lambda_deadline` must hand on what is left.
    pub fn stop_at(&self, lambda_deadline: DateTime<Utc>) -> DateTime<Utc> {
        let now = Utc::now();
        let margin = ((lambda_deadline - now) / 5).clamp(chrono::Duration::zero(), chrono::Duration::seconds(60));
        let by_timeout = lambda_deadline - margin;
        match self.configured {
            Some(s) => by_timeout.min(now + chrono::Duration::seconds(s.into())),
            None => by_timeout,
        }
    }
}

/// The deadline of a Lambda invocation (`Context::deadline`, epoch milliseconds).
pub fn lambda_deadline(context: &lambda_runtime::Context) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(context.deadline as i64).unwrap_or_else(Utc::now)
}

/// How a function seals and opens secrets: the KMS key (`SECRETS_KMS_KEY_ID`), and the key
/// of values sealed before KMS (`SECRETS_KEY`), if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretsConfig {
    pub kms_key: String,
    pub legacy: Option<SecretsKey>,
}

impl SecretsConfig {
    /// Built once per execution environment: the data keys it unwraps are kept for its life.
    pub fn build(&self, aws: &Clients) -> Secrets {
        let secrets = Secrets::new(aws.kms.clone(), &self.kms_key);
        match &self.legacy {
            Some(key) => secrets.opening_legacy(key.clone()),
            None => secrets,
        }
    }
}

/// The AWS clients, built once per execution environment from the shared SDK configuration.
#[derive(Debug, Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
}

impl Clients {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            s3: crate::bucket::client(sdk),
            kms: aws_sdk_kms::Client::new(sdk),
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

/// Functions that need only the table: the analytics rollup (and the `provision` tool).
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

/// The `sync-fanout` function: the table's changes to the sync queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncFanoutConfig {
    pub table: String,
    /// `SYNC_QUEUE_URL`.
    pub queue_url: String,
}

impl SyncFanoutConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(SyncFanoutConfig { table: vars.table()?, queue_url: vars.required("SYNC_QUEUE_URL")? })
    }

    pub fn build(&self, aws: &Clients) -> Fanout {
        Fanout { store: aws.store(&self.table), queue: SyncQueue::new(aws.sqs.clone(), &self.queue_url) }
    }
}

/// The `crm-sync` function: sends queued changes to each integration's vendor.
#[derive(Debug, Clone)]
pub struct CrmSyncConfig {
    pub table: String,
    /// `SYNC_QUEUE_URL`: where changes to retry are queued again (with a delay).
    pub queue_url: String,
    /// `SYNC_DLQ_URL`: where changes out of attempts go.
    pub dead_letter_url: String,
    pub secrets: SecretsConfig,
    pub addresses: AddressPolicy,
}

impl CrmSyncConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(CrmSyncConfig {
            table: vars.table()?,
            queue_url: vars.required("SYNC_QUEUE_URL")?,
            dead_letter_url: vars.required("SYNC_DLQ_URL")?,
            secrets: vars.secrets()?,
            addresses: vars.address_policy(),
        })
    }

    pub fn build(&self, aws: &Clients) -> SyncWorker {
        SyncWorker {
            store: aws.store(&self.table).sealing_secrets(self.secrets.build(aws)),
            queue: SyncQueue::new(aws.sqs.clone(), &self.queue_url),
            dead_letters: SyncQueue::new(aws.sqs.clone(), &self.dead_letter_url),
            http: crate::crm_sync::http::client(self.addresses.allow_local_http),
        }
    }
}

/// A scheduled job's dispatcher (`retention`, `contact-purger`, `conversation-sweeper`):
/// the table to list workspaces from and the jobs queue to fan out on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatcherConfig {
    pub table: String,
    /// `JOBS_QUEUE_URL`.
    pub jobs_queue_url: String,
}

impl DispatcherConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(DispatcherConfig { table: vars.table()?, jobs_queue_url: vars.required("JOBS_QUEUE_URL")? })
    }

    pub fn build(&self, aws: &Clients) -> Dispatcher {
        Dispatcher { store: aws.store(&self.table), queue: JobQueue::new(aws.sqs.clone(), &self.jobs_queue_url) }
    }
}

/// The `jobs-worker` function: one unit of a scheduled job per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsWorkerConfig {
    pub table: String,
    /// `JOBS_QUEUE_URL`: where the rest of a unit goes.
    pub jobs_queue_url: String,
    pub budget: TimeBudget,
    pub conversation_idle: chrono::Duration,
    /// `EXPORTS_BUCKET`: where erasures delete the files that may hold the person.
    pub exports_bucket: String,
}

impl JobsWorkerConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(JobsWorkerConfig {
            table: vars.table()?,
            jobs_queue_url: vars.required("JOBS_QUEUE_URL")?,
            budget: vars.time_budget()?,
            conversation_idle: vars.conversation_idle()?,
            exports_bucket: vars.required("EXPORTS_BUCKET")?,
        })
    }

    pub fn build(&self, aws: &Clients) -> JobsWorker {
        JobsWorker {
            store: aws.store(&self.table),
            queue: JobQueue::new(aws.sqs.clone(), &self.jobs_queue_url),
            budget: self.budget,
            idle: self.conversation_idle,
            exports: Bucket::new(aws.s3.clone(), &self.exports_bucket),
        }
    }
}

/// Where the API and the dashboard hand on erasures and access documents that outgrow a
/// request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GdprJobsConfig {
    /// `JOBS_QUEUE_URL`; without it erasures and access documents are refused.
    pub jobs_queue_url: Option<String>,
    /// `ERASURE_INLINE_SECONDS` (0 to 8, default 5): how long a request works on an
    /// erasure before handing it on (the functions time out at 10 s).
    pub erasure_inline_seconds: u32,
    /// `ACCESS_EXPORT_INLINE_SECONDS` (0 to 8, default 5), the same for an access document.
    pub access_inline_seconds: u32,
}

impl GdprJobsConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let seconds = |name: &'static str| match vars(name) {
            None => Ok(5),
            Some(value) => value.parse::<u32>().ok().filter(|n| *n <= 8).ok_or(ConfigError::Invalid {
                name,
                value,
                expected: "a whole number of seconds from 0 to 8",
            }),
        };
        Ok(GdprJobsConfig {
            jobs_queue_url: vars("JOBS_QUEUE_URL"),
            erasure_inline_seconds: seconds("ERASURE_INLINE_SECONDS")?,
            access_inline_seconds: seconds("ACCESS_EXPORT_INLINE_SECONDS")?,
        })
    }

    pub fn build(&self, aws: &Clients) -> Option<GdprJobs> {
        self.jobs_queue_url.as_ref().map(|url| GdprJobs {
            queue: JobQueue::new(aws.sqs.clone(), url),
            erasure_inline: chrono::Duration::seconds(self.erasure_inline_seconds.into()),
            access_inline: chrono::Duration::seconds(self.access_inline_seconds.into()),
        })
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
    /// Exports a workspace may have queued or running at once (`MAX_RUNNING_EXPORTS`, default 3).
    pub max_running: u32,
    /// `ACCESS_EXPORT_INLINE_BYTES` (default 5,000,000): a larger access document is stored
    /// and answered with a link (a Lambda answer holds at most 6 MB).
    pub access_inline_bytes: u32,
}

impl ExportsConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(ExportsConfig {
            bucket: vars.required("EXPORTS_BUCKET")?,
            queue_url: vars.required("EXPORTS_QUEUE_URL")?,
            link_minutes: vars.positive("EXPORT_LINK_MINUTES", 15)?,
            retention_days: vars.positive("EXPORT_RETENTION_DAYS", 7)?,
            max_running: vars.positive("MAX_RUNNING_EXPORTS", MAX_RUNNING_EXPORTS as u32)?,
            access_inline_bytes: vars.positive("ACCESS_EXPORT_INLINE_BYTES", 5_000_000)?,
        })
    }

    pub fn build(&self, aws: &Clients) -> ExportSettings {
        ExportSettings {
            bucket: Bucket::new(aws.s3.clone(), &self.bucket),
            queue: WorkQueue::new(aws.sqs.clone(), &self.queue_url),
            link_expiry: std::time::Duration::from_secs(u64::from(self.link_minutes) * 60),
            retention_days: self.retention_days.into(),
            max_running: self.max_running as usize,
            access_inline_bytes: self.access_inline_bytes as usize,
        }
    }
}

/// What uploading and following imports needs (the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportsConfig {
    /// `IMPORTS_BUCKET`.
    pub bucket: String,
    /// `IMPORTS_QUEUE_URL`.
    pub queue_url: String,
    /// How long an upload or report link works (`IMPORT_LINK_MINUTES`, default 15).
    pub link_minutes: u32,
}

impl ImportsConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(ImportsConfig {
            bucket: vars.required("IMPORTS_BUCKET")?,
            queue_url: vars.required("IMPORTS_QUEUE_URL")?,
            link_minutes: vars.positive("IMPORT_LINK_MINUTES", 15)?,
        })
    }

    pub fn build(&self, aws: &Clients) -> ImportSettings {
        ImportSettings {
            bucket: Bucket::new(aws.s3.clone(), &self.bucket),
            queue: WorkQueue::new(aws.sqs.clone(), &self.queue_url),
            link_expiry: std::time::Duration::from_secs(u64::from(self.link_minutes) * 60),
        }
    }
}

/// The `contacts-api` function.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub table: String,
    pub exports: ExportsConfig,
    pub imports: ImportsConfig,
    pub cursors: CursorKey,
    pub pepper: KeyPepper,
    pub secrets: SecretsConfig,
    /// `EXPOSE_DDB_USAGE=1`: responses carry their DynamoDB usage in `Server-Timing`.
    pub expose_usage: bool,
    /// `KEY_CACHE_SECONDS` (1 to 300, default 5): how long a verified key is trusted without
    /// another read, so how long a revoked one may still work.
    pub key_cache: std::time::Duration,
    /// `INTEGRATIONS_ALLOW_LOCAL_HTTP=1` (local stack and tests only): integrations may
    /// send to `http://127.0.0.1:…`.
    pub integrations: AddressPolicy,
    /// `SYNC_QUEUE_URL`: where integrations' resyncs are queued.
    pub sync_queue_url: Option<String>,
    /// `CAPTURE_QUEUE_URL`: where the bots' sent messages are queued for capture.
    pub capture_queue_url: Option<String>,
    pub gdpr_jobs: GdprJobsConfig,
}

impl ApiConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(ApiConfig {
            table: vars.table()?,
            exports: ExportsConfig::from_env(&vars.0)?,
            imports: ImportsConfig::from_env(&vars.0)?,
            cursors: vars.cursor_key()?,
            pepper: vars.key_pepper()?,
            secrets: vars.secrets()?,
            expose_usage: vars.flag("EXPOSE_DDB_USAGE"),
            key_cache: vars.key_cache()?,
            integrations: vars.address_policy(),
            sync_queue_url: (vars.0)("SYNC_QUEUE_URL"),
            capture_queue_url: (vars.0)("CAPTURE_QUEUE_URL"),
            gdpr_jobs: GdprJobsConfig::from_env(&vars.0)?,
        })
    }

    pub fn build(&self, aws: &Clients) -> Api {
        let mut api = Api {
            expose_usage: self.expose_usage,
            integrations: self.integrations,
            sync: self.sync_queue_url.as_ref().map(|url| SyncQueue::new(aws.sqs.clone(), url)),
            capture: self.capture_queue_url.as_ref().map(|url| CaptureQueue::new(aws.sqs.clone(), url)),
            exports: Some(self.exports.build(aws)),
            imports: Some(self.imports.build(aws)),
            gdpr_jobs: self.gdpr_jobs.build(aws),
            ..Api::new(
                aws.store(&self.table).sealing_secrets(self.secrets.build(aws)),
                self.cursors.clone(),
                self.pepper.clone(),
            )
        };
        api.auth.set_cache_ttl(self.key_cache);
        api
    }
}

/// The `dashboard` function.
#[derive(Debug, Clone)]
pub struct DashboardConfig {
    pub table: String,
    pub exports: ExportsConfig,
    pub imports: ImportsConfig,
    pub cursors: CursorKey,
    pub pepper: KeyPepper,
    pub secrets: SecretsConfig,
    /// `INTEGRATIONS_ALLOW_LOCAL_HTTP=1` (local stack and tests only), as for the API.
    pub integrations: AddressPolicy,
    /// `SYNC_QUEUE_URL`: where integrations' resyncs are queued.
    pub sync_queue_url: Option<String>,
    pub gdpr_jobs: GdprJobsConfig,
}

impl DashboardConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(DashboardConfig {
            table: vars.table()?,
            exports: ExportsConfig::from_env(&vars.0)?,
            imports: ImportsConfig::from_env(&vars.0)?,
            cursors: vars.cursor_key()?,
            pepper: vars.key_pepper()?,
            secrets: vars.secrets()?,
            integrations: vars.address_policy(),
            sync_queue_url: (vars.0)("SYNC_QUEUE_URL"),
            gdpr_jobs: GdprJobsConfig::from_env(&vars.0)?,
        })
    }

    pub fn build(&self, aws: &Clients) -> Dashboard {
        Dashboard {
            gdpr_jobs: self.gdpr_jobs.build(aws),
            exports: Some(self.exports.build(aws)),
            imports: Some(self.imports.build(aws)),
            integrations: self.integrations,
            sync: self.sync_queue_url.as_ref().map(|url| SyncQueue::new(aws.sqs.clone(), url)),
            ..Dashboard::new(
                aws.store(&self.table).sealing_secrets(self.secrets.build(aws)),
                self.cursors.clone(),
                self.pepper.clone(),
            )
        }
    }
}

/// The `webhooks` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhooksConfig {
    pub table: String,
    /// `CAPTURE_QUEUE_URL`.
    pub capture_queue_url: String,
    pub secrets: SecretsConfig,
}

impl WebhooksConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(WebhooksConfig {
            table: vars.table()?,
            capture_queue_url: vars.required("CAPTURE_QUEUE_URL")?,
            secrets: vars.secrets()?,
        })
    }

    pub fn build(&self, aws: &Clients) -> Webhooks {
        Webhooks {
            bots: BotCache::new(aws.store(&self.table).sealing_secrets(self.secrets.build(aws))),
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
    pub secrets: SecretsConfig,
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
            secrets: vars.secrets()?,
        })
    }

    pub fn build(&self, aws: &Clients) -> Worker {
        // Settings and bots change rarely and every event needs them: read once a minute.
        let store = aws
            .store(&self.table)
            .caching_settings(std::time::Duration::from_secs(60))
            .sealing_secrets(self.secrets.build(aws));
        Worker {
            bots: BotCache::new(store.clone()),
            store,
            settings: CaptureSettings { idle: self.conversation_idle },
            profiles: GraphProfiles::new(&self.graph_api_base),
            dead_letters: DeadLetters::new(aws.sqs.clone(), &self.dead_letter_queue_url),
        }
    }
}

/// The `export-worker` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportWorkerConfig {
    pub table: String,
    /// `EXPORTS_BUCKET`.
    pub bucket: String,
    /// `EXPORTS_QUEUE_URL`: where a run hands on the rest of an export.
    pub queue_url: String,
    pub budget: TimeBudget,
}

impl ExportWorkerConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(ExportWorkerConfig {
            table: vars.table()?,
            bucket: vars.required("EXPORTS_BUCKET")?,
            queue_url: vars.required("EXPORTS_QUEUE_URL")?,
            budget: vars.time_budget()?,
        })
    }

    pub fn build(&self, aws: &Clients) -> ExportWorker {
        ExportWorker {
            store: aws.store(&self.table),
            bucket: Bucket::new(aws.s3.clone(), &self.bucket),
            queue: WorkQueue::new(aws.sqs.clone(), &self.queue_url),
            budget: self.budget,
        }
    }
}

/// The `import-worker` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportWorkerConfig {
    pub table: String,
    /// `IMPORTS_BUCKET`.
    pub bucket: String,
    /// `IMPORTS_QUEUE_URL`: where a run hands on the rest of an import.
    pub queue_url: String,
    pub budget: TimeBudget,
}

impl ImportWorkerConfig {
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        Ok(ImportWorkerConfig {
            table: vars.table()?,
            bucket: vars.required("IMPORTS_BUCKET")?,
            queue_url: vars.required("IMPORTS_QUEUE_URL")?,
            budget: vars.time_budget()?,
        })
    }

    pub fn build(&self, aws: &Clients) -> ImportWorker {
        ImportWorker {
            store: aws.store(&self.table),
            bucket: Bucket::new(aws.s3.clone(), &self.bucket),
            queue: WorkQueue::new(aws.sqs.clone(), &self.queue_url),
            budget: self.budget,
        }
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

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn functions_that_read_bots_need_the_kms_key_and_a_legacy_key_only_as_64_digits() {
        let base = [("TABLE_NAME", "t"), ("CAPTURE_QUEUE_URL", "q")];
        assert_eq!(WebhooksConfig::from_env(env(&base)), Err(ConfigError::Missing("SECRETS_KMS_KEY_ID")));
        let kms = [&base[..], &[("SECRETS_KMS_KEY_ID", "alias/secrets")]].concat();
        let config = WebhooksConfig::from_env(env(&kms)).unwrap();
        assert_eq!(config.secrets, SecretsConfig { kms_key: "alias/secrets".into(), legacy: None });
        let empty = [&kms[..], &[("SECRETS_KEY", "")]].concat();
        assert_eq!(WebhooksConfig::from_env(env(&empty)).unwrap().secrets.legacy, None, "empty is unset");
        let short = [&kms[..], &[("SECRETS_KEY", "abc123")]].concat();
        let message = WebhooksConfig::from_env(env(&short)).unwrap_err().to_string();
        assert!(message.contains("SECRETS_KEY") && !message.contains("abc123"), "{message}");
        let legacy = [&kms[..], &[("SECRETS_KEY", KEY)]].concat();
        let config = WebhooksConfig::from_env(env(&legacy)).unwrap();
        assert!(config.secrets.legacy.is_some() && !format!("{config:?}").contains(KEY));
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_apply_when_a_variable_is_absent() {
        let c = CaptureWorkerConfig::from_env(env(&[
            ("TABLE_NAME", "t"),
            ("CAPTURE_DLQ_URL", "d"),
            ("SECRETS_KMS_KEY_ID", "alias/secrets"),
        ]))
        .unwrap();
        assert_eq!(c.conversation_idle, chrono::Duration::minutes(30));
        assert_eq!(c.graph_api_base, CaptureWorkerConfig::DEFAULT_GRAPH_API_BASE);
        let e = ExportsConfig::from_env(env(&[("EXPORTS_BUCKET", "b"), ("EXPORTS_QUEUE_URL", "q")])).unwrap();
        assert_eq!((e.link_minutes, e.retention_days, e.max_running), (15, 7, 3));
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(
            WebhooksConfig::from_env(env(&[("TABLE_NAME", "t")])),
            Err(ConfigError::Missing("CAPTURE_QUEUE_URL"))
        );
        let bad = JobsWorkerConfig::from_env(env(&[
            ("TABLE_NAME", "t"),
            ("JOBS_QUEUE_URL", "q"),
            ("CONVERSATION_IDLE_MINUTES", "0"),
        ]));
        let message = bad.unwrap_err().to_string();
        assert!(message.contains("CONVERSATION_IDLE_MINUTES") && message.contains("`0`"), "{message}");
    }

    #[test]
    fn a_run_stops_before_its_lambda_with_a_margin_or_within_its_budget() {
        let deadline = Utc::now() + chrono::Duration::seconds(900);
        let stop = TimeBudget::default().stop_at(deadline);
        assert!((deadline - stop - chrono::Duration::seconds(60)).num_seconds().abs() <= 1, "a minute of 15");
        let short = Utc::now() + chrono::Duration::seconds(10);
        assert!((short - TimeBudget::default().stop_at(short)).num_seconds() >= 1, "a fifth of 10 s");
        let two = TimeBudget::seconds(2).stop_at(deadline) - Utc::now();
        assert!(two <= chrono::Duration::seconds(2) && two > chrono::Duration::seconds(1));
        let c = ExportWorkerConfig::from_env(env(&[
            ("TABLE_NAME", "t"),
            ("EXPORTS_BUCKET", "b"),
            ("EXPORTS_QUEUE_URL", "q"),
            ("JOB_TIME_BUDGET_SECONDS", "2"),
        ]))
        .unwrap();
        assert_eq!(c.budget, TimeBudget::seconds(2));
        let imports = ImportWorkerConfig::from_env(env(&[
            ("TABLE_NAME", "t"),
            ("IMPORTS_BUCKET", "ib"),
            ("IMPORTS_QUEUE_URL", "iq"),
            ("JOB_TIME_BUDGET_SECONDS", "2"),
        ]))
        .unwrap();
        assert_eq!((imports.bucket.as_str(), imports.budget), ("ib", TimeBudget::seconds(2)));
        let zero = JobsWorkerConfig::from_env(env(&[
            ("TABLE_NAME", "t"),
            ("JOBS_QUEUE_URL", "q"),
            ("JOB_TIME_BUDGET_SECONDS", "0"),
        ]));
        assert!(zero.unwrap_err().to_string().contains("JOB_TIME_BUDGET_SECONDS"));
    }

    #[test]
    fn usage_is_exposed_only_when_asked() {
        let base = [
            ("TABLE_NAME", "t"),
            ("EXPORTS_BUCKET", "b"),
            ("EXPORTS_QUEUE_URL", "q"),
            ("IMPORTS_BUCKET", "ib"),
            ("IMPORTS_QUEUE_URL", "iq"),
            ("CURSOR_KEY", "0123456789abcdef0123456789abcdef"),
            ("KEY_PEPPER", "fedcba9876543210fedcba9876543210"),
            ("SECRETS_KMS_KEY_ID", "alias/secrets"),
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
            ("IMPORTS_BUCKET", "ib"),
            ("IMPORTS_QUEUE_URL", "iq"),
            ("CURSOR_KEY", "0123456789abcdef0123456789abcdef"),
        ];
        assert_eq!(DashboardConfig::from_env(env(&base)).unwrap_err(), ConfigError::Missing("KEY_PEPPER"));
        let short = [&base[..], &[("KEY_PEPPER", "short pepper")]].concat();
        let message = ApiConfig::from_env(env(&short)).unwrap_err().to_string();
        assert!(message.contains("KEY_PEPPER") && !message.contains("short pepper"), "{message}");
    }
}
