//! CRM sync and outbound webhooks: what an integration is, where it may send, which fields
//! it sends under which names, and how a webhook delivery is signed. No HTTP here: the
//! sync worker (`functions::crm_sync`) speaks each vendor's API.

pub mod address;
pub mod event;
pub mod fields;
pub mod signing;
pub mod spec;

use chrono::{DateTime, Utc};
use event::EventKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Which system an integration feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Hubspot,
    Salesforce,
    Zoho,
    Webhook,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Hubspot, Kind::Salesforce, Kind::Zoho, Kind::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Hubspot => "hubspot",
            Kind::Salesforce => "salesforce",
            Kind::Zoho => "zoho",
            Kind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Most records one vendor request carries (the vendors' documented limits).
    pub fn batch_size(self) -> usize {
        match self {
            Kind::Hubspot | Kind::Zoho => 100,
            Kind::Salesforce => 200,
            Kind::Webhook => 1,
        }
    }
}

/// Where an integration sends, by kind. Every address passed [`address::check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Hubspot { base_url: String },
    Salesforce { base_url: String, token_url: String, object: String, external_id_field: String },
    Zoho { base_url: String, accounts_url: String, module: String },
    Webhook { url: String, events: BTreeSet<EventKind> },
}

impl Target {
    pub fn kind(&self) -> Kind {
        match self {
            Target::Hubspot { .. } => Kind::Hubspot,
            Target::Salesforce { .. } => Kind::Salesforce,
            Target::Zoho { .. } => Kind::Zoho,
            Target::Webhook { .. } => Kind::Webhook,
        }
    }

    /// Whether a change of this kind is sent at all.
    pub fn wants(&self, event: EventKind) -> bool {
        match self {
            Target::Webhook { events, .. } => events.contains(&event),
            // A CRM holds contacts: conversations are not its records.
            _ => event != EventKind::ConversationClosed,
        }
    }
}

/// The vendors' real hosts, used where an integration does not name its own.
pub mod hosts {
    pub const HUBSPOT: &str = "https://api.hubapi.com";
    pub const SALESFORCE_LOGIN: &str = "https://login.salesforce.com/services/oauth2/token";
    pub const ZOHO_ACCOUNTS: &str = "https://accounts.zoho.com";
    pub const ZOHO_API: &str = "https://www.zohoapis.com";
}

/// What an integration authenticates with. Sealed at rest, never shown, never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Credentials {
    /// HubSpot's private-app token.
    Token { access_token: String },
    /// Salesforce's and Zoho's OAuth refresh-token grant; `access_token` is the last one
    /// the token endpoint gave.
    Refresh {
        client_id: String,
        client_secret: String,
        refresh_token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_token: Option<String>,
    },
    /// A webhook's signing secret (`whsec_…`).
    Signing { secret: String },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(redacted)")
    }
}

/// An integration as the API shows it, without its credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    pub id: String,
    pub name: String,
    pub target: Target,
    /// Our field → the vendor's field name (defaults of the kind, then the workspace's own).
    pub field_map: BTreeMap<fields::Field, String>,
    /// Only contacts these list filters match are sent (by the list's parameter names;
    /// empty: all). A contact that stops matching stays in the CRM as it was.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: BTreeMap<String, String>,
    /// A CRM only: a contact that arrived is archived here, with reason `moved_to_crm`.
    #[serde(default)]
    pub archive_after_sync: bool,
    pub paused: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// After this many failed deliveries in a row an integration shows as `failing`.
pub const FAILING_AFTER: u32 = 5;

/// How an integration's deliveries have gone: counters kept beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub synced: u64,
    pub failed: u64,
    pub consecutive_failures: u32,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<SyncError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Paused,
    Failing,
}

impl Status {
    pub fn of(integration: &Integration, health: &Health) -> Status {
        if integration.paused {
            Status::Paused
        } else if health.consecutive_failures >= FAILING_AFTER {
            Status::Failing
        } else {
            Status::Active
        }
    }
}

/// What a vendor answered when it refused: its HTTP status, its error code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncError {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
    pub at: DateTime<Utc>,
}

/// One contact's state in one integration: the vendor's id for it, when it last arrived,
/// and the vendor's last refusal (cleared by the next success).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSync {
    pub integration: String,
    pub remote_id: Option<String>,
    pub synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<SyncError>,
}

/// A new integration's id: time-ordered, so a listing is oldest first.
pub fn new_id(now: DateTime<Utc>) -> String {
    crate::domain::time_ordered_id("int_", now, 4)
}
