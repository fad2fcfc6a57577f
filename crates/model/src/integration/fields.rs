//! Which of a contact's fields an integration sends, under which vendor names. Each kind
//! has defaults (the vendor's standard fields where it has one, custom fields named in
//! docs/integrations.md otherwise); a workspace renames or drops any of them.

use super::Kind;
use crate::contact::Contact;
use crate::listing::api_time;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Our fields, as the field map names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    FirstName,
    LastName,
    Email,
    /// E.164 where the number is valid, as given otherwise.
    Phone,
    Channel,
    Status,
    Score,
    /// Comma-separated.
    Tags,
    FirstContact,
    LastActivity,
    /// `true` once the contact withdrew consent: the one field still sent after an opt-out.
    OptedOut,
    /// Our contact id: how a record without email is found again.
    ContactId,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::FirstName,
        Field::LastName,
        Field::Email,
        Field::Phone,
        Field::Channel,
        Field::Status,
        Field::Score,
        Field::Tags,
        Field::FirstContact,
        Field::LastActivity,
        Field::OptedOut,
        Field::ContactId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Channel => "channel",
            Field::Status => "status",
            Field::Score => "score",
            Field::Tags => "tags",
            Field::FirstContact => "first_contact",
            Field::LastActivity => "last_activity",
            Field::OptedOut => "opted_out",
            Field::ContactId => "contact_id",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Salesforce and Zoho refuse a lead without a last name; this stands in for a visitor who
/// gave none (Salesforce's own convention for web-to-lead).
pub const NOT_PROVIDED: &str = "[not provided]";

/// A kind's default vendor field names. Webhooks send the contact's API representation.
pub fn defaults(kind: Kind) -> BTreeMap<Field, String> {
    let names: [&str; 12] = match kind {
        Kind::Hubspot => [
            "firstname",
            "lastname",
            "email",
            "phone",
            "aibot_channel",
            "aibot_lead_status",
            "aibot_lead_score",
            "aibot_tags",
            "aibot_first_contact",
            "aibot_last_activity",
            "aibot_opted_out",
            "aibot_contact_id",
        ],
        Kind::Salesforce => [
            "FirstName",
            "LastName",
            "Email",
            "Phone",
            "LeadSource",
            "AIBot_Status__c",
            "AIBot_Score__c",
            "AIBot_Tags__c",
            "AIBot_First_Contact__c",
            "AIBot_Last_Activity__c",
            "HasOptedOutOfEmail",
            "AIBot_Contact_Id__c",
        ],
        Kind::Zoho => [
            "First_Name",
            "Last_Name",
            "Email",
            "Phone",
            "Lead_Source",
            "AIBot_Status",
            "AIBot_Score",
            "AIBot_Tags",
            "AIBot_First_Contact",
            "AIBot_Last_Activity",
            "Email_Opt_Out",
            "AIBot_Contact_Id",
        ],
        Kind::Webhook => return BTreeMap::new(),
    };
    Field::ALL.into_iter().zip(names).map(|(f, n)| (f, n.to_string())).collect()
}

/// A map with a workspace's changes: a name renames a field, `None` drops it. The contact
/// id cannot be dropped: it is how a record is found again.
pub fn apply(
    mut map: BTreeMap<Field, String>,
    changes: &BTreeMap<Field, Option<String>>,
) -> Result<BTreeMap<Field, String>, String> {
    for (field, name) in changes {
        match name {
            Some(name) => {
                check_vendor_name(name)?;
                map.insert(*field, name.clone());
            }
            None if *field == Field::ContactId => return Err("`contact_id` cannot be dropped".into()),
            None => {
                map.remove(field);
            }
        }
    }
    check_distinct(&map)?;
    Ok(map)
}

/// Two of our fields never write the same vendor field.
pub fn check_distinct(map: &BTreeMap<Field, String>) -> Result<(), String> {
    let mut seen = BTreeMap::new();
    for (field, name) in map {
        if let Some(other) = seen.insert(name.to_ascii_lowercase(), field) {
            return Err(format!("`{}` and `{}` both map to `{name}`", other.as_str(), field.as_str()));
        }
    }
    Ok(())
}

pub fn check_vendor_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    ok.then_some(()).ok_or_else(|| {
        format!("`{name}` is not a field name: letters, digits and _, not starting with a digit, at most 100")
    })
}

