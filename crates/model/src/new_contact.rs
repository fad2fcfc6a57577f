//! What is needed to create a contact, from a person, an import or a channel's first event.

use crate::contact::{Activity, Contact, Identity};
use crate::domain::{Channel, Consent, ContactId, Email, LeadStatus, Name, Phone, Score, Tag};
use crate::enrichment::{enrich, Offer};
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// What is needed to create a contact; everything but the channel is optional.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub name: Option<Name>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub channel: Channel,
    pub identity: Option<Identity>,
    pub notes: Option<String>,
    pub tags: BTreeSet<Tag>,
    pub status: Option<LeadStatus>,
    pub consent: Consent,
    /// Defaults to now; set by imports, demo data and capture (the first event's time).
    pub created_at: Option<DateTime<Utc>>,
    /// Captured values, applied by the enrichment rules with their provenance.
    pub offers: Vec<Offer>,
}

impl NewContact {
    pub fn on(channel: Channel) -> Self {
        NewContact {
            name: None,
            email: None,
            phone: None,
            channel,
            identity: None,
            notes: None,
            tags: BTreeSet::new(),
            status: None,
            consent: Consent::default(),
            created_at: None,
            offers: Vec::new(),
        }
    }

    /// The contact this input describes, once its id is allocated. Its lead status and
    /// score are the workspace's to derive (`lead::refresh` with its policy).
    pub fn into_contact(self, id: ContactId, now: DateTime<Utc>) -> Contact {
        let created_at = self.created_at.unwrap_or(now).trunc_subsecs(0);
        let mut contact = Contact {
            id,
            name: self.name,
            email: self.email,
            phone: self.phone,
            channel: self.channel,
            created_at,
            last_activity_at: created_at,
            identities: self.identity.into_iter().collect(),
            notes: self.notes,
            tags: self.tags,
            status: self.status.unwrap_or(LeadStatus::New),
            status_manual: self.status.is_some(),
            archived_reason: None,
            consent: self.consent,
            consent_history: Vec::new(),
            other_emails: Vec::new(),
            other_phones: Vec::new(),
            activity: Activity::default(),
            score: Score::Cold,
            provenance: BTreeMap::new(),
            open_conversations: Vec::new(),
            deleted_at: None,
            purge_after: None,
            version: 1,
            live_version: 0,
        };
        enrich(&mut contact, self.offers);
        contact
    }
}
