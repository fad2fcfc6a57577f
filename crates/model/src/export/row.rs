//! The columns of an export: the contacts table's (the phone in international format), then
//! the phone in E.164, status, score, tags, last activity, consent and whether the contact
//! opted out. Dates as the API shows them.

use crate::contact::ListedContact;
use crate::domain::ConsentStatus;
use crate::listing::api_time;

pub const COLUMNS: [&str; 13] = [
    "id",
    "name",
    "email",
    "phone",
    "channel",
    "created_at",
    "phone_e164",
    "status",
    "score",
    "tags",
    "last_activity_at",
    "consent",
    "opted_out",
];

/// One contact as an export row.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub id: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    /// International format (`+1 415-555-2671`); as given when it does not parse.
    pub phone: Option<String>,
    pub channel: &'static str,
    pub created_at: String,
    pub phone_e164: Option<String>,
    pub status: &'static str,
    pub score: &'static str,
    pub tags: Vec<String>,
    pub last_activity_at: String,
    /// `granted`, `withdrawn` or `unknown`.
    pub consent: &'static str,
    pub opted_out: bool,
}

impl From<&ListedContact> for ExportRow {
    fn from(c: &ListedContact) -> Self {
        ExportRow {
            id: c.id.0,
            name: c.name.as_ref().map(|n| n.as_str().to_string()),
            email: c.email.as_ref().map(|e| e.as_str().to_string()),
            phone: c.phone.as_ref().map(|p| p.international()),
            channel: c.channel.as_str(),
            created_at: api_time(c.created_at),
            phone_e164: c.phone.as_ref().and_then(|p| p.e164()).map(str::to_string),
            status: c.status.as_str(),
            score: c.score.as_str(),
            tags: c.tags.iter().map(|t| t.to_string()).collect(),
            last_activity_at: api_time(c.last_activity_at),
            consent: match c.consent.status {
                ConsentStatus::Granted => "granted",
                ConsentStatus::Withdrawn => "withdrawn",
                ConsentStatus::Unknown => "unknown",
            },
            opted_out: c.consent.opted_out(),
        }
    }
}

impl ExportRow {
    /// The cells as text, in `COLUMNS` order (tags joined with `; `).
    pub fn cells(&self) -> [String; 13] {
        [
            self.id.to_string(),
            self.name.clone().unwrap_or_default(),
            self.email.clone().unwrap_or_default(),
            self.phone.clone().unwrap_or_default(),
            self.channel.to_string(),
            self.created_at.clone(),
            self.phone_e164.clone().unwrap_or_default(),
            self.status.to_string(),
            self.score.to_string(),
            self.tags.join("; "),
            self.last_activity_at.clone(),
            self.consent.to_string(),
            self.opted_out.to_string(),
        ]
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "name": self.name, "email": self.email, "phone": self.phone, "channel": self.channel,
            "created_at": self.created_at, "phone_e164": self.phone_e164, "status": self.status,
            "score": self.score, "tags": self.tags, "last_activity_at": self.last_activity_at,
            "consent": self.consent, "opted_out": self.opted_out,
        })
    }
}
