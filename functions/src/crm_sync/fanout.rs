//! The table's second stream consumer: turns changes of contacts' profiles and
//! conversations into sync messages, one per change and integration that wants it, and
//! keeps the workspace's change feed (`store::changes`).
//!
//! - A profile inserted: `contact.created`; changed: `contact.updated` with the fields that
//!   changed (a restore is an update of `deleted_at`); hidden: `contact.deleted`.
//! - A visible profile removed: merged away (the merge removes it and writes its tombstone
//!   in one transaction). A hidden one removed (the purge after a deletion): nothing more.
//! - An erasure receipt turned `done`: `contact.erased` (the erasure writes its receipt
//!   `pending`, hides and purges the contact, then marks the receipt done; it holds no
//!   personal data).
//! - A conversation closed: `conversation.closed`.
//!
//! A failed batch is delivered again whole; its messages then go out twice with the same
//! delivery ids, which the worker's upserts and webhook receivers take in their stride.

use super::message::{SyncMessage, SyncQueue};
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use chrono::{DateTime, Utc};
use model::contact::Contact;
use model::conversation::{Conversation, ConversationStatus};
use model::domain::{ContactId, WorkspaceId};
use model::gdpr::{ErasureReceipt, ErasureStatus};
use model::integration::event::ContactEvent;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use store::keys;
use store::{ChangeNote, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::capture_queue::QueueError),
}

#[derive(Debug, Clone)]
pub struct Fanout {
    pub store: Store,
    pub queue: SyncQueue,
}

/// One change worth telling integrations of.
#[derive(Debug, Clone, PartialEq)]
struct Noted {
    workspace: WorkspaceId,
    contact: ContactId,
    event: ContactEvent,
    occurred_at: DateTime<Utc>,
    /// The stream record's id: unique per change.
    record: String,
}

pub async fn handle(fanout: &Fanout, event: Event) -> Result<(), FanoutError> {
    let mut noted = Vec::new();
    for record in &event.records {
        if let Some(n) = note(&fanout.store, record).await? {
            noted.push(n);
        }
    }
    let mut by_workspace: HashMap<WorkspaceId, Vec<Noted>> = HashMap::new();
    for n in noted {
        by_workspace.entry(n.workspace.clone()).or_default().push(n);
    }
    let mut messages = Vec::new();
    for (ws, changes) in by_workspace {
        fanout.store.note_changes(&ws, &feed_notes(&changes)).await?;
        let integrations = fanout.store.integration_settings(&ws).await?;
        for integration in &integrations {
            // A paused integration hears of erasures only: a resync after resuming sends no removals.
            let wanted = |c: &&Noted| {
                integration.target.wants(c.event.kind()) && (!integration.paused || c.event == ContactEvent::Erased)
            };
            for change in changes.iter().filter(wanted) {
                messages.push(SyncMessage {
                    workspace: ws.to_string(),
                    integration: integration.id.clone(),
                    contact: change.contact,
                    event: change.event.clone(),
                    occurred_at: change.occurred_at,
                    delivery_id: delivery_id(&integration.id, &change.record),
                    attempt: 0,
                });
            }
        }
    }
    let sent = messages.len();
    fanout.queue.send(&messages, 0).await?;
    tracing::info!(records = event.records.len(), sent, "changes fanned out to integrations");
    Ok(())
}

/// The change feed's notes (`GET /api/v1/contacts?updated_since=`): each contact's latest
/// change of the batch, once (a BatchWriteItem refuses a key twice).
fn feed_notes(changes: &[Noted]) -> Vec<ChangeNote> {
    let mut latest: HashMap<ContactId, ChangeNote> = HashMap::new();
    for c in changes.iter().filter(|c| !matches!(c.event, ContactEvent::ConversationClosed { .. })) {
        let note = ChangeNote { contact: c.contact, at: c.occurred_at, removed: c.event.removes() };
        if latest.get(&c.contact).is_none_or(|seen| seen.at <= note.at) {
            latest.insert(c.contact, note);
        }
    }
    latest.into_values().collect()
}

