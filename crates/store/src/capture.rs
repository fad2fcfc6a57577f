//! Capture's writes: what the capture use case (`model::usecases::capture`) decided for
//! one event becomes one transaction holding the profile change, the conversation header,
//! the message, and a record that the event was captured, so a redelivered event changes
//! nothing twice. The workspace's counters and daily activity follow from the stream.

use super::contacts::{Extra, Part};
use super::keys::{self, GSI1};
use super::table::{key, n, s, Condition, Item, TxOp};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use model::bot::Bot;
use model::contact::Contact;
use model::conversation::{Conversation, ConversationStatus, Message, OpenConversation};
use model::domain::{Channel, ContactId, WorkspaceId};
use model::listing::api_time;
use model::usecases::capture::CaptureWrite;
use std::collections::{BTreeMap, HashMap};

/// How long a captured event is remembered: longer than any channel retries (Meta: up to a day).
const CAPTURED_EVENT_TTL_DAYS: i64 = 7;

impl Store {
    /// Writes what one captured event changes, in one transaction: the profile (only while
    /// still at the version read; a new visitor's created with its guards), the conversation header, the message, duplicate records,
    /// the day's activity and the captured-event record that makes a redelivery a no-op.
    pub async fn record_capture(&self, ws: &WorkspaceId, write: &CaptureWrite<'_>) -> StoreResult<()> {
        let extra = self.capture_ops(write);
        if write.creates {
            self.insert_contact_with(ws, write.before, write.after, extra).await
        } else {
            self.replace_contact_with(ws, write.before, write.after, extra).await
        }
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

    /// The conversation headers, the message and the dedup record that go with the contact change.
    fn capture_ops(&self, write: &CaptureWrite<'_>) -> Extra {
        let CaptureWrite { bot, event, event_key: event_hash, before: contact, step, duplicates, .. } = *write;
        let ws = bot.id.workspace();
        let mut ops = Vec::new();
        match &write.message {
            // The message's key comes from the event: written only if absent, it is the record
            // that the event was captured.
            Some(m) => {
                let sk = keys::message_sk(m.occurred_at, event.sequence, &event_hash[..12]);
                ops.push(self.tx_put(Part::Dedup, message_item(ws, m, sk), Some(Condition::absent())));
            }
            // Kept in the contact's collection, so the purge reaches it.
            None => {
                let expires = (Utc::now() + Duration::days(CAPTURED_EVENT_TTL_DAYS)).timestamp();
                let mut marker = key(keys::contact_pk(ws, contact.id), keys::captured_event_sk(event_hash));
                marker.extend([
                    ("entity".into(), s("captured_event")),
                    ("event_id".into(), s(&event.event_id)),
                    ("expires_at".into(), n(expires)),
                ]);
                ops.push(self.tx_put(Part::Dedup, marker, Some(Condition::absent())));
            }
        }
        if let Some((closed, ended_at)) = &step.close {
            ops.push(self.close_conversation_op(Part::Other, ws, closed, *ended_at));
        }
        if let Some(opened) = &step.open {
            let appended = write.message.as_ref().is_some_and(|m| m.conversation_id == opened.id);
            ops.push(self.tx_put(
                Part::Other,
                conversation_item(ws, bot, contact.id, opened, u64::from(appended)),
                Some(Condition::absent()),
            ));
        }
        // One write per pair, with every reason: a transaction may write an item only once.
        let mut pairs: BTreeMap<ContactId, Vec<String>> = BTreeMap::new();
        for (field, owner) in duplicates.iter() {
            pairs.entry(*owner).or_default().push(format!("same {field}"));
        }
        for (owner, reasons) in pairs {
            ops.extend(self.record_duplicate_ops(ws, contact.id, owner, reasons));
        }
        Extra { ops }
    }

    /// Closes a conversation's header with its final figures from the live state.
    pub(crate) fn close_conversation_op<L>(
        &self,
        label: L,
        ws: &WorkspaceId,
        closed: &OpenConversation,
        ended_at: DateTime<Utc>,
    ) -> TxOp<L> {
        let HeaderUpdate { key, expression, names, values } = HeaderUpdate::closing(ws, closed, ended_at);
        self.tx_update(label, key, expression, names, values)
    }
}

/// An update of a conversation's header (its item), for a transaction or on its own.
pub(crate) struct HeaderUpdate {
    pub key: Item,
    pub expression: &'static str,
    pub names: HashMap<String, String>,
    pub values: Item,
}

impl HeaderUpdate {
    /// Closed at `ended_at`, with its final figures from the live state. Written again with
    /// later figures, the later close wins.
    pub(crate) fn closing(ws: &WorkspaceId, closed: &OpenConversation, ended_at: DateTime<Utc>) -> Self {
        HeaderUpdate {
            key: key(keys::conversation_pk(ws, &closed.id), keys::CONVERSATION_SK),
            expression: "SET #status = :closed, ended_at = :ended, last_message_at = :last, message_count = :count, \
                         responses = :responses, response_seconds = :waited",
            names: HashMap::from([("#status".to_string(), "status".to_string())]),
            values: Item::from([
                (":closed".to_string(), s("closed")),
                (":ended".to_string(), s(api_time(ended_at))),
                (":last".to_string(), s(api_time(closed.last_message_at))),
                (":count".to_string(), n(closed.message_count)),
                (":responses".to_string(), n(closed.responses)),
                (":waited".to_string(), n(closed.response_seconds)),
            ]),
        }
    }

    /// Open again: a message came in while the idle sweep was closing it.
    pub(crate) fn reopening(ws: &WorkspaceId, id: &str) -> Self {
        HeaderUpdate {
            key: key(keys::conversation_pk(ws, id), keys::CONVERSATION_SK),
            expression: "SET #status = :open REMOVE ended_at",
            names: HashMap::from([("#status".to_string(), "status".to_string())]),
            values: Item::from([(":open".to_string(), s("open"))]),
        }
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
        responses: open.responses,
        response_seconds: open.response_seconds,
    };
    let mut item: Item = serde_dynamo::to_item(&conversation).expect("conversations serialize");
    item.extend([
        ("pk".to_string(), s(keys::conversation_pk(ws, &open.id))),
        ("sk".to_string(), s(keys::CONVERSATION_SK)),
        ("entity".to_string(), s("conversation")),
        (GSI1.pk.to_string(), s(keys::contact_conversations_pk(ws, contact))),
        (GSI1.sk.to_string(), s(keys::conversation_list_sk(open.started_at, &open.id))),
    ]);
    item
}

fn message_item(ws: &WorkspaceId, m: &Message, sk: String) -> Item {
    let mut item: Item = serde_dynamo::to_item(m).expect("messages serialize");
    item.extend([
        ("pk".to_string(), s(keys::conversation_pk(ws, &m.conversation_id))),
        ("sk".to_string(), s(sk)),
        ("entity".to_string(), s("message")),
    ]);
    item
}
