//! Capture: a channel event becomes a contact change, a conversation step and a transcript
//! line, written together so that a redelivered event changes nothing twice.
//!
//! Each event costs one read of the contact and one write of everything it changes. A new
//! identity's contact is created by the same write; its identity guard makes concurrent
//! first messages of one visitor create exactly one contact, and the loser reads the winner's. A value
//! that belongs to another contact (an email or phone) is not taken over: both are
//! recorded as possible duplicates instead.

use crate::bot::{Bot, BotId};
use crate::capture;
use crate::channels::CaptureEvent;
use crate::contact::{Contact, FieldSource, Trust};
use crate::conversation::{self, ConversationStep, Message};
use crate::domain::{Channel, Consent, ConsentStatus, ContactId, Name, WorkspaceId};
use crate::enrichment::{Offer, Offered};
use crate::lead;
use crate::ports::{StoreError, StoreResult};
use crate::usecases::contacts::ContactStore;
use crate::workspace::Workspace;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use std::future::Future;

/// Reads, conflicts and lost races are retried this many times before giving up.
const MAX_CAPTURE_ATTEMPTS: usize = 6;

#[derive(Debug, Clone)]
pub struct CaptureSettings {
    /// A conversation with no message for this long is over.
    pub idle: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Captured {
    Applied {
        contact: ContactId,
        created: bool,
    },
    /// Seen before: nothing was written.
    Duplicate,
    /// The bot's settings say to ignore this kind of event, or there is nothing to attach it to.
    Ignored(&'static str),
}

/// Reads a visitor's name from the channel when the webhook does not carry it
/// (Messenger's Graph API). `None` on any failure: capture goes on without it.
pub trait ProfileLookup: Sync {
    fn name(&self, bot: &Bot, event: &CaptureEvent) -> impl Future<Output = Option<String>> + Send;
}

/// No lookup.
impl ProfileLookup for () {
    async fn name(&self, _: &Bot, _: &CaptureEvent) -> Option<String> {
        None
    }
}

/// Everything one captured event writes, in one all-or-nothing write.
#[derive(Debug)]
pub struct CaptureWrite<'a> {
    pub bot: &'a Bot,
    pub event: &'a CaptureEvent,
    /// The event's idempotency key ([`event_key`]): recorded with the write, which fails
    /// with `AlreadyCaptured` when it was recorded before.
    pub event_key: &'a str,
    /// The contact as read, and as it becomes (written only while still at `before.version`).
    /// For a new visitor, `before` is the contact as built, not stored yet.
    pub before: &'a Contact,
    pub after: &'a Contact,
    /// A new visitor's contact is created by this write, with its identity guard: the first
    /// event costs one transaction, and concurrent first events of one visitor still create
    /// exactly one contact (the loser fails with `Taken` on the identity and reads the winner's).
    pub creates: bool,
    pub step: &'a ConversationStep,
    /// Values owned by other contacts: each pair is recorded as possible duplicates.
    pub duplicates: &'a [(&'static str, ContactId)],
    /// The transcript line the event adds, if any.
    pub message: Option<Message>,
}

