//! The contact edit form: its values as entered, the edit they make, what is wrong with
//! them, and its markup (shown on the contact page).

use super::contacts::status_label;
use super::format::Form;
use super::session::Visitor;
use maud::{html as markup, Markup};
use model::contact::{check_limits, Change, Contact, ContactPatch};
use model::domain::{Email, InvalidValue, LeadStatus, Name, Phone, Region, Tag};
use std::collections::BTreeSet;

/// The edit form's values as shown, and what is wrong with them.
#[derive(Debug, Clone, Default)]
pub struct EditForm {
    name: String,
    email: String,
    phone: String,
    notes: String,
    status: String,
    tags: String,
    errors: Vec<(&'static str, String)>,
}

impl EditForm {
    pub fn of(c: &Contact) -> Self {
        EditForm {
            name: c.name.as_ref().map(|n| n.as_str().to_string()).unwrap_or_default(),
            email: c.email.as_ref().map(|e| e.as_str().to_string()).unwrap_or_default(),
            phone: c.phone.as_ref().map(|p| p.raw().to_string()).unwrap_or_default(),
            notes: c.notes.clone().unwrap_or_default(),
            status: c.status.as_str().to_string(),
            tags: c.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "),
            errors: Vec::new(),
        }
    }

    pub fn entered(f: &Form) -> Self {
        let get = |k: &str| f.get(k).to_string();
        EditForm {
            name: get("name"),
            email: get("email"),
            phone: get("phone"),
            notes: get("notes"),
            status: get("status"),
            tags: get("tags"),
            errors: Vec::new(),
        }
    }

    /// Marks `field` as wrong, e.g. a value another contact holds.
    pub fn reject(&mut self, field: &'static str, message: String) {
        self.errors.push((field, message));
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    /// The edit that turns `c` into what the form says, or what is wrong with the form.
    pub fn patch(&mut self, c: &Contact, region: Option<Region>) -> Option<ContactPatch> {
        let mut errors = Vec::new();
        let mut patch = ContactPatch {
            name: change("name", &self.name, c.name.as_ref(), Name::parse, &mut errors),
            email: change("email", &self.email, c.email.as_ref(), Email::parse, &mut errors),
            phone: change("phone", &self.phone, c.phone.as_ref(), |p| Phone::parse(p, region), &mut errors),
            notes: change("notes", &self.notes, c.notes.as_ref(), |n| Ok(n.to_string()), &mut errors),
            ..ContactPatch::default()
        };
        match self
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(Tag::parse)
            .collect::<Result<BTreeSet<_>, _>>()
        {
            Ok(tags) => {
                if let Err((field, message)) = check_limits(&tags, Some(self.notes.trim())) {
                    errors.push((field, message));
                }
                patch.tags = (tags != c.tags).then_some(tags);
            }
            Err(e) => errors.push(("tags", e.0)),
        }
        match self.status.parse::<LeadStatus>() {
            Ok(s) => patch.status = (s != c.status).then_some(s),
            Err(e) => errors.push(("status", e.0)),
        }
        self.errors = errors;
        self.errors.is_empty().then_some(patch)
    }
}

/// Blank clears, a new value sets, the same value keeps.
fn change<T: PartialEq>(
    field: &'static str,
    raw: &str,
    current: Option<&T>,
    parse: impl Fn(&str) -> Result<T, InvalidValue>,
    errors: &mut Vec<(&'static str, String)>,
) -> Change<T> {
    match raw.trim() {
        "" if current.is_some() => Change::Clear,
        "" => Change::Keep,
        value => match parse(value) {
            Ok(v) if Some(&v) == current => Change::Keep,
            Ok(v) => Change::Set(v),
            Err(e) => {
                errors.push((field, e.0));
                Change::Keep
            }
        },
    }
}

/// The form on the contact page.
pub fn form_markup(v: &Visitor, c: &Contact, f: &EditForm) -> Markup {
    let field = |name: &'static str, label: &str, kind: &str, value: &str, autocomplete: &str| {
        let error = f.error(name);
        let error_id = format!("{name}-error");
        markup! {
            div.field {
                label for=(name) { (label) }
                input id=(name) name=(name) type=(kind) value=(value) autocomplete=(autocomplete)
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| error_id.as_str())];
                @if let Some(e) = error { p.field-error id=(error_id) { (e) } }
            }
        }
    };
    markup! {
        form.edit method="post" action={ "/contacts/" (c.id) "/edit" } novalidate {
            input type="hidden" name="csrf" value=(v.csrf);
            input type="hidden" name="version" value=(c.version);
            @if !f.errors.is_empty() {
                p.error role="alert" { "Please correct the fields marked below." }
            }
            (field("name", "Name", "text", &f.name, "off"))
            (field("email", "Email", "email", &f.email, "off"))
            (field("phone", "Phone", "tel", &f.phone, "off"))
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    @for s in LeadStatus::ALL {
                        option value=(s.as_str()) selected[f.status == s.as_str()] { (status_label(s)) }
                    }
                }
                @if let Some(e) = f.error("status") { p.field-error { (e) } }
            }
            (field("tags", "Tags (comma-separated)", "text", &f.tags, "off"))
            div.field {
                label for="edit-notes" { "Notes" }
                textarea #edit-notes name="notes" rows="4" aria-invalid=[f.error("notes").map(|_| "true")] { (f.notes) }
                @if let Some(e) = f.error("notes") { p.field-error { (e) } }
            }
            button.primary type="submit" { "Save" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::domain::{Channel, ContactId};
    use model::new_contact::NewContact;

    fn contact() -> Contact {
        let mut new = NewContact::on(Channel::Frame);
        new.name = Some(Name::parse("Olivia Bennett").unwrap());
        new.email = Some(Email::parse("olivia@lumoco.dev").unwrap());
        new.into_contact(ContactId(7), chrono::Utc::now())
    }

    #[test]
    fn an_unchanged_form_changes_nothing() {
        let c = contact();
        assert!(EditForm::of(&c).patch(&c, None).unwrap().is_empty());
    }

    #[test]
    fn blank_clears_new_sets_and_bad_values_are_named() {
        let c = contact();
        let mut f = EditForm {
            name: "Olivia B. Bennett".into(),
            email: " ".into(),
            tags: "VIP, pricing".into(),
            ..EditForm::of(&c)
        };
        let p = f.patch(&c, None).unwrap();
        assert_eq!(p.name, Change::Set(Name::parse("Olivia B. Bennett").unwrap()));
        assert_eq!(p.email, Change::Clear);
        assert_eq!(p.tags.unwrap().len(), 2);
        let mut bad = EditForm { email: "nope".into(), status: "hot".into(), ..EditForm::of(&c) };
        assert!(bad.patch(&c, None).is_none());
        assert!(bad.error("email").is_some() && bad.error("status").is_some() && bad.error("name").is_none());
    }
}
