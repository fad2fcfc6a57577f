//! The contact: what a team knows about one person who talked to its bots.

use crate::conversation::OpenConversation;
use crate::domain::{Channel, Consent, ContactId, Email, LeadStatus, Name, Phone, Score, Tag};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const MAX_TAGS: usize = 20;
pub const MAX_NOTES_CHARS: usize = 10_000;

/// A contact's identity within one channel (Telegram user id, Messenger PSID, WhatsApp wa_id, widget visitor id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    pub channel: Channel,
    pub external_id: String,
    /// The channel's handle, such as a Telegram username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl Identity {
    pub fn new(channel: Channel, external_id: impl Into<String>) -> Self {
        Identity { channel, external_id: external_id.into(), username: None }
    }
}

/// How much a field's value can be trusted, by where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// What a channel's profile says (Telegram name, WhatsApp profile name).
    ChannelProfile,
    /// What the visitor typed themselves (email collection, contact form, shared contact).
    UserGiven,
    /// What a person on the team entered.
    Person,
}

/// Where a field's current value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSource {
    /// A channel name, or `api`.
    pub source: String,
    /// The event that gave it: `message`, `email_collected`, `contact_form_submitted`, `edit`, …
    pub event: String,
    pub at: DateTime<Utc>,
    pub trust: Trust,
}

/// Counts that lead status, score and analytics are derived from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub conversations: u32,
    pub user_messages: u32,
    /// Buying intents found in the visitor's messages (`pricing`, `demo`, …).
    #[serde(default)]
    pub intents: BTreeSet<String>,
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
    // Defaults are left out of the item: a list index entry (`ListedContact`) stays small.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<Tag>,
    pub status: LeadStatus,
    /// A status set by a person sticks until a person changes it.
    pub status_manual: bool,
    /// Why it was archived when no person did it: [`ARCHIVED_INACTIVE`] (the retention
    /// policy) or [`ARCHIVED_MOVED_TO_CRM`] (an integration's `archive_after_sync`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Consent::is_unknown")]
    pub consent: Consent,
    /// Earlier consents, oldest first: when and where each was given or withdrawn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consent_history: Vec<Consent>,
    /// Emails and phones of contacts merged into this one that it did not take as its own:
    /// they still resolve to it (their guards point here) and are searchable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_emails: Vec<Email>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_phones: Vec<Phone>,
    /// What the score and status are derived from.
    #[serde(default)]
    pub activity: Activity,
    /// Kept current by capture and re-aged daily; its reasons are computed when shown.
    #[serde(default)]
    pub score: crate::domain::Score,
    /// Where name, email and phone came from, by field.
    #[serde(default)]
    pub provenance: BTreeMap<String, FieldSource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_conversations: Vec<OpenConversation>,
    /// Set when deleted with a grace period: hidden everywhere, restorable until `purge_after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_after: Option<DateTime<Utc>>,
    /// Incremented on every change of the profile (everything but the live state); the API's ETag.
    pub version: u64,
    /// Incremented on every change of the live state: `last_activity_at`,
    /// `activity.user_messages` and `open_conversations`, which every captured message moves.
    /// Kept apart so that a message neither rewrites the profile nor changes its ETag.
    #[serde(default)]
    pub live_version: u64,
}

/// `archived_reason` of a contact the retention policy archived.
pub const ARCHIVED_INACTIVE: &str = "inactive";
/// `archived_reason` of a contact archived once a CRM took it (the product's "Moved to CRM").
pub const ARCHIVED_MOVED_TO_CRM: &str = "moved_to_crm";

/// Earlier consents kept per contact.
pub const MAX_CONSENT_HISTORY: usize = 50;

/// A contact as a list shows it: the fields of a list row and an export row, and what every
/// list filter and a search check, nothing more. The list indexes project exactly these
/// attributes of the profile ([`LISTED_ATTRIBUTES`], the same names), so a list page reads
/// one compact index page and no profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedContact {
    pub id: ContactId,
    pub name: Option<Name>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
    /// As of the profile's last write (see `Contact::live_version`).
    pub last_activity_at: DateTime<Utc>,
    #[serde(default)]
    pub tags: BTreeSet<Tag>,
    pub status: LeadStatus,
    #[serde(default)]
    pub score: Score,
    #[serde(default, skip_serializing_if = "Consent::is_unknown")]
    pub consent: Consent,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_emails: Vec<Email>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_phones: Vec<Phone>,
    /// The contact's channel handles (Telegram usernames), for search. Only search entries
    /// carry them: the list indexes do not project them, so other rows have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handles: Vec<String>,
}