/// What capture needs from the store.
pub trait CaptureStore: ContactStore {
    fn workspace(&self, ws: &WorkspaceId) -> impl Future<Output = StoreResult<Option<Workspace>>> + Send;
    fn contact_for_identity(
        &self,
        ws: &WorkspaceId,
        channel: Channel,
        external_id: &str,
    ) -> impl Future<Output = StoreResult<Option<Contact>>> + Send;
    /// When one of the contact's identities last belonged to a person who was erased.
    fn erased_at(
        &self,
        ws: &WorkspaceId,
        contact: &Contact,
    ) -> impl Future<Output = StoreResult<Option<DateTime<Utc>>>> + Send;
    /// Whether a person said the two contacts are not the same person: such a pair is not recorded again.
    fn duplicate_dismissed(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// `AlreadyCaptured`, `VersionMismatch` or `Taken` when nothing was written
    /// (`VersionMismatch` too when one of `duplicates` was dismissed meanwhile).
    fn record_capture(
        &self,
        ws: &WorkspaceId,
        write: &CaptureWrite<'_>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// The idempotency key of a captured event: channel event ids are unique per bot only.
/// The capture queue deduplicates on it, and capture records it with what it writes.
pub fn event_key(bot: &BotId, event: &CaptureEvent) -> String {
    let digest = Sha256::digest(format!("{bot}\n{}", event.event_id).as_bytes());
    crate::hex::encode(&digest[..16])
}

/// Applies one channel event of `bot`.
pub async fn capture(
    store: &impl CaptureStore,
    names: &impl ProfileLookup,
    bot: &Bot,
    event: &CaptureEvent,
    settings: &CaptureSettings,
) -> StoreResult<Captured> {
    if capture::is_switched_off(event, bot) {
        return Ok(Captured::Ignored("switched off in the bot's settings"));
    }
    let ws = bot.id.workspace();
    let key = event_key(&bot.id, event);
    let workspace = store.workspace(ws).await?.unwrap_or_else(|| Workspace::with_defaults(ws.clone()));
    let (mut offers, skipped) = capture::offers(event, bot, workspace.default_region);
    if !skipped.is_empty() {
        tracing::info!(event = %event.event_id, fields = ?skipped, "captured values that do not parse were left out");
    }
    let mut duplicates: Vec<(&'static str, ContactId)> = Vec::new();
    let mut erased = false;
    let mut looked_up = false;
    // A new visitor's id, kept when a first attempt to create their contact lost a value.
    let mut reserved: Option<ContactId> = None;

    for _ in 0..MAX_CAPTURE_ATTEMPTS {
        let (contact, created) = match store.contact_for_identity(ws, event.channel, &event.external_id).await? {
            Some(c) => (c, false),
            None => {
                if !looked_up {
                    looked_up = true;
                    offers.extend(looked_up_name(names, bot, event, None).await);
                }
                let id = match reserved {
                    Some(id) => id,
                    None => *reserved.insert(store.allocate_contact_id(ws).await?),
                };
                let now = Utc::now();
                let mut contact = capture::new_contact(event, offers.clone()).into_contact(id, now);
                if let Some(erased_at) = store.erased_at(ws, &contact).await? {
                    // Sent before its sender was erased: a late delivery or a redrive of the
                    // dead-letter queue must not bring the erased data back.
                    if event.occurred_at <= erased_at {
                        return Ok(Captured::Ignored("sent before its sender was erased"));
                    }
                    erased = true;
                    keep_opted_out(&mut contact);
                }
                lead::refresh(&mut contact, now, workspace.lead_rules.policy);
                (contact, true)
            }
        };
        if !contact.is_visible() {
            return Ok(Captured::Ignored("the contact is deleted and waiting for its purge"));
        }
        if !looked_up && contact.name.is_none() {
            looked_up = true;
            offers.extend(looked_up_name(names, bot, event, Some(&contact)).await);
        }
        let open = contact.open_conversations.iter().find(|o| o.channel == event.channel);
        let step = conversation::step(open, event.channel, &event.kind, event.occurred_at, settings.idle);
        let mut next = capture::apply(&contact, event, offers.clone(), &step, &workspace.lead_rules);
        if created && erased {
            // Their first event may not opt a returning erased person back in.
            keep_opted_out(&mut next);
            lead::refresh(&mut next, Utc::now(), workspace.lead_rules.policy);
        }
        // Checked at every attempt: a dismissal that lands meanwhile fails the write.
        let mut recorded = Vec::with_capacity(duplicates.len());
        for &(field, owner) in &duplicates {
            if !store.duplicate_dismissed(ws, contact.id, owner).await? {
                recorded.push((field, owner));
            }
        }
        let write = CaptureWrite {
            bot,
            event,
            event_key: &key,
            before: &contact,
            after: &next,
            creates: created,
            step: &step,
            duplicates: &recorded,
            message: transcript_line(&contact, event, &step),
        };
        match store.record_capture(ws, &write).await {
            Ok(()) => {
                if created && erased {
                    tracing::info!(workspace = %ws, contact = %contact.id, "a previously erased identity came back: kept opted out");
                }
                return Ok(Captured::Applied { contact: contact.id, created });
            }
            Err(StoreError::AlreadyCaptured) => return Ok(Captured::Duplicate),
            Err(StoreError::VersionMismatch { .. }) => continue,
            // Another worker created this visitor's contact first: read theirs.
            Err(StoreError::Taken { field: "identity", .. }) if created => continue,
            Err(StoreError::Taken { field, owner }) => drop_offer(&mut offers, field, &mut duplicates, owner),
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Contended)
}

/// GDPR: a person who was erased and comes back through a channel starts opted out. Their
/// identities were kept only as salted hashes; a new contact matching one has its consent
/// withdrawn with source `erasure`, in the same write that creates it.
fn keep_opted_out(contact: &mut Contact) {
    if !contact.consent.opted_out() {
        contact.set_consent(Consent {
            status: ConsentStatus::Withdrawn,
            source: Some("erasure".into()),
            updated_at: Some(Utc::now()),
        });
    }
}

/// The message an event adds to its conversation, with the visitor's wait when it is the
/// first reply to them (the daily analytics sum these from the stream).
fn transcript_line(contact: &Contact, event: &CaptureEvent, step: &ConversationStep) -> Option<Message> {
    let conversation_id = step.append_to.clone()?;
    let (role, text, message_type) = conversation::message_of(&event.kind)?;
    Some(Message {
        conversation_id,
        role,
        text,
        message_type,
        occurred_at: event.occurred_at,
        event_id: event.event_id.clone(),
        response_seconds: capture::response_time(contact, event, step).map(|waited| waited.num_seconds()),
        channel: Some(event.channel),
    })
}

async fn looked_up_name(
    names: &impl ProfileLookup,
    bot: &Bot,
    event: &CaptureEvent,
    contact: Option<&Contact>,
) -> Option<Offer> {
    if event.profile.name.is_some() || contact.is_some_and(|c| c.name.is_some()) {
        return None;
    }
    let name = Name::parse(&names.name(bot, event).await?).ok()?;
    let source = FieldSource {
        source: event.channel.to_string(),
        event: "profile_lookup".into(),
        at: event.occurred_at,
        trust: Trust::ChannelProfile,
    };
    Some(Offer { value: Offered::Name(name), source })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::ChannelSettings;
    use crate::channels::{CaptureKind, MessageRole, ProfileHints};
    use crate::domain::Email;
    use crate::gdpr::{ErasureReceipt, ErasureStatus};
    use crate::new_contact::NewContact;
    use crate::usecases::gdpr::ErasureStore;
    use crate::usecases::memory::MemoryStore;

    fn bot(email_collect: bool) -> Bot {
        Bot {
            id: BotId::generate(&WorkspaceId::parse("acme").unwrap()),
            name: "Sales bot".into(),
            email_collect,
            contact_form: true,
            channels: ChannelSettings::default(),
            created_at: Utc::now(),
            version: 1,
        }
    }

    fn event(id: &str, kind: CaptureKind) -> CaptureEvent {
        CaptureEvent {
            event_id: id.into(),
            channel: Channel::Telegram,
            external_id: "42".into(),
            occurred_at: Utc::now(),
            profile: ProfileHints { name: Some("Ava Stone".into()), ..Default::default() },
            kind,
            sequence: None,
        }
    }

    fn message(text: &str) -> CaptureKind {
        CaptureKind::Message {
            role: MessageRole::User,
            text: Some(text.into()),
            message_type: "text".into(),
            conversation_ref: None,
        }
    }

    fn email(address: &str) -> CaptureKind {
        CaptureKind::EmailCollected { email: address.into(), conversation_ref: None }
    }

    fn settings() -> CaptureSettings {
        CaptureSettings { idle: Duration::minutes(30) }
    }

    #[tokio::test]
    async fn a_first_message_creates_one_contact_and_a_redelivery_changes_nothing() {
        let (store, bot) = (MemoryStore::default(), bot(true));
        let first = event("telegram:update:1", message("hi"));
        let captured = capture(&store, &(), &bot, &first, &settings()).await.unwrap();
        let Captured::Applied { contact, created: true } = captured else { panic!("{captured:?}") };
        assert_eq!(capture(&store, &(), &bot, &first, &settings()).await.unwrap(), Captured::Duplicate);
        let next = capture(&store, &(), &bot, &event("telegram:update:2", message("and you?")), &settings()).await;
        assert_eq!(next.unwrap(), Captured::Applied { contact, created: false });
        let contacts = store.contacts(bot.id.workspace());
        assert_eq!(contacts.len(), 1);
        assert_eq!(contacts[0].name.as_ref().map(|n| n.as_str()), Some("Ava Stone"));
        assert_eq!(contacts[0].activity.user_messages, 2);
    }

    /// Erases the Telegram visitor `42` now; the receipt.
    async fn erase_telegram_42(store: &MemoryStore, ws: &WorkspaceId) -> ErasureReceipt {
        let receipt = ErasureReceipt {
            id: "er1".into(),
            erased_at: Utc::now(),
            status: ErasureStatus::Done,
            completed_at: Some(Utc::now()),
            requested_by_kind: "channel_identity".into(),
            contact_id: None,
            conversations_removed: 0,
            items_removed: 0,
            exports_deleted: 0,
            identities_suppressed: 1,
            requested_by: "ops".into(),
        };
        store.record_erasure(ws, &receipt, &["id:telegram:42".to_string()]).await.unwrap();
        receipt
    }

    #[tokio::test]
    async fn a_returning_erased_person_starts_opted_out_even_if_their_first_event_opts_in() {
        let (store, bot) = (MemoryStore::default(), bot(true));
        let ws = bot.id.workspace();
        erase_telegram_42(&store, ws).await;
        capture(&store, &(), &bot, &event("telegram:update:1", message("hello again")), &settings()).await.unwrap();
        let contact = &store.contacts(ws)[0];
        assert!(contact.consent.opted_out());
        assert_eq!(contact.consent.source.as_deref(), Some("erasure"));
    }

    #[tokio::test]
    async fn an_event_sent_before_its_sender_was_erased_brings_nothing_back() {
        let (store, bot) = (MemoryStore::default(), bot(true));
        let ws = bot.id.workspace();
        let receipt = erase_telegram_42(&store, ws).await;
        // A message queued before the erasure, redriven from the dead-letter queue after it.
        let mut late = event("telegram:update:1", message("my old message"));
        late.occurred_at = receipt.erased_at - Duration::minutes(10);
        let outcome = capture(&store, &(), &bot, &late, &settings()).await.unwrap();
        assert_eq!(outcome, Captured::Ignored("sent before its sender was erased"));
        assert!(store.contacts(ws).is_empty());
    }

    #[tokio::test]
    async fn switched_off_events_are_ignored_and_taken_emails_are_not_taken_over() {
        let store = MemoryStore::default();
        let off = bot(false);
        let ignored = capture(&store, &(), &off, &event("e1", email("ava@example.com")), &settings()).await.unwrap();
        assert!(matches!(ignored, Captured::Ignored(_)));
        assert!(store.contacts(off.id.workspace()).is_empty());

        let on = bot(true);
        let ws = on.id.workspace();
        let mut owner = NewContact::on(Channel::Frame);
        owner.email = Some(Email::parse("ava@example.com").unwrap());
        let owner = store.seed(ws, owner);
        capture(&store, &(), &on, &event("e2", email("ava@example.com")), &settings()).await.unwrap();
        let visitor = store.contacts(ws).into_iter().find(|c| c.id != owner.id).expect("the visitor's contact");
        assert_eq!(visitor.email, None, "the email stays with its owner");
    }

    #[tokio::test]
    async fn a_dismissed_pair_is_not_recorded_again_by_the_same_evidence() {
        use crate::usecases::duplicates::{dismiss, DuplicateStore, PairState};
        let (store, bot) = (MemoryStore::default(), bot(true));
        let ws = bot.id.workspace();
        let mut owner = NewContact::on(Channel::Frame);
        owner.email = Some(Email::parse("ava@example.com").unwrap());
        let owner = store.seed(ws, owner);
        let captured = capture(&store, &(), &bot, &event("e1", email("ava@example.com")), &settings()).await.unwrap();
        let Captured::Applied { contact: visitor, .. } = captured else { panic!("{captured:?}") };
        assert_eq!(store.duplicate_pair(ws, owner.id, visitor).await.unwrap(), Some(PairState::Recorded));

        dismiss(&store, ws, visitor, owner.id).await.unwrap();
        let again = capture(&store, &(), &bot, &event("e2", email("ava@example.com")), &settings()).await.unwrap();
        assert_eq!(again, Captured::Applied { contact: visitor, created: false });
        assert!(matches!(
            store.duplicate_pair(ws, owner.id, visitor).await.unwrap(),
            Some(PairState::Dismissed { .. })
        ));
        assert!(store.duplicate_pairs(ws, 10, None).await.unwrap().0.is_empty());
    }
}
