//! The JSON shapes of contacts. The first six fields keep the names and formats of the
//! product documentation; more follow them.

use model::contact::{Contact, FieldSource, Identity};
use model::domain::Consent;
use model::listing::api_time;
use serde::Serialize;
use std::collections::BTreeMap;

/// A row of the contact list.
#[derive(Debug, Serialize)]
pub struct ContactRow<'a> {
    pub id: u64,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub channel: &'static str,
    pub created_at: String,
    pub phone_e164: Option<&'a str>,
    pub status: &'static str,
    pub score: &'static str,
    pub tags: Vec<&'a str>,
    pub last_activity_at: String,
}

impl<'a> From<&'a Contact> for ContactRow<'a> {
    fn from(c: &'a Contact) -> Self {
        ContactRow {
            id: c.id.0,
            name: c.name.as_ref().map(|n| n.as_str()),
            email: c.email.as_ref().map(|e| e.as_str()),
            phone: c.phone.as_ref().map(|p| p.raw()),
            channel: c.channel.as_str(),
            created_at: api_time(c.created_at),
            phone_e164: c.phone.as_ref().and_then(|p| p.e164()),
            status: c.status.as_str(),
            score: c.score.as_str(),
            tags: c.tags.iter().map(|t| t.as_str()).collect(),
            last_activity_at: api_time(c.last_activity_at),
        }
    }
}

/// One contact in full.
#[derive(Debug, Serialize)]
pub struct ContactDetail<'a> {
    #[serde(flatten)]
    pub row: ContactRow<'a>,
    /// False when the phone was kept as given because it does not parse as a number.
    pub phone_valid: Option<bool>,
    pub identities: &'a [Identity],
    pub notes: Option<&'a str>,
    pub status_set_by: &'static str,
    /// Why the score is what it is, as of now.
    pub score_reasons: Vec<String>,
    pub conversations: u32,
    pub first_contact_at: String,
    pub consent: &'a Consent,
    /// Earlier consents, oldest first (time and source of each).
    pub consent_history: &'a [Consent],
    pub opted_out: bool,
    /// Where name, email and phone came from (channel, event, time, trust).
    pub provenance: &'a BTreeMap<String, FieldSource>,
    pub version: u64,
}

impl<'a> From<&'a Contact> for ContactDetail<'a> {
    fn from(c: &'a Contact) -> Self {
        ContactDetail {
            row: ContactRow::from(c),
            phone_valid: c.phone.as_ref().map(|p| p.is_valid()),
            identities: &c.identities,
            notes: c.notes.as_deref(),
            status_set_by: if c.status_manual { "person" } else { "activity" },
            score_reasons: model::lead::score(c, chrono::Utc::now()).1,
            conversations: c.activity.conversations,
            first_contact_at: api_time(c.created_at),
            consent: &c.consent,
            consent_history: &c.consent_history,
            opted_out: c.consent.opted_out(),
            provenance: &c.provenance,
            version: c.version,
        }
    }
}

/// The strong ETag of a contact version.
pub fn etag(c: &Contact) -> String {
    format!("\"{}\"", c.version)
}
