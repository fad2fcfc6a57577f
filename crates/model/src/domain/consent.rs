use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether the contact agreed to be contacted for marketing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    #[default]
    Unknown,
    Granted,
    Withdrawn,
}

/// The current consent with when and where it was given or withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Consent {
    pub status: ConsentStatus,
    /// `api`, `form`, or a channel name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Consent {
    /// Nothing known yet: neither given nor withdrawn, from nowhere.
    pub fn is_unknown(&self) -> bool {
        *self == Consent::default()
    }

    pub fn opted_out(&self) -> bool {
        self.status == ConsentStatus::Withdrawn
    }
}
