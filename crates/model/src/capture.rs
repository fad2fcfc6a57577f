//! What a captured channel event changes on a contact: progressive enrichment with
//! provenance, activity, consent and the open-conversation pointers.
//!
//! Enrichment rules: a value fills an empty field; a filled field changes only for a
//! value at least as trusted as the one it holds (channel profile < user-given < person),
//! so what a visitor typed is never replaced by a channel's profile, and nothing a
//! person entered is ever overwritten by capture. Empty values never clear anything.

use crate::bot::Bot;
use crate::channels::{CaptureEvent, CaptureKind, MessageRole};
use crate::contact::{Contact, FieldSource, Identity, Trust};
use crate::conversation::ConversationStep;
use crate::domain::{Channel, Consent, ConsentStatus, Email, Name, Phone, Region};
use crate::enrichment::{enrich, Offer, Offered};
use crate::new_contact::NewContact;

fn event_name(kind: &CaptureKind) -> &'static str {
    match kind {
        CaptureKind::ConversationStarted { .. } => "conversation_started",
        CaptureKind::Message { .. } => "message",
        CaptureKind::EmailCollected { .. } => "email_collected",
        CaptureKind::ContactFormSubmitted { .. } => "contact_form_submitted",
        CaptureKind::ConversationEnded { .. } => "conversation_ended",
        CaptureKind::OptedOut => "opted_out",
    }
}

/// What the event tells about the person. Emails collected by the bot count only when
/// the bot's `email_collect` is on, contact forms only when `contact_form` is on.
/// Values that do not parse are left out (and named in the second list, for the log).
pub fn offers(event: &CaptureEvent, bot: &Bot, region: Option<Region>) -> (Vec<Offer>, Vec<String>) {
    let widget = matches!(event.channel, Channel::Frame | Channel::Livechat);
    let source = |trust: Trust| FieldSource {
        source: event.channel.to_string(),
        event: event_name(&event.kind).to_string(),
        at: event.occurred_at,
        trust,
    };
    let profile_trust = if widget { Trust::UserGiven } else { Trust::ChannelProfile };
    // WhatsApp's number is the channel's; elsewhere a phone is one the visitor shared or typed.
    let phone_trust = if event.channel == Channel::Whatsapp { Trust::ChannelProfile } else { Trust::UserGiven };

    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut offer = |field: &str, raw: Option<&String>, trust: Trust| {
        let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else { return };
        let parsed = match field {
            "name" => Name::parse(raw).map(Offered::Name),
            "email" => Email::parse(raw).map(Offered::Email),
            _ => Phone::parse(raw, region).map(Offered::Phone),
        };
        match parsed {
            Ok(value) => out.push(Offer { value, source: source(trust) }),
            // The field only: the value is what a visitor typed and stays out of logs.
            Err(_) => skipped.push(field.to_string()),
        }
    };
    offer("name", event.profile.name.as_ref(), profile_trust);
    offer("email", event.profile.email.as_ref(), Trust::UserGiven);
    offer("phone", event.profile.phone.as_ref(), phone_trust);
    match &event.kind {
        CaptureKind::EmailCollected { email, .. } if bot.email_collect => offer("email", Some(email), Trust::UserGiven),
        CaptureKind::ContactFormSubmitted { name, email, phone, .. } if bot.contact_form => {
            offer("name", name.as_ref(), Trust::UserGiven);
            offer("email", email.as_ref(), Trust::UserGiven);
            offer("phone", phone.as_ref(), Trust::UserGiven);
        }
        _ => {}
    }
    (out, skipped)
}

/// Whether the event is one the bot's settings say to ignore entirely.
pub fn is_switched_off(event: &CaptureEvent, bot: &Bot) -> bool {
    match event.kind {
        CaptureKind::EmailCollected { .. } => !bot.email_collect,
        CaptureKind::ContactFormSubmitted { .. } => !bot.contact_form,
        _ => false,
    }
}

/// A new contact for an identity seen for the first time.
pub fn new_contact(event: &CaptureEvent, offers: Vec<Offer>) -> NewContact {
    let mut new = NewContact::on(event.channel);
    new.created_at = Some(event.occurred_at);
    let mut identity = Identity::new(event.channel, &event.external_id);
    identity.username = event.profile.username.clone();
    new.identity = Some(identity);
    new.offers = offers;
    new
}

