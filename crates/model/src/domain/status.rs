use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::InvalidValue;

/// Where a contact stands as a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    New,
    Active,
    FollowUp,
    Archived,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 4] = [LeadStatus::New, LeadStatus::Active, LeadStatus::FollowUp, LeadStatus::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Active => "active",
            LeadStatus::FollowUp => "follow_up",
            LeadStatus::Archived => "archived",
        }
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LeadStatus {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LeadStatus::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
            InvalidValue::new(format!("`{s}` is not a lead status: expected new, active, follow_up or archived"))
        })
    }
}

/// How likely a contact is to buy, from its activity and intents (`lead::refresh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Score {
    #[default]
    Cold,
    Warm,
    Hot,
}

impl Score {
    pub const ALL: [Score; 3] = [Score::Hot, Score::Warm, Score::Cold];

    pub fn as_str(self) -> &'static str {
        match self {
            Score::Hot => "hot",
            Score::Warm => "warm",
            Score::Cold => "cold",
        }
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Score {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Score::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| InvalidValue::new(format!("`{s}` is not a score: expected hot, warm or cold")))
    }
}
