//! Merging two contacts into one: which values the survivor ends up with.
//!
//! The survivor keeps its id, channel and first-contact time. For name, email, phone,
//! notes and status, an explicit choice wins; otherwise an empty field is filled from the
//! other contact, and of two different values the most recent user-given one is kept
//! (what a person or the visitor entered beats what a channel profile says; without
//! either, the survivor's stays). The email and phone not kept remain attached to the
//! survivor as `other_emails` / `other_phones`, so they still lead to it. Identities,
//! tags and open conversations are united; an opt-out on either side is kept.

use crate::contact::{Contact, FieldSource, Trust};
use crate::domain::{ConsentStatus, ContactId, InvalidValue};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which side a field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    This,
    Other,
}

pub const CHOOSABLE: [&str; 5] = ["name", "email", "phone", "notes", "status"];

/// Parses `{"name": "other", ...}`.
pub fn parse_choices(raw: &BTreeMap<String, String>) -> Result<BTreeMap<&'static str, Side>, InvalidValue> {
    let mut out = BTreeMap::new();
    for (field, side) in raw {
        let field = CHOOSABLE.into_iter().find(|f| f == field).ok_or_else(|| {
            InvalidValue::new(format!("`{field}` cannot be chosen: choose among {}", CHOOSABLE.join(", ")))
        })?;
        let side = match side.as_str() {
            "this" => Side::This,
            "other" => Side::Other,
            other => return Err(InvalidValue::new(format!("`{other}` is not a side: expected this or other"))),
        };
        out.insert(field, side);
    }
    Ok(out)
}

/// How strongly a held value should be kept: user-given or a person's, and how recent.
fn weight(c: &Contact, field: &str) -> Option<(bool, chrono::DateTime<chrono::Utc>)> {
    match c.provenance.get(field) {
        Some(FieldSource { trust, at, .. }) => Some((*trust >= Trust::UserGiven, *at)),
        // No provenance: set through the API before provenance existed, so a person's.
        None => Some((true, c.created_at)),
    }
}

fn pick<T: Clone + PartialEq>(
    field: &str,
    this: &Contact,
    other: &Contact,
    a: &Option<T>,
    b: &Option<T>,
    choice: Option<Side>,
) -> Side {
    match (a, b, choice) {
        (_, _, Some(side)) => side,
        (None, Some(_), None) => Side::Other,
        (Some(x), Some(y), None) if x != y => {
            let (ua, ta) = weight(this, field).unwrap_or((false, this.created_at));
            let (ub, tb) = weight(other, field).unwrap_or((false, other.created_at));
            if ub && (!ua || tb > ta) {
                Side::Other
            } else {
                Side::This
            }
        }
        _ => Side::This,
    }
}

/// The survivor after taking in `other`.
/// The survivor as it becomes; its lead status and score follow the workspace's `policy`.
pub fn merged(
    this: &Contact,
    other: &Contact,
    choices: &BTreeMap<&'static str, Side>,
    policy: crate::lead::LeadPolicy,
) -> Contact {
    let mut m = this.clone();
    let choice = |f: &str| choices.get(f).copied();
    let take_provenance = |m: &mut Contact, field: &str| match other.provenance.get(field) {
        Some(p) => {
            m.provenance.insert(field.to_string(), p.clone());
        }
        None => {
            m.provenance.remove(field);
        }
    };
    if pick("name", this, other, &this.name, &other.name, choice("name")) == Side::Other {
        m.name = other.name.clone();
        take_provenance(&mut m, "name");
    }
    if pick("email", this, other, &this.email, &other.email, choice("email")) == Side::Other {
        m.email = other.email.clone();
        take_provenance(&mut m, "email");
    }
    if pick("phone", this, other, &this.phone, &other.phone, choice("phone")) == Side::Other {
        m.phone = other.phone.clone();
        take_provenance(&mut m, "phone");
    }
    // Every address and number either side had keeps leading to the survivor.
    let kept_email = m.email.as_ref().map(|e| e.key());
    for e in this.email.iter().chain(other.email.iter()).chain(&this.other_emails).chain(&other.other_emails) {
        if Some(e.key()) != kept_email && !m.other_emails.iter().any(|x| x.key() == e.key()) {
            m.other_emails.push(e.clone());
        }
    }
    let kept_phone = m.phone.as_ref().map(|p| p.key());
    for p in this.phone.iter().chain(other.phone.iter()).chain(&this.other_phones).chain(&other.other_phones) {
        if Some(p.key()) != kept_phone && !m.other_phones.iter().any(|x| x.key() == p.key()) {
            m.other_phones.push(p.clone());
        }
    }
    m.notes = match (choice("notes"), &this.notes, &other.notes) {
        (Some(Side::This), a, _) => a.clone(),
        (Some(Side::Other), _, b) => b.clone(),
        (None, Some(a), Some(b)) if a != b => Some(format!("{a}\n\n{b}")),
        (None, a, b) => a.clone().or_else(|| b.clone()),
    };
    if choice("status") == Some(Side::Other) {
        m.status = other.status;
        m.status_manual = other.status_manual;
        m.archived_reason = other.archived_reason.clone();
    }
    for identity in &other.identities {
        if !m.identities.contains(identity) {
            m.identities.push(identity.clone());
        }
    }
    m.tags.extend(other.tags.iter().cloned());
    for open in &other.open_conversations {
        if !m.open_conversations.iter().any(|o| o.channel == open.channel) {
            m.open_conversations.push(open.clone());
        }
    }
    m.last_activity_at = this.last_activity_at.max(other.last_activity_at);
    m.activity.conversations = this.activity.conversations + other.activity.conversations;
    m.activity.user_messages = this.activity.user_messages + other.activity.user_messages;
    m.activity.intents.extend(other.activity.intents.iter().cloned());
    // An opt-out is never lost; otherwise the more recent consent stands.
    m.consent_history.extend(other.consent_history.iter().cloned());
    let kept = match (this.consent.status, other.consent.status) {
        (ConsentStatus::Withdrawn, _) => this.consent.clone(),
        (_, ConsentStatus::Withdrawn) => other.consent.clone(),
        _ if other.consent.updated_at > this.consent.updated_at => other.consent.clone(),
        _ => this.consent.clone(),
    };
    let dropped = if kept == this.consent { other.consent.clone() } else { this.consent.clone() };
    m.consent = kept;
    if dropped != crate::domain::Consent::default() {
        m.consent_history.push(dropped);
    }
    m.consent_history.sort_by_key(|c| c.updated_at);
    // After consent: an opt-out on either side archives the survivor.
    crate::lead::refresh(&mut m, chrono::Utc::now(), policy);
    m.version = this.version + 1;
    m
}

