//! Request bodies for creating and editing contacts, parsed field by field so that an
//! error names the field at fault.

use crate::api::openapi::schemas as doc;
use crate::http::Problem;
use model::contact::{check_limits, Change, ContactPatch};
use model::domain::{Consent, Email, InvalidValue, LeadStatus, Name, Phone, Region, Tag};
use model::new_contact::{self, ContactFields, NewContact};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// A new contact: only `channel` is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewContact, example = json!({"channel": "telegram", "name": "Mason Clark", "email": "mason.clark@example.com", "tags": ["vip"]}))]
pub struct CreateBody {
    /// The channel of first contact.
    #[schema(required = true, value_type = doc::ChannelName)]
    channel: Option<String>,
    /// Whitespace collapsed, 1 to 100 characters.
    name: Option<String>,
    #[schema(format = Email)]
    email: Option<String>,
    /// Read with the workspace's default region when it has no country code.
    phone: Option<String>,
    /// Free text, at most 5,000 characters; blank is none.
    notes: Option<String>,
    tags: Option<Vec<String>>,
    /// Set by a person: the lead rules leave it alone from then on.
    #[schema(value_type = Option<doc::LeadStatusName>)]
    status: Option<String>,
    #[schema(value_type = Option<doc::ConsentChoice>)]
    consent: Option<String>,
}

/// Absent = leave alone; `null` = clear; a value = set. At least one member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ContactPatch, example = json!({"email": "mason@example.org", "status": "follow_up"}))]
pub struct PatchBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Email)]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    notes: Option<Option<String>>,
    /// Replaces the tags.
    tags: Option<Vec<String>>,
    #[schema(value_type = Option<doc::LeadStatusName>)]
    status: Option<String>,
    #[schema(value_type = Option<doc::ConsentChoice>)]
    consent: Option<String>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn field<T>(name: &str, result: Result<T, InvalidValue>) -> Result<T, Problem> {
    result.map_err(|e| Problem::invalid_field(name, e.0))
}

fn tags(raw: Vec<String>) -> Result<BTreeSet<Tag>, Problem> {
    raw.iter().map(|t| field("tags", Tag::parse(t))).collect()
}

fn consent(raw: &str) -> Result<Consent, Problem> {
    Ok(new_contact::consent(raw, "api", chrono::Utc::now())?)
}

fn limits(tags: &BTreeSet<Tag>, notes: Option<&str>) -> Result<(), Problem> {
    check_limits(tags, notes).map_err(|(f, m)| Problem::invalid_field(f, m))
}

impl CreateBody {
    pub fn into_new_contact(self, region: Option<Region>) -> Result<NewContact, Problem> {
        let tags: Vec<&str> = self.tags.iter().flatten().map(String::as_str).collect();
        let fields = ContactFields {
            channel: self.channel.as_deref(),
            name: self.name.as_deref(),
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            notes: self.notes.as_deref(),
            tags,
            status: self.status.as_deref(),
            consent: self.consent.as_deref(),
        };
        Ok(fields.parse(region, "api")?)
    }
}

impl PatchBody {
    pub fn into_patch(self, region: Option<Region>) -> Result<ContactPatch, Problem> {
        fn change<T>(
            name: &str,
            raw: Option<Option<String>>,
            parse: impl Fn(&str) -> Result<T, InvalidValue>,
        ) -> Result<Change<T>, Problem> {
            match raw {
                None => Ok(Change::Keep),
                Some(None) => Ok(Change::Clear),
                Some(Some(v)) => field(name, parse(&v)).map(Change::Set),
            }
        }
        let patch = ContactPatch {
            name: change("name", self.name, Name::parse)?,
            email: change("email", self.email, Email::parse)?,
            phone: change("phone", self.phone, |p| Phone::parse(p, region))?,
            notes: match self.notes {
                None => Change::Keep,
                Some(v) => v.as_deref().and_then(new_contact::notes).map_or(Change::Clear, Change::Set),
            },
            tags: self.tags.map(tags).transpose()?,
            status: self.status.as_deref().map(|s| field("status", s.parse::<LeadStatus>())).transpose()?,
            consent: self.consent.as_deref().map(consent).transpose()?,
        };
        let notes = match &patch.notes {
            Change::Set(n) => Some(n.as_str()),
            _ => None,
        };
        limits(patch.tags.as_ref().unwrap_or(&BTreeSet::new()), notes)?;
        if patch.is_empty() {
            return Err(Problem::bad_request(
                "the patch changes nothing: send at least one of name, email, phone, notes, tags, status, consent",
            ));
        }
        Ok(patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(json: &str) -> Result<NewContact, Problem> {
        serde_json::from_str::<CreateBody>(json).unwrap().into_new_contact(None)
    }

    fn patch(json: &str) -> Result<ContactPatch, Problem> {
        serde_json::from_str::<PatchBody>(json).unwrap().into_patch(None)
    }

    #[test]
    fn creation_errors_name_their_field() {
        for (json, field) in [
            (r#"{}"#, "channel"),
            (r#"{"channel":"fax"}"#, "channel"),
            (r#"{"channel":"frame","email":"nope"}"#, "email"),
            (r#"{"channel":"frame","name":"  "}"#, "name"),
            (r#"{"channel":"frame","phone":"abc"}"#, "phone"),
            (r#"{"channel":"frame","tags":["a#b"]}"#, "tags"),
            (r#"{"channel":"frame","status":"hot"}"#, "status"),
            (r#"{"channel":"frame","consent":"maybe"}"#, "consent"),
        ] {
            let problem = create(json).unwrap_err();
            assert_eq!(problem.details.errors[0].field, field, "{json}");
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<CreateBody>(r#"{"channel":"frame","nmae":"x"}"#).is_err());
        assert!(serde_json::from_str::<PatchBody>(r#"{"id":3}"#).is_err());
    }

    #[test]
    fn patches_tell_clearing_from_leaving_alone() {
        let p = patch(r#"{"email":null,"name":"Mason Clark","notes":"  "}"#).unwrap();
        assert_eq!(p.email, Change::Clear);
        assert_eq!(p.name, Change::Set(Name::parse("Mason Clark").unwrap()));
        assert_eq!(p.notes, Change::Clear);
        assert_eq!(p.phone, Change::Keep);
        assert!(patch("{}").is_err());
    }
}
