//! A workspace (tenant): its settings and its live counts.

use crate::domain::{Channel, InvalidValue, Region, WorkspaceId};
pub use chrono_tz::Tz;
use std::collections::BTreeMap;

/// A tenant and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    /// Reads phone numbers written without a country code.
    pub default_region: Option<Region>,
    /// How long deleted contacts stay restorable; 0 deletes at once.
    pub deletion_grace_days: u32,
    /// Lead status thresholds and intent phrases.
    pub lead_rules: crate::lead::LeadRules,
    /// Where its days begin: the list's date ranges and the dashboard's times.
    pub time_zone: Tz,
}

pub const DEFAULT_DELETION_GRACE_DAYS: u32 = 30;

impl Workspace {
    /// A workspace with every setting at its default (one not yet configured).
    pub fn with_defaults(id: WorkspaceId) -> Self {
        Workspace {
            name: id.to_string(),
            id,
            default_region: None,
            deletion_grace_days: DEFAULT_DELETION_GRACE_DAYS,
            lead_rules: crate::lead::LeadRules::default(),
            time_zone: Tz::UTC,
        }
    }
}

/// An IANA time zone name, exactly as the database spells it (`Europe/Berlin`, `UTC`).
pub fn parse_time_zone(name: &str) -> Result<Tz, InvalidValue> {
    name.parse::<Tz>().map_err(|_| {
        InvalidValue::new(format!("`{name}` is not an IANA time zone name such as Europe/Berlin or America/New_York"))
    })
}

/// The workspace's live counts, kept exact by the transactions that change contacts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub total: u64,
    pub channels: BTreeMap<Channel, u64>,
    pub statuses: BTreeMap<&'static str, u64>,
    pub scores: BTreeMap<&'static str, u64>,
    /// Contacts with an email or a phone.
    pub reachable: u64,
    /// Contacts with 2+ conversations.
    pub repeat_visitors: u64,
    /// Conversations of the counted contacts.
    pub contact_conversations: u64,
    pub open_conversations: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(parse_time_zone("Europe/Berlin"), Ok(chrono_tz::Europe::Berlin));
        assert_eq!(parse_time_zone("UTC"), Ok(Tz::UTC));
        assert_eq!(parse_time_zone("America/Los_Angeles").unwrap().name(), "America/Los_Angeles");
        for bad in ["", "Mars/Olympus_Mons", "europe/berlin", "+02:00", "Europe/Berlin "] {
            assert!(parse_time_zone(bad).is_err(), "{bad:?}");
        }
    }
}
