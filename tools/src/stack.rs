//! The whole service in one process: the template's table and queues on the emulator,
//! its HTTP routes on a local server, its queue consumers polling, its schedules ticking.

use crate::bootstrap;
use crate::function::{HttpHandler, JobHandler, Local, QueueHandler};
use crate::handlers::{self, BuildError};
use crate::local;
use crate::server::{MissingHandler, Router};
use crate::streams::{self, Mapping, Progress};
use crate::template::Template;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use contacts_functions::config::Clients;
use model::auth::KeyPepper;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use store::{Secrets, Store};
use tokio::task::JoinHandle;

pub struct StackOptions {
    pub table: String,
    /// Prefix of the queue and bucket names, so stacks can share an emulator.
    pub queue_prefix: String,
    /// Adds DynamoDB usage to responses (`Server-Timing`): sets `EXPOSE_DDB_USAGE=1`.
    pub expose_usage: bool,
    /// Environment values that replace the template's (e.g. `GRAPH_API_BASE`).
    pub overrides: HashMap<String, String>,
    /// How soon a failed queue message is retried. Lambda waits for the visibility timeout;
    /// locally that would make retries (and redrives to the dead-letter queue) take minutes.
    pub retry_after: Duration,
}

pub struct Stack {
    pub store: Store,
    pub router: Arc<Router>,
    pub queue_urls: HashMap<String, String>,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    /// Bucket names by logical id.
    pub buckets: HashMap<String, String>,
    /// The ARN of the KMS key that wraps the workspaces' data keys ([`SECRETS_KMS_KEY`]).
    pub secrets_kms_key: String,
    /// Scheduled jobs by binary name, to run at once on demand.
    pub jobs: HashMap<String, JobHandler>,
    /// How far each stream consumer has read.
    streams: Vec<Progress>,
    tasks: Vec<JoinHandle<()>>,
}

