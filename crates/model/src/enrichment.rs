//! Progressive enrichment: values offered for a contact's fields, each with its
//! provenance, applied by trust.
//!
//! A value fills an empty field; a filled field changes only for a value at least as
//! trusted as the one it holds (channel profile < user-given < person), so what a visitor
//! typed is never replaced by a channel's profile, and nothing a person entered is ever
//! overwritten by capture. Empty values never clear anything.

use crate::contact::{Contact, FieldSource, Trust};
use crate::domain::{Email, Name, Phone};

/// A value an event offers for a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Offered {
    Name(Name),
    Email(Email),
    Phone(Phone),
}

impl Offered {
    pub fn field(&self) -> &'static str {
        match self {
            Offered::Name(_) => "name",
            Offered::Email(_) => "email",
            Offered::Phone(_) => "phone",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub value: Offered,
    pub source: FieldSource,
}

/// Applies offers by the enrichment rules; returns the fields that changed.
pub fn enrich(contact: &mut Contact, offers: Vec<Offer>) -> Vec<&'static str> {
    let mut changed = Vec::new();
    for offer in offers {
        let field = offer.value.field();
        // A value without provenance predates it and was set by the API: treat it as a person's.
        let held = contact.provenance.get(field).map_or(Trust::Person, |s| s.trust);
        let accept = match &offer.value {
            Offered::Name(n) => {
                contact.name.is_none() || (offer.source.trust >= held && contact.name.as_ref() != Some(n))
            }
            Offered::Email(e) => {
                contact.email.is_none()
                    || (offer.source.trust >= held && contact.email.as_ref().map(Email::key) != Some(e.key()))
            }
            Offered::Phone(p) => {
                contact.phone.is_none()
                    || (offer.source.trust >= held && contact.phone.as_ref().map(Phone::key) != Some(p.key()))
            }
        };
        if !accept {
            continue;
        }
        match offer.value {
            Offered::Name(n) => contact.name = Some(n),
            Offered::Email(e) => contact.email = Some(e),
            Offered::Phone(p) => contact.phone = Some(p),
        }
        contact.provenance.insert(field.to_string(), offer.source);
        changed.push(field);
    }
    changed
}
