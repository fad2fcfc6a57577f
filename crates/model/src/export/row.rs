//! The columns of an export: the contacts table's, then status, tags, last activity and
//! whether the contact opted out. Dates as the API shows them.

use crate::contact::ListedContact;
use crate::listing::api_time;

pub const COLUMNS: [&str; 10] =
    ["id", "name", "email", "phone", "channel", "created_at", "status", "tags", "last_activity_at", "opted_out"];

/// One contact as an export row.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub id: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub channel: &'static str,
    pub created_at: String,
    pub status: &'static str,
    pub tags: Vec<String>,
    pub last_activity_at: String,
    pub opted_out: bool,
}

impl From<&ListedContact> for ExportRow {
    fn from(c: &ListedContact) -> Self {
        ExportRow {
            id: c.id.0,
            name: c.name.as_ref().map(|n| n.as_str().to_string()),
            email: c.email.as_ref().map(|e| e.as_str().to_string()),
            phone: c.phone.as_ref().map(|p| p.raw().to_string()),
            channel: c.channel.as_str(),
            created_at: api_time(c.created_at),
            status: c.status.as_str(),
            tags: c.tags.iter().map(|t| t.to_string()).collect(),
            last_activity_at: api_time(c.last_activity_at),
            opted_out: c.consent.opted_out(),
        }
    }
}

impl ExportRow {
    /// The cells as text, in `COLUMNS` order (tags joined with `; `).
    pub fn cells(&self) -> [String; 10] {
        [
            self.id.to_string(),
            self.name.clone().unwrap_or_default(),
            self.email.clone().unwrap_or_default(),
            self.phone.clone().unwrap_or_default(),
            self.channel.to_string(),
            self.created_at.clone(),
            self.status.to_string(),
            self.tags.join("; "),
            self.last_activity_at.clone(),
            self.opted_out.to_string(),
        ]
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "name": self.name, "email": self.email, "phone": self.phone, "channel": self.channel,
            "created_at": self.created_at, "status": self.status, "tags": self.tags,
            "last_activity_at": self.last_activity_at, "opted_out": self.opted_out,
        })
    }
}