/// `msg_` and 24 hex digits of the integration and what the change is (a stream record's id).
pub(crate) fn delivery_id(integration: &str, record: &str) -> String {
    let digest = Sha256::digest(format!("{integration}\n{record}"));
    format!("msg_{}", &model::hex::encode(&digest)[..24])
}

async fn note(store: &Store, record: &EventRecord) -> Result<Option<Noted>, StoreError> {
    let image = |item: &serde_dynamo::Item| (!item.is_empty()).then(|| item.clone());
    let (old, new) = (image(&record.change.old_image), image(&record.change.new_image));
    let Some(item) = new.as_ref().or(old.as_ref()) else { return Ok(None) };
    let attr = |name: &str| match item.get(name) {
        Some(serde_dynamo::AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    };
    let (Some(pk), Some(sk)) = (attr(keys::PK), attr(keys::SK)) else { return Ok(None) };
    let Some(workspace) = keys::workspace_of(&pk) else { return Ok(None) };
    let occurred_at = record.change.approximate_creation_date_time;
    let noted = |contact, event| Noted {
        workspace: workspace.clone(),
        contact,
        event,
        occurred_at,
        record: record.event_id.clone(),
    };
    let contact_of = |item: Option<serde_dynamo::Item>| {
        item.map(serde_dynamo::from_item::<_, Contact>)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("profile: {e}")))
    };
    let conversation_of = |item: Option<serde_dynamo::Item>| {
        item.map(serde_dynamo::from_item::<_, Conversation>)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("conversation: {e}")))
    };
    if sk == keys::PROFILE {
        let event = match (contact_of(old)?, contact_of(new)?) {
            (None, Some(new)) if new.deleted_at.is_none() => Some((new.id, ContactEvent::Created)),
            (Some(old), Some(new)) if old.deleted_at.is_none() && new.deleted_at.is_some() => {
                Some((new.id, ContactEvent::Deleted))
            }
            (Some(old), Some(new)) if new.deleted_at.is_none() => {
                let fields = changed_fields(&old, &new);
                (!fields.is_empty()).then_some((new.id, ContactEvent::Updated { fields }))
            }
            (Some(old), None) if old.deleted_at.is_none() => store
                .merged_into(&workspace, old.id)
                .await?
                .map(|(survivor, _)| (old.id, ContactEvent::Merged { survivor })),
            _ => None,
        };
        return Ok(event.map(|(id, e)| noted(id, e)));
    }
    if sk == keys::ERASURE_SK {
        let receipt_of = |item: Option<serde_dynamo::Item>| {
            item.map(serde_dynamo::from_item::<_, ErasureReceipt>)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("erasure receipt: {e}")))
        };
        let done = |r: &ErasureReceipt| r.status == ErasureStatus::Done;
        // Written pending first, the receipt is heard of once: when it turns done.
        let (old, new) = (receipt_of(old)?, receipt_of(new)?);
        let finished = new.filter(|n| done(n) && !old.as_ref().is_some_and(done));
        return Ok(finished.and_then(|r| r.contact_id).map(|id| noted(ContactId(id), ContactEvent::Erased)));
    }
    if sk == keys::CONVERSATION_SK {
        if let (Some(old), Some(new)) = (conversation_of(old)?, conversation_of(new)?) {
            if old.status == ConversationStatus::Open && new.status == ConversationStatus::Closed {
                return Ok(Some(noted(new.contact_id, ContactEvent::ConversationClosed { conversation: new.id })));
            }
        }
    }
    Ok(None)
}

/// The changed fields a person sees in the API (stored under the same names); bookkeeping
/// (versions, provenance, activity, the live state, consent history) is left out.
fn changed_fields(old: &Contact, new: &Contact) -> Vec<String> {
    const SHOWN: [&str; 13] = [
        "name",
        "email",
        "phone",
        "channel",
        "identities",
        "notes",
        "tags",
        "status",
        "archived_reason",
        "consent",
        "score",
        "deleted_at",
        "last_activity_at",
    ];
    let as_map = |c: &Contact| match serde_json::to_value(c) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (as_map(old), as_map(new));
    SHOWN.into_iter().filter(|name| old.get(*name) != new.get(*name)).map(str::to_string).collect()
}
