//! Data-subject requests: who a request is about, and the receipt an erasure leaves.

use crate::contact::Contact;
use crate::domain::{Channel, ContactId, Email, Phone};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who a request is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Email(Email),
    Phone(Phone),
    Identity(Channel, String),
    Contact(ContactId),
}

impl Subject {
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Email(_) => "email",
            Subject::Phone(_) => "phone",
            Subject::Identity(..) => "channel_identity",
            Subject::Contact(_) => "contact_id",
        }
    }

    /// The identity's text before hashing (`email:…`, `phone:…`, `id:<channel>:…`).
    pub fn identity(&self) -> Option<String> {
        match self {
            Subject::Email(e) => Some(format!("email:{}", e.key())),
            Subject::Phone(p) => Some(format!("phone:{}", p.key())),
            Subject::Identity(c, id) => Some(format!("id:{c}:{id}")),
            Subject::Contact(_) => None,
        }
    }
}

/// Every identity a contact can be recognized by again.
pub fn identities_of(contact: &Contact) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    out.extend(contact.email.as_ref().and_then(|e| Subject::Email(e.clone()).identity()));
    out.extend(contact.phone.as_ref().and_then(|p| Subject::Phone(p.clone()).identity()));
    out.extend(
        contact.identities.iter().filter_map(|i| Subject::Identity(i.channel, i.external_id.clone()).identity()),
    );
    out
}

/// What an erasure did, kept as proof. Holds no personal data: no name, email, phone or
/// identity, only counts, the (never reused) contact number and the requesting key's name.
/// It is written first, `pending`, with the person's identities suppressed; the purge that
/// follows may go on in the background, and the receipt ends `done` with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasureReceipt {
    pub id: String,
    /// When it was asked for: the person is opted out from then on.
    pub erased_at: DateTime<Utc>,
    /// Receipts written before erasures could be pending were written done.
    #[serde(default)]
    pub status: ErasureStatus,
    /// When nothing of the person was left.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    /// `email`, `phone`, `channel_identity` or `contact_id`.
    pub requested_by_kind: String,
    pub contact_id: Option<u64>,
    pub conversations_removed: u32,
    pub items_removed: u32,
    pub exports_deleted: u32,
    /// Salted hashes recorded so these identities stay opted out if they come back.
    pub identities_suppressed: u32,
    pub requested_by: String,
}

/// Whether `s` has the shape of an erasure receipt's id (`er`, then 21 hex digits).
pub fn is_erasure_id(s: &str) -> bool {
    crate::domain::is_time_ordered_id(s, "er")
}

/// Where an erasure stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    /// The identities are suppressed; the contact and its history are still being removed.
    Pending,
    #[default]
    Done,
}

impl ErasureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureStatus::Pending => "pending",
            ErasureStatus::Done => "done",
        }
    }
}

/// An access (portability) request: written `pending` before the document is assembled, so
/// that a request whose document outgrows the API's answer is recorded and finished by the
/// jobs worker. Holds no personal data: the contact's number and the requesting key's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub id: String,
    pub contact_id: u64,
    pub status: AccessStatus,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    /// When the document was answered or stored, or the request failed.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    /// The document's size once written.
    #[serde(default)]
    pub bytes: Option<u64>,
    /// Whether the document is in the exports bucket (else it was the request's answer).
    #[serde(default)]
    pub stored: bool,
    /// Why it failed.
    #[serde(default)]
    pub reason: Option<String>,
}

impl AccessRequest {
    pub fn new(contact: ContactId, requested_by: &str, now: DateTime<Utc>) -> Self {
        AccessRequest {
            id: crate::domain::time_ordered_id("ac", now, 4),
            contact_id: contact.0,
            status: AccessStatus::Pending,
            requested_at: now,
            requested_by: requested_by.to_string(),
            completed_at: None,
            bytes: None,
            stored: false,
            reason: None,
        }
    }

    /// The document of `bytes` was answered (`stored` false) or stored for a link.
    pub fn done(self, bytes: u64, stored: bool, now: DateTime<Utc>) -> Self {
        AccessRequest { status: AccessStatus::Done, completed_at: Some(now), bytes: Some(bytes), stored, ..self }
    }

    pub fn failed(self, reason: impl Into<String>, now: DateTime<Utc>) -> Self {
        AccessRequest { status: AccessStatus::Failed, completed_at: Some(now), reason: Some(reason.into()), ..self }
    }
}

/// Whether `s` has the shape of an access request's id (`ac`, then 21 hex digits).
pub fn is_access_request_id(s: &str) -> bool {
    crate::domain::is_time_ordered_id(s, "ac")
}

/// Where an access request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessStatus {
    /// The document is being assembled (in the jobs worker once the request handed it on).
    Pending,
    Done,
    /// The contact was erased (or merged away) before its document was finished.
    Failed,
}

impl AccessStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessStatus::Pending => "pending",
            AccessStatus::Done => "done",
            AccessStatus::Failed => "failed",
        }
    }
}
