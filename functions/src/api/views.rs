//! The JSON shapes of contacts. The first six fields keep the names and formats of the
//! product documentation; more follow them.

use crate::api::openapi::schemas as doc;
use model::contact::{Contact, FieldSource, Identity, ListedContact};
use model::domain::Consent;
use model::listing::api_time;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A row of the contact list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ContactRow)]
pub struct ContactRow {
    #[schema(minimum = 1, example = 1042)]
    pub id: u64,
    #[schema(required = true, value_type = Option<String>, example = "Mason Clark")]
    pub name: Option<String>,
    #[schema(required = true, value_type = Option<String>, format = Email, example = "mason.clark@example.com")]
    pub email: Option<String>,
    /// As given (or as the channel reported it).
    #[schema(required = true, value_type = Option<String>, example = "+1 415 555 0142")]
    pub phone: Option<String>,
    /// The channel of first contact.
    #[schema(value_type = doc::ChannelName)]
    pub channel: &'static str,
    #[schema(format = DateTime, example = "2025-08-22T05:02:29Z")]
    pub created_at: String,
    /// `null` when the phone does not parse as a number.
    #[schema(required = true, value_type = Option<String>, example = "+14155550142")]
    pub phone_e164: Option<String>,
    #[schema(value_type = doc::LeadStatusName)]
    pub status: &'static str,
    #[schema(value_type = doc::LeadScoreName)]
    pub score: &'static str,
    /// Normalized, sorted.
    #[schema(value_type = Vec<String>, example = json!(["pricing", "vip"]))]
    pub tags: Vec<String>,
    #[schema(format = DateTime, example = "2025-08-22T05:05:00Z")]
    pub last_activity_at: String,
}

impl From<&ListedContact> for ContactRow {
    fn from(c: &ListedContact) -> Self {
        ContactRow {
            id: c.id.0,
            name: c.name.as_ref().map(|n| n.as_str().to_string()),
            email: c.email.as_ref().map(|e| e.as_str().to_string()),
            phone: c.phone.as_ref().map(|p| p.raw().to_string()),
            channel: c.channel.as_str(),
            created_at: api_time(c.created_at),
            phone_e164: c.phone.as_ref().and_then(|p| p.e164()).map(str::to_string),
            status: c.status.as_str(),
            score: c.score.as_str(),
            tags: c.tags.iter().map(|t| t.to_string()).collect(),
            last_activity_at: api_time(c.last_activity_at),
        }
    }
}

impl From<&Contact> for ContactRow {
    fn from(c: &Contact) -> Self {
        ContactRow::from(&c.listed())
    }
}

/// One contact in full: the row's fields, then these.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Contact)]
pub struct ContactDetail<'a> {
    #[serde(flatten)]
    pub row: ContactRow,
    /// False when the phone was kept as given because it does not parse as a number; `null` without a phone.
    #[schema(required = true)]
    pub phone_valid: Option<bool>,
    #[schema(value_type = Vec<doc::Identity>)]
    pub identities: &'a [Identity],
    #[schema(required = true, value_type = Option<String>)]
    pub notes: Option<&'a str>,
    /// `person` when someone set the status, `activity` when it follows the lead rules,
    /// `retention` or `integration` when the retention policy or a CRM's sync archived it.
    #[schema(value_type = doc::StatusSetBy)]
    pub status_set_by: &'static str,
    /// Why it is archived when no person archived it: `inactive` (the retention policy) or
    /// `moved_to_crm` (an integration took it); `null` otherwise.
    #[schema(required = true, example = "moved_to_crm")]
    pub archived_reason: Option<&'a str>,
    /// Why the score is what it is, as of now.
    pub score_reasons: Vec<String>,
    pub conversations: u32,
    #[schema(format = DateTime)]
    pub first_contact_at: String,
    #[schema(value_type = doc::Consent)]
    pub consent: &'a Consent,
    /// Earlier consents, oldest first (time and source of each).
    #[schema(value_type = Vec<doc::Consent>)]
    pub consent_history: &'a [Consent],
    pub opted_out: bool,
    /// Where name, email and phone came from (channel, event, time, trust).
    #[schema(value_type = BTreeMap<String, doc::FieldSource>)]
    pub provenance: &'a BTreeMap<String, FieldSource>,
    /// Grows with every change; send it back as `If-Match: "<version>"`.
    #[schema(minimum = 1)]
    pub version: u64,
    /// Its state in each integration that has sent it (on `GET` of one contact and in a
    /// data-subject export): the vendor's id, when it arrived, the vendor's last refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<Vec<crate::api::integrations::SyncStateView>>,
}

impl<'a> From<&'a Contact> for ContactDetail<'a> {
    fn from(c: &'a Contact) -> Self {
        ContactDetail {
            row: ContactRow::from(c),
            phone_valid: c.phone.as_ref().map(|p| p.is_valid()),
            identities: &c.identities,
            notes: c.notes.as_deref(),
            status_set_by: match (c.status_manual, c.archived_reason.as_deref()) {
                (false, _) => "activity",
                (true, Some(model::contact::ARCHIVED_INACTIVE)) => "retention",
                (true, Some(model::contact::ARCHIVED_MOVED_TO_CRM)) => "integration",
                (true, _) => "person",
            },
            archived_reason: c.archived_reason.as_deref(),
            score_reasons: model::lead::score(c, chrono::Utc::now()).1,
            conversations: c.activity.conversations,
            first_contact_at: api_time(c.created_at),
            consent: &c.consent,
            consent_history: &c.consent_history,
            opted_out: c.consent.opted_out(),
            provenance: &c.provenance,
            version: c.version,
            sync: None,
        }
    }
}

/// The strong ETag of a contact version.
pub fn etag(c: &Contact) -> String {
    format!("\"{}\"", c.version)
}