impl Stack {
    /// Returns once the stream consumers have been handed every change written before the
    /// call: the counters and daily activity they keep are then current.
    pub async fn settled(&self) {
        for progress in &self.streams {
            progress.settled().await;
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// Why the local stack did not start.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("the template declares no table")]
    NoTable,
    #[error("the template declares no KMS key {SECRETS_KMS_KEY}")]
    NoSecretsKmsKey,
    #[error("cannot create the emulator's resources: {0}")]
    Bootstrap(String),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Routes(#[from] MissingHandler),
    #[error("{function} consumes unknown queue {queue}")]
    UnknownQueue { function: String, queue: String },
    #[error("{function}: cannot run schedule `{expression}` locally")]
    Schedule { function: String, expression: String },
    #[error("{function} reads the stream of {table}, which the template does not declare as a table with a stream")]
    UnknownStream { function: String, table: String },
    #[error("{function}: cannot follow the stream: {reason}")]
    Stream { function: String, reason: String },
}

/// The key that signs cursors locally (dev and tests): public, so it must never reach AWS.
pub const LOCAL_CURSOR_KEY: &str = "local-only-cursor-key-not-a-secret";

/// The pepper API keys are hashed under locally (dev, tests, `provision` against the
/// emulator): public, so it must never reach AWS.
pub const LOCAL_KEY_PEPPER: &str = "local-only-key-pepper-not-a-secret";

/// The prefix of `make dev`'s queues, bucket and key: `provision` finds its key by it.
pub const DEV_PREFIX: &str = "local";

/// The template's KMS key that wraps the workspaces' data keys (`SECRETS_KMS_KEY_ID`).
/// Locally it is a key of the emulator, made at the stack's start ([`bootstrap::create_kms_keys`]).
pub const SECRETS_KMS_KEY: &str = "SecretsKmsKey";

/// How the local stack, and tools beside it, seal secrets: under the emulator's key.
pub fn local_secrets(sdk: &aws_config::SdkConfig, kms_key: &str) -> Secrets {
    Secrets::new(aws_sdk_kms::Client::new(sdk), kms_key)
}

/// `LOCAL_KEY_PEPPER`, for provisioning keys the local stack accepts.
pub fn local_key_pepper() -> KeyPepper {
    KeyPepper::new(LOCAL_KEY_PEPPER).expect("the local pepper is long enough")
}

pub async fn start(
    sdk: &aws_config::SdkConfig,
    template: &Template,
    options: StackOptions,
) -> Result<Stack, StackError> {
    let aws = Clients::new(sdk);
    let (sqs, s3) = (aws.sqs.clone(), aws.s3.clone());
    let table_spec = template.tables.first().ok_or(StackError::NoTable)?;
    bootstrap::create_table(&aws.dynamodb, table_spec, &options.table).await.map_err(StackError::Bootstrap)?;
    let kms_keys = bootstrap::create_kms_keys(&aws.kms, &template.kms_keys, &options.queue_prefix)
        .await
        .map_err(StackError::Bootstrap)?;
    let secrets_kms_key = kms_keys.get(SECRETS_KMS_KEY).ok_or(StackError::NoSecretsKmsKey)?.clone();
    let store = Store::new(aws.dynamodb.clone(), &options.table).sealing_secrets(local_secrets(sdk, &secrets_kms_key));
    let queue_urls =
        bootstrap::create_queues(&sqs, &template.queues, &options.queue_prefix).await.map_err(StackError::Bootstrap)?;

    let mut resolved: HashMap<String, String> = template.parameters.iter().cloned().collect();
    let days = |v: &crate::template::EnvValue| match v {
        crate::template::EnvValue::Text(t) => t.parse().ok(),
        crate::template::EnvValue::Ref(r) => resolved.get(r).and_then(|d| d.parse().ok()),
    };
    let buckets = bootstrap::create_buckets(&s3, &template.buckets, &options.queue_prefix, days)
        .await
        .map_err(StackError::Bootstrap)?;
    resolved.extend(queue_urls.clone());
    resolved.extend(buckets.clone());
    resolved.extend(kms_keys);
    resolved.insert(table_spec.logical_id.clone(), options.table.clone());
    // The template's `CursorKey` has no default (each deployment sets its own secret); the
    // local stack signs cursors with a fixed, public key, never used on AWS.
    resolved.entry("CursorKey".to_string()).or_insert_with(|| LOCAL_CURSOR_KEY.to_string());
    // Likewise `KeyPepper`: local keys are hashed under a public pepper.
    resolved.entry("KeyPepper".to_string()).or_insert_with(|| LOCAL_KEY_PEPPER.to_string());
    let mut overrides = options.overrides.clone();
    if options.expose_usage {
        overrides.entry("EXPOSE_DDB_USAGE".to_string()).or_insert_with(|| "1".to_string());
    }
    // Local vendors and webhook receivers listen on the loopback interface (docs/integrations.md).
    overrides.entry("INTEGRATIONS_ALLOW_LOCAL_HTTP".to_string()).or_insert_with(|| "1".to_string());
    let mut http: HashMap<String, HttpHandler> = HashMap::new();
    let mut jobs = HashMap::new();
    let mut tasks = Vec::new();
    let mut streams = Vec::new();
    for function in &template.functions {
        let env = handlers::environment(function, &resolved, &overrides)?;
        // Each function signs as itself (its logical id), so its requests can be held to its policy.
        let function_aws = Clients::new(&local::signing_as(sdk, &function.logical_id));
        match handlers::build(function, &env, &function_aws)? {
            Local::Http(h) => {
                http.insert(function.binary.clone(), h);
            }
            Local::Queue(h) => {
                for queue in &function.queues {
                    let url = queue_urls.get(queue).ok_or_else(|| StackError::UnknownQueue {
                        function: function.logical_id.clone(),
                        queue: queue.clone(),
                    })?;
                    tasks.push(tokio::spawn(poll(sqs.clone(), url.clone(), h.clone(), options.retry_after)));
                }
            }
            Local::Job(h) => {
                for expression in &function.schedules {
                    let every = rate(expression).ok_or_else(|| StackError::Schedule {
                        function: function.logical_id.clone(),
                        expression: expression.clone(),
                    })?;
                    tasks.push(tokio::spawn(tick(function.binary.clone(), every, h.clone())));
                }
                jobs.insert(function.binary.clone(), h);
            }
            Local::Stream(h) => {
                for source in &function.streams {
                    if source.table != table_spec.logical_id || table_spec.stream_view.is_none() {
                        return Err(StackError::UnknownStream {
                            function: function.logical_id.clone(),
                            table: source.table.clone(),
                        });
                    }
                    let mapping = Mapping {
                        from_latest: source.from_latest,
                        batch_size: source.batch_size,
                        max_retries: source.max_retries,
                        on_failure: source.on_failure.as_ref().and_then(|q| queue_urls.get(q)).cloned(),
                        retry_after: options.retry_after,
                    };
                    let (progress, task) =
                        streams::follow(sdk, &aws.dynamodb, sqs.clone(), &options.table, mapping, h.clone())
                            .await
                            .map_err(|reason| StackError::Stream { function: function.logical_id.clone(), reason })?;
                    streams.push(progress);
                    tasks.push(task);
                }
            }
        }
    }
    let router = Arc::new(Router::from_template(template, &http)?.with_jobs(jobs.clone()));
    Ok(Stack { store, router, queue_urls, sqs, s3, buckets, secrets_kms_key, jobs, streams, tasks })
}

/// `rate(5 minutes)` → 5 minutes.
pub fn rate(expression: &str) -> Option<Duration> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    let seconds = match unit.trim_end_matches('s') {
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n * seconds))
}

async fn tick(name: String, every: Duration, job: JobHandler) {
    let mut interval = tokio::time::interval(every);
    interval.tick().await;
    loop {
        interval.tick().await;
        match job().await {
            Ok(summary) => tracing::info!(job = %name, %summary, "scheduled job ran"),
            Err(e) => tracing::error!(job = %name, error = %e, "scheduled job failed"),
        }
    }
}

/// Long-polls a queue and invokes the consumer as the Lambda event source mapping would:
/// batches of up to 10, successes deleted, reported failures left for a retry.
async fn poll(sqs: aws_sdk_sqs::Client, url: String, handler: QueueHandler, retry_after: Duration) {
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "queue poll failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let mut event = SqsEvent::default();
        event.records = messages.iter().map(lambda_record).collect();
        let response = handler(event).await;
        let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        let mut done = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let (Some(id), Some(receipt)) = (m.message_id(), m.receipt_handle()) else { continue };
            if failed.contains(&id) {
                let retry = sqs
                    .change_message_visibility()
                    .queue_url(&url)
                    .receipt_handle(receipt)
                    .visibility_timeout(retry_after.as_secs() as i32)
                    .send()
                    .await;
                if let Err(e) = retry {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "could not schedule a retry");
                }
            } else {
                done.push(
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(receipt)
                        .build()
                        .expect("id and receipt"),
                );
            }
        }
        if !done.is_empty() {
            if let Err(e) = sqs.delete_message_batch().queue_url(&url).set_entries(Some(done)).send().await {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "could not delete processed messages");
            }
        }
    }
}

fn lambda_record(m: &aws_sdk_sqs::types::Message) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = m.message_id.clone();
    record.receipt_handle = m.receipt_handle.clone();
    record.body = m.body.clone();
    record.event_source = Some("aws:sqs".to_string());
    record.attributes = m
        .attributes()
        .map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), v.clone())).collect())
        .unwrap_or_default();
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rate_expressions() {
        assert_eq!(rate("rate(5 minutes)"), Some(Duration::from_secs(300)));
        assert_eq!(rate("rate(1 hour)"), Some(Duration::from_secs(3600)));
        assert_eq!(rate("cron(0 3 * * ? *)"), None);
    }
}