/// The profile's attributes a [`ListedContact`] is read from (its `handles` excepted: the
/// profile keeps them in `identities`).
pub const LISTED_ATTRIBUTES: [&str; 13] = [
    "id",
    "name",
    "email",
    "phone",
    "channel",
    "created_at",
    "last_activity_at",
    "tags",
    "status",
    "score",
    "consent",
    "other_emails",
    "other_phones",
];

impl Contact {
    /// Whether the two differ only in their live state (and versions): then only the live
    /// state needs writing.
    pub fn same_profile(&self, other: &Contact) -> bool {
        let masked = |c: &Contact| Contact {
            last_activity_at: DateTime::<Utc>::MIN_UTC,
            activity: Activity { user_messages: 0, ..c.activity.clone() },
            open_conversations: Vec::new(),
            version: 0,
            live_version: 0,
            ..c.clone()
        };
        masked(self) == masked(other)
    }

    /// Whether the two have the same live state.
    pub fn same_live_state(&self, other: &Contact) -> bool {
        self.last_activity_at == other.last_activity_at
            && self.activity.user_messages == other.activity.user_messages
            && self.open_conversations == other.open_conversations
    }

    /// What a list shows of it.
    pub fn listed(&self) -> ListedContact {
        ListedContact {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            channel: self.channel,
            created_at: self.created_at,
            last_activity_at: self.last_activity_at,
            tags: self.tags.clone(),
            status: self.status,
            score: self.score,
            consent: self.consent.clone(),
            other_emails: self.other_emails.clone(),
            other_phones: self.other_phones.clone(),
            handles: self.identities.iter().filter_map(|i| i.username.clone()).collect(),
        }
    }

    /// Listed, searched, counted and exported: not soft-deleted.
    pub fn is_visible(&self) -> bool {
        self.deleted_at.is_none()
    }

    /// Records a new consent, keeping the one it replaces in the history.
    pub fn set_consent(&mut self, consent: Consent) {
        if consent == self.consent {
            return;
        }
        let previous = std::mem::replace(&mut self.consent, consent);
        if previous != Consent::default() {
            self.consent_history.push(previous);
            let excess = self.consent_history.len().saturating_sub(MAX_CONSENT_HISTORY);
            self.consent_history.drain(..excess);
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

    /// The names of the fields it changes, as the API calls them.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("name", self.name != Change::Keep),
            ("email", self.email != Change::Keep),
            ("phone", self.phone != Change::Keep),
            ("notes", self.notes != Change::Keep),
            ("tags", self.tags.is_some()),
            ("status", self.status.is_some()),
            ("consent", self.consent.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }

    /// The contact after this edit, with its version bumped; its lead status and score
    /// are the workspace's to derive (`lead::refresh` with its policy). Edited fields become
    /// the person's: capture never overwrites them.
    pub fn apply_to(self, contact: &Contact) -> Contact {
        let mut next = contact.clone();
        let edited = [
            ("name", self.name != Change::Keep),
            ("email", self.email != Change::Keep),
            ("phone", self.phone != Change::Keep),
        ];
        let now = Utc::now();
        for (field, changed) in edited {
            if changed {
                let source = FieldSource { source: "api".into(), event: "edit".into(), at: now, trust: Trust::Person };
                next.provenance.insert(field.to_string(), source);
            }
        }
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
            // The person's choice now: no other reason.
            next.archived_reason = None;
        }
        if let Some(consent) = self.consent {
            next.set_consent(consent);
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

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub conversations: u32,
    pub items: u32,
    /// It stopped at its deadline with items left: run it again.
    pub cut_short: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::new_contact::NewContact;

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
        assert_eq!(next.provenance["phone"].trust, Trust::Person);
        assert!(!next.provenance.contains_key("name"));
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