pub const UNDO_WINDOW_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeState {
    /// The core transaction committed; conversations and notes may still be moving.
    Started,
    Done,
    Undone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeRecord {
    pub id: String,
    pub survivor: ContactId,
    pub other: ContactId,
    pub survivor_before: Contact,
    pub other_before: Contact,
    pub merged: Contact,
    pub conversations: Vec<String>,
    pub notes: Vec<String>,
    pub state: MergeState,
    pub created_at: DateTime<Utc>,
    pub undo_until: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::Identity;
    use crate::domain::{Channel, ContactId, Email, Name, Phone, Tag};
    use crate::new_contact::NewContact;
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn contact(id: u64, channel: Channel) -> Contact {
        let mut n = NewContact::on(channel);
        n.identity = Some(Identity::new(channel, format!("x{id}")));
        n.into_contact(ContactId(id), at("2025-08-01T00:00:00Z"))
    }

    fn source(trust: Trust, when: &str) -> FieldSource {
        FieldSource { source: "frame".into(), event: "contact_form_submitted".into(), at: at(when), trust }
    }

    #[test]
    fn empty_fields_are_filled_and_everything_else_is_united() {
        let mut this = contact(1, Channel::Frame);
        this.email = Some(Email::parse("olivia@lumoco.dev").unwrap());
        this.tags.insert(Tag::parse("vip").unwrap());
        let mut other = contact(2, Channel::Telegram);
        other.name = Some(Name::parse("Olivia Bennett").unwrap());
        other.phone = Some(Phone::parse("+14155552671", None).unwrap());
        other.tags.insert(Tag::parse("pricing").unwrap());
        let m = merged(&this, &other, &BTreeMap::new(), Default::default());
        assert_eq!(m.id, ContactId(1));
        assert_eq!(m.channel, Channel::Frame);
        assert_eq!(m.name.unwrap().as_str(), "Olivia Bennett");
        assert_eq!(m.email.unwrap().as_str(), "olivia@lumoco.dev");
        assert_eq!(m.phone.unwrap().e164(), Some("+14155552671"));
        assert_eq!(m.identities.len(), 2);
        assert_eq!(m.tags.len(), 2);
        assert!(m.other_emails.is_empty());
    }

    #[test]
    fn conflicts_keep_the_most_recent_user_given_value_unless_chosen() {
        let mut this = contact(1, Channel::Frame);
        this.email = Some(Email::parse("old@example.com").unwrap());
        this.provenance.insert("email".into(), source(Trust::UserGiven, "2025-08-02T00:00:00Z"));
        this.name = Some(Name::parse("tg_handle").unwrap());
        this.provenance.insert("name".into(), source(Trust::ChannelProfile, "2025-08-09T00:00:00Z"));
        let mut other = contact(2, Channel::Livechat);
        other.email = Some(Email::parse("new@example.com").unwrap());
        other.provenance.insert("email".into(), source(Trust::UserGiven, "2025-08-05T00:00:00Z"));
        other.name = Some(Name::parse("Mason Clark").unwrap());
        other.provenance.insert("name".into(), source(Trust::UserGiven, "2025-08-03T00:00:00Z"));
        let m = merged(&this, &other, &BTreeMap::new(), Default::default());
        assert_eq!(m.email.as_ref().unwrap().as_str(), "new@example.com", "more recent user-given");
        assert_eq!(m.name.as_ref().unwrap().as_str(), "Mason Clark", "user-given beats a channel profile");
        assert_eq!(m.other_emails[0].as_str(), "old@example.com", "the other address still leads here");
        let chosen = merged(
            &this,
            &other,
            &parse_choices(&BTreeMap::from([("email".to_string(), "this".to_string())])).unwrap(),
            Default::default(),
        );
        assert_eq!(chosen.email.unwrap().as_str(), "old@example.com");
    }

    #[test]
    fn opt_outs_survive_and_choices_are_checked() {
        let this = contact(1, Channel::Frame);
        let mut other = contact(2, Channel::Telegram);
        other.consent.status = ConsentStatus::Withdrawn;
        assert!(merged(&this, &other, &BTreeMap::new(), Default::default()).consent.opted_out());
        assert!(parse_choices(&BTreeMap::from([("id".to_string(), "other".to_string())])).is_err());
        assert!(parse_choices(&BTreeMap::from([("name".to_string(), "both".to_string())])).is_err());
    }
}
