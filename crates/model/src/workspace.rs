//! A workspace (tenant): its settings and its live counts.

use crate::domain::{Channel, Region, WorkspaceId};
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
        }
    }
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
