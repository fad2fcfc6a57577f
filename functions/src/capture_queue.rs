//! The capture queue: webhooks hand channel events to the capture worker through SQS FIFO.
//!
//! One message group per visitor identity keeps a visitor's events in order while
//! different visitors are processed in parallel; the deduplication id drops a channel's
//! retries within SQS's five-minute window (the worker's captured-event records cover
//! the rest).

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use model::bot::BotId;
use model::channels::CaptureEvent;
use model::usecases::capture::event_key;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What travels on the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureMessage {
    pub bot_id: BotId,
    pub event: CaptureEvent,
}

impl CaptureMessage {
    pub fn group_id(&self) -> String {
        let group = format!("{}:{}:{}", self.bot_id, self.event.channel, self.event.external_id);
        // SQS allows 128 characters.
        if group.len() <= 128 {
            group
        } else {
            model::hex::encode(&Sha256::digest(group.as_bytes()))
        }
    }

    pub fn deduplication_id(&self) -> String {
        event_key(&self.bot_id, &self.event)
    }
}

/// SQS did not take a message.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("SQS: {0}")]
    Sqs(String),
    #[error("SQS refused {refused} of {sent} messages")]
    Refused { refused: usize, sent: usize },
}

pub(crate) fn sqs_error<E: std::error::Error + 'static>(e: E) -> QueueError {
    QueueError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
}

/// Sends JSON bodies to a standard queue, ten to a call; `delay_seconds` (at most 900, SQS's
/// limit) holds them back, `None` leaves the queue's own delay. The jobs and sync queues send
/// through here.
pub(crate) async fn send_in_batches<T: serde::Serialize>(
    client: &aws_sdk_sqs::Client,
    url: &str,
    messages: &[T],
    delay_seconds: Option<u32>,
) -> Result<(), QueueError> {
    for chunk in messages.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let body = serde_json::to_string(m).map_err(|e| QueueError::Sqs(e.to_string()))?;
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .set_delay_seconds(delay_seconds.map(|d| d.min(900) as i32))
                    .build()
                    .map_err(|e| QueueError::Sqs(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out =
            client.send_message_batch().queue_url(url).set_entries(Some(entries)).send().await.map_err(sqs_error)?;
        if let Some(failed) = out.failed.first() {
            return Err(QueueError::Sqs(format!("{}: {}", failed.code, failed.message.clone().unwrap_or_default())));
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct CaptureQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl CaptureQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        CaptureQueue { client, url: url.into() }
    }

    /// Sends every message durably, or fails: then the channel should retry the webhook.
    pub async fn send(&self, messages: &[CaptureMessage]) -> Result<(), QueueError> {
        for chunk in messages.chunks(10) {
            let mut pending = batch_entries(chunk);
            for _attempt in 0..3 {
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(sqs_error)?;
                let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                pending.retain(|e| failed.contains(&e.id()));
                if pending.is_empty() {
                    break;
                }
            }
            if !pending.is_empty() {
                return Err(QueueError::Refused { refused: pending.len(), sent: chunk.len() });
            }
        }
        Ok(())
    }
}

/// One SendMessageBatch's entries (at most 10 messages): body, group and deduplication id.
pub fn batch_entries(messages: &[CaptureMessage]) -> Vec<SendMessageBatchRequestEntry> {
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(serde_json::to_string(m).expect("capture messages serialize"))
                .message_group_id(m.group_id())
                .message_deduplication_id(m.deduplication_id())
                .build()
                .expect("id and body are set")
        })
        .collect()
}

/// The capture queue's dead-letter queue (FIFO too). A message that can never be
/// captured goes here at once instead of being received five times, so its visitor's later
/// messages are not held back meanwhile.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl DeadLetters {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        DeadLetters { client, url: url.into() }
    }

    /// Parks a message as received, with its group; its id deduplicates a repeated park.
    pub async fn park(&self, body: &str, group: &str, message_id: &str) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_group_id(group)
            .message_deduplication_id(message_id)
            .send()
            .await
            .map(|_| ())
            .map_err(sqs_error)
    }
}