/// The contact after the event: enriched, active, its conversation pointers moved on.
pub fn apply(
    current: &Contact,
    event: &CaptureEvent,
    offers: Vec<Offer>,
    step: &ConversationStep,
    rules: &crate::lead::LeadRules,
) -> Contact {
    let mut next = current.clone();
    enrich(&mut next, offers);
    if let Some(username) = &event.profile.username {
        for identity in
            next.identities.iter_mut().filter(|i| i.channel == event.channel && i.external_id == event.external_id)
        {
            identity.username = Some(username.clone());
        }
    }
    next.last_activity_at = next.last_activity_at.max(event.occurred_at);
    if let Some((closed, _)) = &step.close {
        next.open_conversations.retain(|o| o.id != closed.id);
    }
    if let Some(opened) = &step.open {
        next.open_conversations.retain(|o| o.channel != opened.channel);
        next.open_conversations.push(opened.clone());
    }
    if step.open.is_some() {
        next.activity.conversations += 1;
    }
    let message = crate::conversation::message_of(&event.kind);
    if let Some(id) = &step.append_to {
        for o in next.open_conversations.iter_mut().filter(|o| &o.id == id) {
            o.last_message_at = o.last_message_at.max(event.occurred_at);
            o.message_count += u64::from(message.is_some());
            match message.as_ref().map(|(role, _, _)| *role) {
                Some(MessageRole::User) => o.awaiting_reply_since = o.awaiting_reply_since.or(Some(event.occurred_at)),
                Some(MessageRole::Bot | MessageRole::Agent) => {
                    if let Some(waited) = o.awaiting_reply_since.take().map(|since| event.occurred_at - since) {
                        if waited >= chrono::Duration::zero() {
                            o.responses += 1;
                            o.response_seconds += waited.num_seconds() as u64;
                        }
                    }
                }
                None => {}
            }
        }
    }
    if let Some((MessageRole::User, text, _)) = &message {
        next.activity.user_messages += 1;
        if let Some(text) = text {
            next.activity.intents.extend(crate::lead::intents_in(text, &rules.phrases));
        }
    }
    if event.kind == CaptureKind::OptedOut {
        next.set_consent(Consent {
            status: ConsentStatus::Withdrawn,
            source: Some(event.channel.to_string()),
            updated_at: Some(event.occurred_at),
        });
    }
    crate::lead::refresh(&mut next, chrono::Utc::now(), rules.policy);
    if !next.same_profile(current) {
        next.version += 1;
    }
    if !next.same_live_state(current) {
        next.live_version += 1;
    }
    next
}

