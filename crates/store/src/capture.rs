//! Capture's writes: what the capture use case (`model::usecases::capture`) decided for
//! one event becomes one transaction holding the profile change, the conversation header,
//! the message, and a record that the event was captured, so a redelivered event changes
//! nothing twice.

use super::contacts::{Extra, Part};
use super::keys::{self, GSI1, GSI2};
use super::table::{key, n, s, Condition, Item, QuerySpec, TxOp};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use model::bot::Bot;
use model::contact::Contact;
use model::conversation::OpenConversation;
use model::conversation::{self, Conversation, ConversationStatus, Message};
use model::domain::{Channel, ContactId, WorkspaceId};
use model::listing::api_time;
use model::usecases::capture::CaptureWrite;
use std::collections::HashMap;

/// How long a captured event is remembered: longer than any channel retries (Meta: up to a day).
const CAPTURED_EVENT_TTL_DAYS: i64 = 7;

impl Store {
    /// Writes what one captured event changes, in one transaction: the profile (only while
    /// still at the version read), the conversation header, the message, duplicate records,
    /// the day's activity and the captured-event record that makes a redelivery a no-op.
    pub async fn record_capture(&self, ws: &WorkspaceId, write: &CaptureWrite<'_>) -> StoreResult<()> {
        let extra = self.capture_ops(write);
        self.replace_contact_with(ws, write.before, write.after, extra).await
    }

