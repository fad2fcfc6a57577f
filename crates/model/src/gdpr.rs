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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasureReceipt {
    pub id: String,
    pub erased_at: DateTime<Utc>,
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
