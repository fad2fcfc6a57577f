//! What is needed to create a contact, from a person, an import or a channel's first event.

use crate::contact::{check_limits, Activity, Contact, Identity};
use crate::domain::{Channel, Consent, ConsentStatus, ContactId, Email, LeadStatus, Name, Phone, Region, Score, Tag};
use crate::enrichment::{enrich, Offer};
use crate::listing::FieldError;
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

/// A new contact's fields as given (an API body, a row of an imported file), before
/// parsing. Both go through [`ContactFields::parse`], so a value one accepts the other
/// accepts too.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactFields<'a> {
    pub channel: Option<&'a str>,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub tags: Vec<&'a str>,
    pub status: Option<&'a str>,
    pub consent: Option<&'a str>,
}

impl ContactFields<'_> {
    /// The new contact, or the first field at fault. `region` reads phone numbers without
    /// a country code; `source` is where a consent came from (`api`, `import`).
    pub fn parse(&self, region: Option<Region>, source: &str) -> Result<NewContact, FieldError> {
        fn field<T>(name: &str, result: Result<T, crate::domain::InvalidValue>) -> Result<T, FieldError> {
            result.map_err(|e| FieldError::new(name, e.0))
        }
        let channel = self.channel.ok_or_else(|| {
            FieldError::new("channel", "is required: one of frame, livechat, telegram, messenger, whatsapp")
        })?;
        let channel: Channel =
            channel.parse().map_err(|e: crate::domain::UnknownChannel| FieldError::new("channel", e.to_string()))?;
        let mut new = NewContact::on(channel);
        new.name = self.name.map(|n| field("name", Name::parse(n))).transpose()?;
        new.email = self.email.map(|e| field("email", Email::parse(e))).transpose()?;
        new.phone = self.phone.map(|p| field("phone", Phone::parse(p, region))).transpose()?;
        new.notes = self.notes.and_then(notes);
        new.tags = self.tags.iter().map(|t| field("tags", Tag::parse(t))).collect::<Result<_, _>>()?;
        new.status = self.status.map(|s| field("status", s.parse::<LeadStatus>())).transpose()?;
        if let Some(c) = self.consent {
            new.consent = consent(c, source, Utc::now())?;
        }
        check_limits(&new.tags, new.notes.as_deref()).map_err(|(f, m)| FieldError::new(f, m))?;
        Ok(new)
    }
}

/// Notes are free text; blank notes are no notes.
pub fn notes(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// A consent a person states (`granted` or `withdrawn`), recorded as from `source` at `at`.
pub fn consent(raw: &str, source: &str, at: DateTime<Utc>) -> Result<Consent, FieldError> {
    let status = match raw {
        "granted" => ConsentStatus::Granted,
        "withdrawn" => ConsentStatus::Withdrawn,
        other => {
            return Err(FieldError::new(
                "consent",
                format!("`{other}` is not a consent: expected granted or withdrawn"),
            ))
        }
    };
    Ok(Consent { status, source: Some(source.to_string()), updated_at: Some(at.trunc_subsecs(0)) })
}