    /// The contact a channel identity belongs to.
    pub async fn contact_for_identity(
        &self,
        ws: &WorkspaceId,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<Contact>> {
        let Some(guard) =
            self.get_item(key(keys::identity_guard_pk(ws, channel, external_id), keys::GUARD), true).await?
        else {
            return Ok(None);
        };
        let id = super::table::get_n(&guard, "contact_id")
            .ok_or_else(|| StoreError::Corrupt("identity guard without contact".into()))?;
        self.get_contact(ws, ContactId(id as u64)).await
    }

    /// The conversation header, message and captured-event record that go with the profile change.
    fn capture_ops(&self, write: &CaptureWrite<'_>) -> Extra {
        let CaptureWrite { bot, event, event_key: event_hash, before: contact, step, duplicates, .. } = *write;
        let ws = bot.id.workspace();
        let mut ops = Vec::new();
        let mut counters = Vec::new();
        let expires = (Utc::now() + Duration::days(CAPTURED_EVENT_TTL_DAYS)).timestamp();
        // Kept in the contact's collection, so the purge reaches it.
        let mut marker = key(keys::contact_pk(ws, contact.id), keys::captured_event_sk(event_hash));
        marker.extend([
            ("entity".into(), s("captured_event")),
            ("event_id".into(), s(&event.event_id)),
            ("expires_at".into(), n(expires)),
        ]);
        ops.push(self.tx_put(Part::Dedup, marker, Some(Condition::absent())));

        if let Some((closed, ended_at)) = &step.close {
            ops.push(self.close_conversation_op(ws, &closed.id, *ended_at));
            counters.push((keys::OPEN_CONVERSATIONS_ATTR.to_string(), -1));
        }
        let message = conversation::message_of(&event.kind);
        let opened_here = step.open.as_ref().map(|o| o.id.clone());
        if let Some(opened) = &step.open {
            counters.push((keys::OPEN_CONVERSATIONS_ATTR.to_string(), 1));
            let appended = step.append_to.as_deref() == Some(opened.id.as_str()) && message.is_some();
            ops.push(self.tx_put(
                Part::Other,
                conversation_item(ws, bot, contact.id, opened, u64::from(appended)),
                Some(Condition::absent()),
            ));
        }
        if let (Some(id), Some((role, text, message_type))) = (&step.append_to, message) {
            if opened_here.as_deref() != Some(id.as_str()) {
                let last = contact
                    .open_conversations
                    .iter()
                    .find(|o| &o.id == id)
                    .map_or(event.occurred_at, |o| o.last_message_at.max(event.occurred_at));
                ops.push(self.append_op(ws, id, last));
            }
            let m = Message {
                conversation_id: id.clone(),
                role,
                text,
                message_type,
                occurred_at: event.occurred_at,
                event_id: event.event_id.clone(),
            };
            ops.push(self.tx_put(Part::Other, message_item(ws, &m, event_hash), None));
        }
        for (field, owner) in duplicates.iter() {
            let reason = format!("same {field}");
            ops.push(self.tx_put(Part::Other, duplicate_item(ws, contact.id, *owner, &reason), None));
            ops.push(self.tx_put(Part::Other, duplicate_item(ws, *owner, contact.id, &reason), None));
        }
        if !write.activity.is_empty() {
            let day: Vec<(String, i64)> = write.activity.iter().map(|(name, n)| (name.to_string(), *n)).collect();
            ops.push(self.tx_add_counts(Part::Other, key(keys::days_pk(ws), keys::day_sk(event.occurred_at)), &day));
        }
        Extra { ops, counters }
    }

    fn close_conversation_op(&self, ws: &WorkspaceId, id: &str, ended_at: DateTime<Utc>) -> TxOp<Part> {
        let update = "SET #status = :closed, ended_at = if_not_exists(ended_at, :ended) REMOVE gsi2pk, gsi2sk";
        self.tx_update(
            Part::Other,
            key(keys::conversation_pk(ws, id), keys::CONVERSATION_SK),
            update,
            HashMap::from([("#status".to_string(), "status".to_string())]),
            Item::from([(":closed".to_string(), s("closed")), (":ended".to_string(), s(api_time(ended_at)))]),
        )
    }

    /// Counts the message and moves the last-message time; a late message within the idle
    /// window reopens a conversation the sweep closed meanwhile.
    fn append_op(&self, ws: &WorkspaceId, id: &str, last_message_at: DateTime<Utc>) -> TxOp<Part> {
        self.tx_update(
            Part::Other,
            key(keys::conversation_pk(ws, id), keys::CONVERSATION_SK),
            "ADD message_count :one SET last_message_at = :at, #status = :open, gsi2pk = :open_pk, gsi2sk = :open_sk REMOVE ended_at",
            HashMap::from([("#status".to_string(), "status".to_string())]),
            Item::from([
                (":one".to_string(), n(1)),
                (":at".to_string(), s(api_time(last_message_at))),
                (":open".to_string(), s("open")),
                (":open_pk".to_string(), s(keys::open_conversations_pk(keys::open_conversation_shard(id)))),
                (":open_sk".to_string(), s(keys::open_conversation_sk(last_message_at, ws, id))),
            ]),
        )
    }
}

fn conversation_item(ws: &WorkspaceId, bot: &Bot, contact: ContactId, open: &OpenConversation, messages: u64) -> Item {
    let conversation = Conversation {
        id: open.id.clone(),
        contact_id: contact,
        channel: open.channel,
        bot_id: bot.id.to_string(),
        reference: open.reference.clone(),
        started_at: open.started_at,
        last_message_at: open.last_message_at,
        ended_at: None,
        status: ConversationStatus::Open,
        message_count: messages,
    };
    let mut item: Item = serde_dynamo::to_item(&conversation).expect("conversations serialize");
    item.extend([
        ("pk".to_string(), s(keys::conversation_pk(ws, &open.id))),
        ("sk".to_string(), s(keys::CONVERSATION_SK)),
        ("entity".to_string(), s("conversation")),
        (GSI1.pk.to_string(), s(keys::contact_conversations_pk(ws, contact))),
        (GSI1.sk.to_string(), s(keys::conversation_list_sk(open.started_at, &open.id))),
        (GSI2.pk.to_string(), s(keys::open_conversations_pk(keys::open_conversation_shard(&open.id)))),
        (GSI2.sk.to_string(), s(keys::open_conversation_sk(open.started_at, ws, &open.id))),
    ]);
    item
}

fn message_item(ws: &WorkspaceId, m: &Message, event_hash: &str) -> Item {
    let mut item: Item = serde_dynamo::to_item(m).expect("messages serialize");
    item.extend([
        ("pk".to_string(), s(keys::conversation_pk(ws, &m.conversation_id))),
        ("sk".to_string(), s(keys::message_sk(m.occurred_at, &event_hash[..12]))),
        ("entity".to_string(), s("message")),
    ]);
    item
}

fn duplicate_item(ws: &WorkspaceId, contact: ContactId, other: ContactId, reason: &str) -> Item {
    let mut item = key(keys::contact_pk(ws, contact), keys::duplicate_sk(other));
    item.extend([
        ("entity".to_string(), s("duplicate_candidate")),
        ("contact_id".to_string(), n(contact.0)),
        ("other_id".to_string(), n(other.0)),
        ("reason".to_string(), s(reason)),
        ("recorded_at".to_string(), s(api_time(Utc::now()))),
    ]);
    item
}

impl Store {
    /// Contacts recorded as possible duplicates of this one, with the reason.
    pub async fn duplicate_candidates(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
    ) -> StoreResult<Vec<(ContactId, String)>> {
        let (items, _) =
            self.query_page(&QuerySpec::partition(keys::contact_pk(ws, contact), "DUP#"), None, 100).await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                Some((
                    ContactId(super::table::get_n(i, "other_id")? as u64),
                    super::table::get_s(i, "reason")?.to_string(),
                ))
            })
            .collect())
    }
}