/// How long the visitor waited for this reply, when the event is a bot's or agent's reply.
pub fn response_time(contact: &Contact, event: &CaptureEvent, step: &ConversationStep) -> Option<chrono::Duration> {
    let (role, _, _) = crate::conversation::message_of(&event.kind)?;
    if role == MessageRole::User {
        return None;
    }
    let id = step.append_to.as_ref()?;
    let open = contact.open_conversations.iter().find(|o| &o.id == id)?;
    open.awaiting_reply_since.map(|since| event.occurred_at - since).filter(|d| *d >= chrono::Duration::zero())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::{BotId, ChannelSettings};
    use crate::channels::{MessageRole, ProfileHints};
    use crate::domain::{ContactId, WorkspaceId};
    use chrono::{DateTime, Utc};

    fn bot(email_collect: bool, contact_form: bool) -> Bot {
        Bot {
            id: BotId::generate(&WorkspaceId::parse("acme").unwrap()),
            name: "Sales bot".into(),
            email_collect,
            contact_form,
            channels: ChannelSettings::default(),
            created_at: Utc::now(),
            version: 1,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn event(channel: Channel, kind: CaptureKind, profile: ProfileHints) -> CaptureEvent {
        CaptureEvent {
            event_id: "e1".into(),
            channel,
            external_id: "42".into(),
            occurred_at: at("2025-08-22T05:00:00Z"),
            profile,
            kind,
            sequence: None,
        }
    }

    fn text() -> CaptureKind {
        CaptureKind::Message {
            role: MessageRole::User,
            text: Some("hi".into()),
            message_type: "text".into(),
            conversation_ref: None,
        }
    }

    fn contact() -> Contact {
        NewContact::on(Channel::Telegram).into_contact(ContactId(1), at("2025-08-01T00:00:00Z"))
    }

    #[test]
    fn channel_profiles_fill_empty_fields_with_provenance() {
        let e = event(
            Channel::Telegram,
            text(),
            ProfileHints { name: Some("Harper Mitchell".into()), ..Default::default() },
        );
        let (offers, _) = offers(&e, &bot(true, true), None);
        let mut c = contact();
        assert_eq!(enrich(&mut c, offers), ["name"]);
        assert_eq!(c.name.unwrap().as_str(), "Harper Mitchell");
        let source = &c.provenance["name"];
        assert_eq!(
            (source.source.as_str(), source.event.as_str(), source.trust),
            ("telegram", "message", Trust::ChannelProfile)
        );
    }

    #[test]
    fn user_given_values_are_not_replaced_by_channel_profiles() {
        let mut c = contact();
        let form = event(
            Channel::Frame,
            CaptureKind::ContactFormSubmitted {
                name: Some("Harper M.".into()),
                email: Some("harper@sparkwave.app".into()),
                phone: None,
                message: None,
                conversation_ref: None,
            },
            ProfileHints::default(),
        );
        enrich(&mut c, offers(&form, &bot(true, true), None).0);
        let profile =
            event(Channel::Telegram, text(), ProfileHints { name: Some("harper_tg".into()), ..Default::default() });
        assert!(enrich(&mut c, offers(&profile, &bot(true, true), None).0).is_empty());
        assert_eq!(c.name.as_ref().unwrap().as_str(), "Harper M.");
        // The visitor correcting themselves is as trusted as before: it wins.
        let again = event(
            Channel::Frame,
            CaptureKind::EmailCollected { email: "h.mitchell@sparkwave.app".into(), conversation_ref: None },
            ProfileHints::default(),
        );
        assert_eq!(enrich(&mut c, offers(&again, &bot(true, true), None).0), ["email"]);
    }

    #[test]
    fn nothing_overwrites_what_a_person_entered() {
        let mut c = contact();
        c.name = Some(Name::parse("Set By Sales").unwrap());
        let form = event(
            Channel::Frame,
            CaptureKind::ContactFormSubmitted {
                name: Some("Other".into()),
                email: None,
                phone: None,
                message: None,
                conversation_ref: None,
            },
            ProfileHints::default(),
        );
        assert!(enrich(&mut c, offers(&form, &bot(true, true), None).0).is_empty());
    }

    #[test]
    fn switched_off_features_add_no_data() {
        let b = bot(false, false);
        let email = event(
            Channel::Frame,
            CaptureKind::EmailCollected { email: "x@example.com".into(), conversation_ref: None },
            ProfileHints::default(),
        );
        assert!(offers(&email, &b, None).0.is_empty());
        assert!(is_switched_off(&email, &b));
        let form = event(
            Channel::Frame,
            CaptureKind::ContactFormSubmitted {
                name: Some("N".into()),
                email: Some("n@example.com".into()),
                phone: None,
                message: None,
                conversation_ref: None,
            },
            ProfileHints::default(),
        );
        assert!(offers(&form, &b, None).0.is_empty());
        assert!(!is_switched_off(&event(Channel::Frame, text(), ProfileHints::default()), &b));
    }

    #[test]
    fn invalid_values_are_skipped_and_named() {
        let e = event(
            Channel::Frame,
            CaptureKind::EmailCollected { email: "not an email".into(), conversation_ref: None },
            ProfileHints::default(),
        );
        let (offers, skipped) = offers(&e, &bot(true, true), None);
        assert!(offers.is_empty());
        assert_eq!(skipped, ["email"]);
    }

    #[test]
    fn opt_outs_withdraw_consent_and_activity_moves_forward() {
        let c = contact();
        let e = event(Channel::Telegram, CaptureKind::OptedOut, ProfileHints::default());
        let step = ConversationStep { close: None, open: None, append_to: None };
        let next = apply(&c, &e, Vec::new(), &step, &crate::lead::LeadRules::default());
        assert!(next.consent.opted_out());
        assert_eq!(next.consent.source.as_deref(), Some("telegram"));
        let mut granted = c.clone();
        granted.set_consent(Consent {
            status: ConsentStatus::Granted,
            source: Some("form".into()),
            updated_at: Some(e.occurred_at),
        });
        let after = apply(&granted, &e, Vec::new(), &step, &crate::lead::LeadRules::default());
        assert_eq!(after.consent_history.len(), 1, "the grant is kept in the history");
        assert_eq!(after.consent_history[0].status, ConsentStatus::Granted);
        assert_eq!(next.last_activity_at, e.occurred_at);
        assert_eq!(next.version, c.version + 1);
    }
}