/// A contact as a vendor record: each mapped field that has a value. A contact who opted out
/// sends nothing but its id and the opt-out flag. `first_sync`: the vendor does not hold it yet
/// (stand-ins for required fields are sent then only, not over a salesperson's entry).
pub fn record(contact: &Contact, map: &BTreeMap<Field, String>, kind: Kind, first_sync: bool) -> Map<String, Value> {
    let opted_out = contact.consent.opted_out();
    let (first, last) = split_name(contact.name.as_ref().map(|n| n.as_str()));
    let needs_last_name = first_sync && matches!(kind, Kind::Salesforce | Kind::Zoho);
    let mut out = Map::new();
    for (field, name) in map {
        let value = match field {
            Field::ContactId => json!(contact.id.0.to_string()),
            Field::OptedOut => json!(opted_out),
            _ if opted_out => continue,
            Field::FirstName => first.map(|f| json!(f)).unwrap_or(Value::Null),
            Field::LastName => match last {
                Some(l) => json!(l),
                None if needs_last_name => json!(NOT_PROVIDED),
                None => Value::Null,
            },
            Field::Email => contact.email.as_ref().map(|e| json!(e.as_str())).unwrap_or(Value::Null),
            Field::Phone => contact.phone.as_ref().map(|p| json!(p.e164().unwrap_or(p.raw()))).unwrap_or(Value::Null),
            Field::Channel => json!(contact.channel.as_str()),
            Field::Status => json!(contact.status.as_str()),
            Field::Score => json!(contact.score.as_str()),
            Field::Tags => json!(contact.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")),
            Field::FirstContact => json!(api_time(contact.created_at)),
            Field::LastActivity => json!(api_time(contact.last_activity_at)),
        };
        if !value.is_null() {
            out.insert(name.clone(), value);
        }
    }
    out
}

/// "Ada King Lovelace" → ("Ada King", "Lovelace"); one word is a last name.
fn split_name(name: Option<&str>) -> (Option<&str>, Option<&str>) {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => (None, None),
        Some(n) => match n.rsplit_once(' ') {
            Some((first, last)) => (Some(first), Some(last)),
            None => (None, Some(n)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, ConsentStatus, ContactId, Email, Name};
    use crate::new_contact::NewContact;

    fn contact() -> Contact {
        let at = "2026-11-01T09:00:00Z".parse().unwrap();
        let mut new = NewContact::on(Channel::Telegram);
        new.name = Some(Name::parse("Ada King Lovelace").unwrap());
        new.email = Some(Email::parse("ada@example.com").unwrap());
        new.into_contact(ContactId(42), at)
    }

    #[test]
    fn a_contact_maps_to_the_vendors_fields() {
        let r = record(&contact(), &defaults(Kind::Salesforce), Kind::Salesforce, true);
        assert_eq!(r["FirstName"], "Ada King");
        assert_eq!(r["LastName"], "Lovelace");
        assert_eq!(r["Email"], "ada@example.com");
        assert_eq!(r["LeadSource"], "telegram");
        assert_eq!(r["AIBot_Contact_Id__c"], "42");
        assert_eq!(r["HasOptedOutOfEmail"], false);
        assert!(!r.contains_key("Phone"), "no phone, no field");
    }

    #[test]
    fn a_nameless_lead_gets_the_stand_in_last_name_where_the_vendor_needs_one() {
        let mut c = contact();
        c.name = None;
        assert_eq!(record(&c, &defaults(Kind::Zoho), Kind::Zoho, true)["Last_Name"], NOT_PROVIDED);
        assert!(!record(&c, &defaults(Kind::Zoho), Kind::Zoho, false).contains_key("Last_Name"), "not over an entry");
        assert!(!record(&c, &defaults(Kind::Hubspot), Kind::Hubspot, true).contains_key("lastname"));
    }

    #[test]
    fn an_opted_out_contact_sends_only_its_id_and_the_flag() {
        let mut c = contact();
        c.consent.status = ConsentStatus::Withdrawn;
        let r = record(&c, &defaults(Kind::Hubspot), Kind::Hubspot, false);
        assert_eq!(Value::Object(r), json!({"aibot_contact_id": "42", "aibot_opted_out": true}));
    }

    #[test]
    fn a_workspace_renames_and_drops_fields_but_not_the_id() {
        let changes = BTreeMap::from([(Field::Tags, None), (Field::Score, Some("Rating".to_string()))]);
        let map = apply(defaults(Kind::Salesforce), &changes).unwrap();
        assert_eq!(map[&Field::Score], "Rating");
        assert!(!map.contains_key(&Field::Tags));
        assert!(apply(defaults(Kind::Salesforce), &BTreeMap::from([(Field::ContactId, None)])).is_err());
        assert!(apply(defaults(Kind::Zoho), &BTreeMap::from([(Field::Email, Some("E mail".into()))])).is_err());
        let twice = BTreeMap::from([(Field::Tags, Some("Email".into()))]);
        assert!(apply(defaults(Kind::Zoho), &twice).unwrap_err().contains("both map to"));
    }
}
