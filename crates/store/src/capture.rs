//! Capture: a channel event becomes contact, conversation and transcript writes.
//!
//! Each event is applied with one read of the contact and one transaction holding the
//! profile change, the conversation header, the message, and a record that the event was
//! captured, so a redelivered event changes nothing twice. A new identity's contact is
//! created first (its identity guard makes concurrent first messages create one contact).

use super::contacts::{Extra, Part};
use super::keys::{self, GSI1, GSI2};
use super::table::{key, n, s, Condition, Item, QuerySpec, TxOp};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use model::bot::Bot;
use model::capture;
use model::capture::{CaptureSettings, Captured, ProfileLookup};
use model::channels::{CaptureEvent, MessageRole};
use model::contact::{Contact, FieldSource, Trust};
use model::conversation::OpenConversation;
use model::conversation::{self, Conversation, ConversationStatus, ConversationStep, Message};
use model::domain::{Channel, ContactId, Name, WorkspaceId};
use model::enrichment::Offer;
use model::enrichment::Offered;
use model::listing::api_time;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// How long a captured event is remembered: longer than any channel retries (Meta: up to a day).
const CAPTURED_EVENT_TTL_DAYS: i64 = 7;
const MAX_CAPTURE_ATTEMPTS: usize = 6;

impl Store {
    pub async fn capture(
        &self,
        bot: &Bot,
        event: &CaptureEvent,
        settings: &CaptureSettings,
        lookup: &impl ProfileLookup,
    ) -> StoreResult<Captured> {
        if capture::is_switched_off(event, bot) {
            return Ok(Captured::Ignored("switched off in the bot's settings"));
        }
        let ws = bot.id.workspace();
        let event_hash = event_hash(bot, event);
        let workspace = self.get_workspace(ws).await?;
        let region = workspace.as_ref().and_then(|w| w.default_region);
        let rules = workspace.map(|w| w.lead_rules).unwrap_or_default();
        let (mut offers, skipped) = capture::offers(event, bot, region);
        if !skipped.is_empty() {
            tracing::info!(event = %event.event_id, fields = ?skipped, "captured values that do not parse were left out");
        }
        let mut duplicates: Vec<(&'static str, ContactId)> = Vec::new();
        let mut created = false;
        let mut looked_up = false;

        for _ in 0..MAX_CAPTURE_ATTEMPTS {
            let contact = match self.contact_for_identity(ws, event.channel, &event.external_id).await? {
                Some(c) => c,
                None => {
                    if !looked_up {
                        looked_up = true;
                        offers.extend(self.looked_up_name(bot, event, lookup, None).await);
                    }
                    match self.create_contact(ws, capture::new_contact(event, offers.clone())).await {
                        Ok(c) => {
                            created = true;
                            c
                        }
                        // Another worker created it first: read theirs.
                        Err(StoreError::Taken { field: "identity", .. }) => continue,
                        Err(StoreError::Taken { field, owner }) => {
                            drop_offer(&mut offers, field, &mut duplicates, owner);
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            if !contact.is_visible() {
                return Ok(Captured::Ignored("the contact is deleted and waiting for its purge"));
            }
            if !looked_up && contact.name.is_none() {
                looked_up = true;
                offers.extend(self.looked_up_name(bot, event, lookup, Some(&contact)).await);
            }
            let open = contact.open_conversations.iter().find(|o| o.channel == event.channel);
            let step = conversation::step(open, event.channel, &event.kind, event.occurred_at, settings.idle);
            let next = capture::apply(&contact, event, offers.clone(), &step, &rules);
            let extra = self.capture_ops(&Incoming { bot, event, hash: &event_hash }, &contact, &step, &duplicates);
            match self.replace_contact_with(ws, &contact, &next, extra).await {
                Ok(()) => return Ok(Captured::Applied { contact: contact.id, created }),
                Err(StoreError::AlreadyCaptured) => return Ok(Captured::Duplicate),
                Err(StoreError::VersionMismatch { .. }) => continue,
                Err(StoreError::Taken { field, owner }) => drop_offer(&mut offers, field, &mut duplicates, owner),
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Contended)
    }

    async fn looked_up_name(
        &self,
        bot: &Bot,
        event: &CaptureEvent,
        lookup: &impl ProfileLookup,
        contact: Option<&Contact>,
    ) -> Option<Offer> {
        if event.profile.name.is_some() || contact.is_some_and(|c| c.name.is_some()) {
            return None;
        }
        let name = Name::parse(&lookup.name(bot, event).await?).ok()?;
        let source = FieldSource {
            source: event.channel.to_string(),
            event: "profile_lookup".into(),
            at: event.occurred_at,
            trust: Trust::ChannelProfile,
        };
        Some(Offer { value: Offered::Name(name), source })
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
    fn capture_ops(
        &self,
        event: &Incoming,
        contact: &Contact,
        step: &ConversationStep,
        duplicates: &[(&'static str, ContactId)],
    ) -> Extra {
        let Incoming { bot, event, hash: event_hash } = *event;
        let ws = bot.id.workspace();
        let mut ops = Vec::new();
        let mut counters = Vec::new();
        let mut day = Vec::new();
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
            day.push(("conversations".to_string(), 1));
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
            day.push(("messages".to_string(), 1));
            day.push((if role == MessageRole::User { "user_messages" } else { "replies" }.to_string(), 1));
            if let Some(waited) = capture::response_time(contact, event, step) {
                day.push(("response_seconds".to_string(), waited.num_seconds()));
                day.push(("response_count".to_string(), 1));
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
        for (field, owner) in duplicates {
            let reason = format!("same {field}");
            ops.push(self.tx_put(Part::Other, duplicate_item(ws, contact.id, *owner, &reason), None));
            ops.push(self.tx_put(Part::Other, duplicate_item(ws, *owner, contact.id, &reason), None));
        }
        if !day.is_empty() {
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

/// An event being captured, with the bot it came through and its idempotency key.
#[derive(Clone, Copy)]
struct Incoming<'a> {
    bot: &'a Bot,
    event: &'a CaptureEvent,
    hash: &'a str,
}

/// The idempotency key: channel event ids are unique per bot only.
fn event_hash(bot: &Bot, event: &CaptureEvent) -> String {
    let digest = Sha256::digest(format!("{}\n{}", bot.id, event.event_id).as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A value that belongs to another contact is not taken over: the two are recorded as possible duplicates.
fn drop_offer(
    offers: &mut Vec<Offer>,
    field: &'static str,
    duplicates: &mut Vec<(&'static str, ContactId)>,
    owner: ContactId,
) {
    offers.retain(|o| o.value.field() != field);
    if !duplicates.contains(&(field, owner)) {
        duplicates.push((field, owner));
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
