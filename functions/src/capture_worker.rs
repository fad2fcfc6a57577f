//! The capture worker: SQS FIFO batches of channel events become contacts, conversations
//! and transcripts. Failures are reported per message (ReportBatchItemFailures); once a
//! message of a visitor fails, that visitor's later messages in the batch are returned
//! too, so their order holds. A message that keeps failing goes to the dead-letter queue.

use crate::bot_cache::BotCache;
use crate::capture_queue::{CaptureMessage, DeadLetters};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use futures::FutureExt;
use model::bot::Bot;
use model::channels::CaptureEvent;
use model::domain::Channel;
use model::usecases::capture::{self, CaptureSettings, Captured, ProfileLookup};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use store::meter::metered;
use store::{Store, StoreError};

#[derive(Debug)]
pub struct Worker {
    pub store: Store,
    pub bots: BotCache,
    pub settings: CaptureSettings,
    pub profiles: GraphProfiles,
    pub dead_letters: DeadLetters,
}

/// Each visitor's messages (one FIFO message group) in order, the visitors of a batch at the
/// same time: a batch of ten visitors takes about as long as one.
pub async fn handle(worker: &Worker, event: SqsEvent) -> SqsBatchResponse {
    let mut groups: Vec<(String, Vec<&SqsMessage>)> = Vec::new();
    for record in &event.records {
        let group = record.attributes.get("MessageGroupId").cloned().unwrap_or_default();
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, records)) => records.push(record),
            None => groups.push((group, vec![record])),
        }
    }
    let failures = join_all(groups.iter().map(|(group, records)| handle_group(worker, group, records))).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures.into_iter().flatten().collect();
    response
}

/// One visitor's messages, in order; after a failure the rest are returned too, so their order holds.
async fn handle_group(worker: &Worker, group: &str, records: &[&SqsMessage]) -> Vec<BatchItemFailure> {
    let mut failures = Vec::new();
    for record in records {
        let id = record.message_id.clone().unwrap_or_default();
        if !failures.is_empty() {
            failures.push(failure(id));
            continue;
        }
        let (result, usage) = metered(isolated(process(worker, record))).await;
        match result {
            Ok(outcome) => {
                tracing::info!(sqs_message = %id, outcome = ?outcome, ddb_calls = usage.calls, ddb_write_units = usage.write_units, "captured")
            }
            // Never parses, or makes the code panic: retrying would only hold its visitor's later
            // messages back, so it goes to the dead-letter queue at once (logged without its
            // body: personal data).
            Err(e @ (CaptureFailure::Malformed(_) | CaptureFailure::Panicked(_))) => {
                let body = record.body.as_deref().unwrap_or("");
                match worker.dead_letters.park(body, group, &id).await {
                    Ok(()) => {
                        tracing::error!(sqs_message = %id, error = %e, "not capturable: moved to the dead-letter queue")
                    }
                    Err(park) => {
                        tracing::error!(sqs_message = %id, error = %e, dlq_error = %park, "not capturable, and not parked: left to the queue's redrive");
                        failures.push(failure(id));
                    }
                }
            }
            Err(CaptureFailure::Transient(e)) => {
                tracing::error!(sqs_message = %id, error = %e, "capture failed; the message will be retried");
                failures.push(failure(id));
            }
        }
    }
    failures
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

/// Why a message was not captured.
#[derive(Debug, thiserror::Error)]
enum CaptureFailure {
    /// The body is not a capture message and never will be.
    #[error("{0}")]
    Malformed(serde_json::Error),
    /// The store or the bot lookup failed; a retry may succeed.
    #[error(transparent)]
    Transient(#[from] StoreError),
    /// Capturing it panicked (a bug): the other messages of the batch go on.
    #[error("capture panicked: {0}")]
    Panicked(String),
}

// The isolation below needs unwinding: a build that aborts on panic would lose the batch.
#[cfg(panic = "abort")]
compile_error!("the capture worker isolates each message's panic: build with panic = \"unwind\"");

/// Runs one message's capture so that a panic fails that message only, not the batch.
async fn isolated<F>(capture: F) -> Result<Captured, CaptureFailure>
where
    F: Future<Output = Result<Captured, CaptureFailure>>,
{
    match AssertUnwindSafe(capture).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            Err(CaptureFailure::Panicked(text))
        }
    }
}

async fn process(worker: &Worker, record: &SqsMessage) -> Result<Captured, CaptureFailure> {
    let body = record.body.as_deref().unwrap_or("");
    let mut message: CaptureMessage = serde_json::from_str(body).map_err(CaptureFailure::Malformed)?;
    // Without a sequence of the channel's own, the transcript keeps the order the messages
    // arrived in their FIFO group. SQS gives a redelivered message the same number, so the
    // line it writes stays its dedup record.
    if message.event.sequence.is_none() {
        message.event.sequence = record.attributes.get("SequenceNumber").and_then(|n| n.parse().ok());
    }
    let Some(bot) = worker.bots.get(&message.bot_id).await? else {
        // The bot was deleted after the webhook accepted the event: nothing to attach it to.
        return Ok(Captured::Ignored("the bot no longer exists"));
    };
    Ok(capture::capture(&worker.store, &worker.profiles, &bot, &message.event, &worker.settings).await?)
}

/// Messenger's webhooks carry no names: the Graph API user profile has them.
#[derive(Debug, Clone)]
pub struct GraphProfiles {
    pub http: reqwest::Client,
    /// e.g. `https://graph.facebook.com/v21.0`; configurable for tests and API versions.
    pub base_url: String,
}

impl GraphProfiles {
    pub fn new(base_url: impl Into<String>) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().expect("an HTTP client");
        GraphProfiles { http, base_url: base_url.into() }
    }
}

impl ProfileLookup for GraphProfiles {
    async fn name(&self, bot: &Bot, event: &CaptureEvent) -> Option<String> {
        if event.channel != Channel::Messenger {
            return None;
        }
        let token = bot.channels.messenger.as_ref()?.page_access_token.as_ref()?;
        let url = format!("{}/{}", self.base_url.trim_end_matches('/'), event.external_id);
        let response = self
            .http
            .get(url)
            .query(&[("fields", "first_name,last_name,name"), ("access_token", token.expose())])
            .send()
            .await
            // The URL holds the page token: it must not reach the log.
            .map_err(|e| tracing::warn!(error = %e.without_url(), "profile lookup failed"))
            .ok()?;
        if !response.status().is_success() {
            tracing::warn!(status = response.status().as_u16(), "profile lookup refused");
            return None;
        }
        let profile: serde_json::Value = response.json().await.ok()?;
        let joined = [profile["first_name"].as_str(), profile["last_name"].as_str()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let name = profile["name"].as_str().map(str::to_string).unwrap_or(joined);
        (!name.trim().is_empty()).then_some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_fails_its_own_message_only() {
        let panicked = isolated(async { panic!("phone parser bug") }).await;
        assert!(matches!(&panicked, Err(CaptureFailure::Panicked(m)) if m == "phone parser bug"), "{panicked:?}");
        let fine = isolated(async { Ok(Captured::Duplicate) }).await;
        assert!(matches!(fine, Ok(Captured::Duplicate)));
    }
}
