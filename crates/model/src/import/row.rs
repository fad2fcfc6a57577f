//! One row of an imported file → a new contact (through the API's own parser,
//! [`ContactFields::parse`]) or the change it makes to the contact it duplicates.

use super::{DuplicateRule, Field, ImportSettings, Row};
use crate::contact::{Change, Contact, ContactPatch};
use crate::domain::Region;
use crate::listing::FieldError;
use crate::new_contact::{ContactFields, NewContact};

/// Where each mapped field is in a row, fixed for the file once its header is read.
#[derive(Debug, Clone)]
pub struct RowFields {
    columns: Vec<(usize, Field)>,
    default_channel: Option<&'static str>,
}

impl RowFields {
    /// For a header the settings were checked against (`ImportSettings::check`).
    pub fn new(settings: &ImportSettings, header: &[String]) -> Self {
        let columns = settings
            .mapping
            .iter()
            .filter_map(|(column, field)| header.iter().position(|h| h == column).map(|i| (i, *field)))
            .collect();
        RowFields { columns, default_channel: settings.default_channel.map(|c| c.as_str()) }
    }

    /// The row as a new contact, or why it cannot be one (the field at fault, as the API
    /// names it). Empty cells are absent values; tags are split on `,` and `;`.
    pub fn parse(&self, row: &Row, region: Option<Region>) -> Result<NewContact, String> {
        if let Some(problem) = &row.problem {
            return Err(problem.clone());
        }
        let mut fields = ContactFields { channel: self.default_channel, ..Default::default() };
        for (index, field) in &self.columns {
            let Some(cell) = row.cells.get(*index).map(|c| c.trim()).filter(|c| !c.is_empty()) else { continue };
            match field {
                Field::Name => fields.name = Some(cell),
                Field::Email => fields.email = Some(cell),
                Field::Phone => fields.phone = Some(cell),
                Field::Notes => fields.notes = Some(cell),
                Field::Status => fields.status = Some(cell),
                Field::Channel => fields.channel = Some(cell),
                Field::Consent => fields.consent = Some(cell),
                Field::Tags => fields.tags = cell.split([',', ';']).map(str::trim).filter(|t| !t.is_empty()).collect(),
            }
        }
        if fields.name.is_none() && fields.email.is_none() && fields.phone.is_none() {
            return Err("the row has no name, email or phone".into());
        }
        fields.parse(region, "import").map_err(|FieldError { field, message }| format!("{field}: {message}"))
    }
}

/// The change a row makes to the contact it duplicates under `rule`; empty when it makes
/// none (the rule is `skip`, or the contact already holds what the row has).
pub fn duplicate_patch(rule: DuplicateRule, row: &NewContact, contact: &Contact) -> ContactPatch {
    fn pick<T: Clone + PartialEq>(rule: DuplicateRule, given: &Option<T>, current: &Option<T>) -> Change<T> {
        match (rule, given) {
            (DuplicateRule::FillEmpty, Some(v)) if current.is_none() => Change::Set(v.clone()),
            (DuplicateRule::Overwrite, Some(v)) if current.as_ref() != Some(v) => Change::Set(v.clone()),
            _ => Change::Keep,
        }
    }
    if rule == DuplicateRule::Skip {
        return ContactPatch::default();
    }
    let overwrite = rule == DuplicateRule::Overwrite;
    let tags = (!row.tags.is_empty() && row.tags != contact.tags && (overwrite || contact.tags.is_empty()))
        .then(|| row.tags.clone());
    let consent = (!row.consent.is_unknown()
        && row.consent.status != contact.consent.status
        && (overwrite || contact.consent.is_unknown()))
    .then(|| row.consent.clone());
    ContactPatch {
        name: pick(rule, &row.name, &contact.name),
        email: pick(rule, &row.email, &contact.email),
        phone: pick(rule, &row.phone, &contact.phone),
        notes: pick(rule, &row.notes, &contact.notes),
        tags,
        status: row.status.filter(|s| overwrite && *s != contact.status),
        consent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, ContactId, Email, LeadStatus, Name};
    use std::collections::BTreeMap;

    fn settings() -> ImportSettings {
        let mapping: BTreeMap<String, Field> = [("Name", Field::Name), ("Email", Field::Email), ("Tags", Field::Tags)]
            .into_iter()
            .map(|(c, f)| (c.to_string(), f))
            .collect();
        ImportSettings {
            mapping,
            default_channel: Some(Channel::Frame),
            duplicates: DuplicateRule::Skip,
            dry_run: false,
        }
    }

    fn row(cells: &[&str]) -> Row {
        Row { number: 2, cells: cells.iter().map(|c| c.to_string()).collect(), problem: None }
    }

    fn fields() -> RowFields {
        let header = ["Email", "Name", "Tags", "Ignored"].map(String::from);
        RowFields::new(&settings(), &header)
    }

    #[test]
    fn a_row_is_parsed_as_the_api_parses_a_contact() {
        let new = fields().parse(&row(&["ADA@Example.com ", "Ada  Lovelace", "vip; pricing", "x"]), None).unwrap();
        assert_eq!(new.email.unwrap().key(), "ada@example.com");
        assert_eq!(new.name.unwrap().as_str(), "Ada Lovelace");
        assert_eq!(new.tags.len(), 2);
        assert_eq!(new.channel, Channel::Frame);
        assert_eq!(fields().parse(&row(&["nope", "Ada"]), None).unwrap_err().split(':').next(), Some("email"));
        assert!(fields().parse(&row(&["", "", "vip"]), None).unwrap_err().contains("no name, email or phone"));
    }

    #[test]
    fn duplicate_rules_decide_what_changes() {
        let mut new = NewContact::on(Channel::Frame);
        new.email = Some(Email::parse("ada@example.com").unwrap());
        new.name = Some(Name::parse("Ada L").unwrap());
        new.status = Some(LeadStatus::FollowUp);
        let mut existing = NewContact::on(Channel::Telegram);
        existing.email = Some(Email::parse("ada@example.com").unwrap());
        let contact = existing.into_contact(ContactId(1), chrono::Utc::now());
        assert!(duplicate_patch(DuplicateRule::Skip, &new, &contact).is_empty());
        let fill = duplicate_patch(DuplicateRule::FillEmpty, &new, &contact);
        assert_eq!(fill.name, Change::Set(Name::parse("Ada L").unwrap()));
        assert_eq!((fill.email, fill.status), (Change::Keep, None), "filled only what was empty");
        let over = duplicate_patch(DuplicateRule::Overwrite, &new, &contact);
        assert_eq!(over.status, Some(LeadStatus::FollowUp));
        let updated = over.apply_to(&contact);
        assert!(duplicate_patch(DuplicateRule::Overwrite, &new, &updated).is_empty(), "nothing left to change");
        assert!(duplicate_patch(DuplicateRule::FillEmpty, &new, &updated).is_empty());
    }
}
