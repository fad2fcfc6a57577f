//! What the fan-out tells the sync worker: one change of one contact for one integration.

use crate::capture_queue::{send_in_batches, QueueError};
use chrono::{DateTime, Utc};
use model::domain::ContactId;
use model::integration::event::ContactEvent;
use model::listing::Position;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncMessage {
    pub workspace: String,
    pub integration: String,
    pub contact: ContactId,
    pub event: ContactEvent,
    pub occurred_at: DateTime<Utc>,
    /// The same for every delivery of this change to this integration, retries included:
    /// a webhook's `webhook-id`, so receivers can drop duplicates.
    pub delivery_id: String,
    /// Deliveries tried so far.
    #[serde(default)]
    pub attempt: u32,
}

/// A resync (or an integration's first backfill): the next page of the workspace's
/// contacts (those the list `filters` match) to send again, from `after`. Each page sends
/// its contacts and queues the next page: constant memory, however many contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResyncPage {
    pub workspace: String,
    pub integration: String,
    pub resync: String,
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
    #[serde(default)]
    pub after: Option<Position>,
}

/// What travels on the sync queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Queued {
    Change(SyncMessage),
    Resync(ResyncPage),
}

/// The sync queue (standard SQS): messages in any order, each safe to deliver twice.
#[derive(Debug, Clone)]
pub struct SyncQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SyncQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SyncQueue { client, url: url.into() }
    }

    /// Sends changes ten to a call, each visible after `delay_seconds` (at most 900, SQS's limit).
    pub async fn send(&self, messages: &[SyncMessage], delay_seconds: u32) -> Result<(), QueueError> {
        let queued: Vec<Queued> = messages.iter().cloned().map(Queued::Change).collect();
        self.send_queued(&queued, delay_seconds).await
    }

    pub async fn send_resync(&self, page: ResyncPage) -> Result<(), QueueError> {
        self.send_queued(&[Queued::Resync(page)], 0).await
    }

    async fn send_queued(&self, messages: &[Queued], delay_seconds: u32) -> Result<(), QueueError> {
        send_in_batches(&self.client, &self.url, messages, Some(delay_seconds)).await
    }
}
