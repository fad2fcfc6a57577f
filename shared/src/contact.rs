//! The contact: what a team knows about one person who talked to its bots.

use crate::domain::{Channel, Consent, ContactId, Email, LeadStatus, Name, Phone, Tag};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub const MAX_TAGS: usize = 20;
pub const MAX_NOTES_CHARS: usize = 10_000;

/// A contact's identity within one channel (Telegram user id, Messenger PSID, WhatsApp wa_id, widget visitor id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    pub channel: Channel,
    pub external_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub name: Option<Name>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    /// The channel of first contact.
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub identities: Vec<Identity>,
    pub notes: Option<String>,
    pub tags: BTreeSet<Tag>,
    pub status: LeadStatus,
    /// A status set by a person sticks until a person changes it.
    pub status_manual: bool,
    pub consent: Consent,
    /// Incremented on every change; the API's ETag.
    pub version: u64,
}

/// What is needed to create a contact; everything but the channel is optional.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub name: Option<Name>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub channel: Channel,
    pub identity: Option<Identity>,
    pub notes: Option<String>,
    pub tags: BTreeSet<Tag>,
    pub status: Option<LeadStatus>,
    pub consent: Consent,
    /// Defaults to now; set by imports and demo data.
    pub created_at: Option<DateTime<Utc>>,
}

impl NewContact {
    pub fn on(channel: Channel) -> Self {
        NewContact {
            name: None,
            email: None,
            phone: None,
            channel,
            identity: None,
            notes: None,
            tags: BTreeSet::new(),
            status: None,
            consent: Consent::default(),
            created_at: None,
        }
    }

    /// The contact this input describes, once the store has allocated its id.
    pub fn into_contact(self, id: ContactId, now: DateTime<Utc>) -> Contact {
        let created_at = self.created_at.unwrap_or(now).trunc_subsecs(0);
        Contact {
            id,
            name: self.name,
            email: self.email,
            phone: self.phone,
            channel: self.channel,
            created_at,
            last_activity_at: created_at,
            identities: self.identity.into_iter().collect(),
            notes: self.notes,
            tags: self.tags,
            status: self.status.unwrap_or(LeadStatus::New),
            status_manual: self.status.is_some(),
            consent: self.consent,
            version: 1,
        }
    }
}

/// A field of a patch: left alone, cleared, or set.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    fn apply(self, field: &mut Option<T>) {
        match self {
            Change::Keep => {}
            Change::Clear => *field = None,
            Change::Set(v) => *field = Some(v),
        }
    }
}

/// An edit made by a person through the API or the dashboard.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactPatch {
    pub name: Change<Name>,
    pub email: Change<Email>,
    pub phone: Change<Phone>,
    pub notes: Change<String>,
    pub tags: Option<BTreeSet<Tag>>,
    pub status: Option<LeadStatus>,
    pub consent: Option<Consent>,
}

impl ContactPatch {
    pub fn is_empty(&self) -> bool {
        *self == ContactPatch::default()
    }

    /// The contact after this edit, with its version bumped.
    pub fn apply_to(self, contact: &Contact) -> Contact {
        let mut next = contact.clone();
        self.name.apply(&mut next.name);
        self.email.apply(&mut next.email);
        self.phone.apply(&mut next.phone);
        self.notes.apply(&mut next.notes);
        if let Some(tags) = self.tags {
            next.tags = tags;
        }
        if let Some(status) = self.status {
            next.status = status;
            next.status_manual = true;
        }
        if let Some(consent) = self.consent {
            next.consent = consent;
        }
        next.version += 1;
        next
    }
}

/// Checks shared by creation and edits that no single field can check alone.
pub fn check_limits(tags: &BTreeSet<Tag>, notes: Option<&str>) -> Result<(), (&'static str, String)> {
    if tags.len() > MAX_TAGS {
        return Err(("tags", format!("at most {MAX_TAGS} tags per contact, got {}", tags.len())));
    }
    if let Some(n) = notes {
        if n.chars().count() > MAX_NOTES_CHARS {
            return Err(("notes", format!("notes must be at most {MAX_NOTES_CHARS} characters")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> Contact {
        let mut new = NewContact::on(Channel::Frame);
        new.name = Some(Name::parse("Olivia Bennett").unwrap());
        new.email = Some(Email::parse("olivia@lumoco.dev").unwrap());
        new.into_contact(ContactId(1), "2025-08-22T05:02:29.750Z".parse().unwrap())
    }

    #[test]
    fn new_contacts_start_new_at_version_one_with_second_precision() {
        let c = contact();
        assert_eq!(c.status, LeadStatus::New);
        assert!(!c.status_manual);
        assert_eq!(c.version, 1);
        assert_eq!(c.created_at.to_rfc3339(), "2025-08-22T05:02:29+00:00");
        assert_eq!(c.last_activity_at, c.created_at);
    }

    #[test]
    fn patches_keep_clear_and_set_fields() {
        let patch = ContactPatch {
            name: Change::Keep,
            email: Change::Clear,
            phone: Change::Set(Phone::parse("+14155552671", None).unwrap()),
            status: Some(LeadStatus::FollowUp),
            ..Default::default()
        };
        let next = patch.apply_to(&contact());
        assert_eq!(next.name.unwrap().as_str(), "Olivia Bennett");
        assert!(next.email.is_none());
        assert_eq!(next.phone.unwrap().e164(), Some("+14155552671"));
        assert_eq!(next.status, LeadStatus::FollowUp);
        assert!(next.status_manual, "a status set by a person sticks");
        assert_eq!(next.version, 2);
    }

    #[test]
    fn limits_name_the_field() {
        let tags: BTreeSet<Tag> = (0..21).map(|i| Tag::parse(&format!("t{i}")).unwrap()).collect();
        assert_eq!(check_limits(&tags, None).unwrap_err().0, "tags");
        assert_eq!(check_limits(&BTreeSet::new(), Some(&"x".repeat(10_001))).unwrap_err().0, "notes");
        assert!(check_limits(&BTreeSet::new(), Some("ok")).is_ok());
    }
}
