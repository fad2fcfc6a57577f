//! Editing and deleting a contact from the dashboard. The form sends every field; the
//! edit is what differs from the stored contact, parsed with the domain's parsers, and
//! applied only to the version the person saw.

use super::contact::{contact_id, load, render, Draft, Notice};
use super::contacts::{display_name, status_label};
use super::format::Form;
use super::layout::{html, page, redirect};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::http::Problem;
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::contact::{check_limits, Change, Contact, ContactPatch};
use model::domain::{Email, InvalidValue, LeadStatus, Name, Phone, Region, Tag};
use std::collections::BTreeSet;
use store::StoreError;

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

    fn entered(f: &Form) -> Self {
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

    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    /// The edit that turns `c` into what the form says, or what is wrong with the form.
    fn patch(&mut self, c: &Contact, region: Option<Region>) -> Option<ContactPatch> {
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

fn version(form: &Form) -> Result<u64, Problem> {
    form.get("version")
        .parse()
        .map_err(|_| Problem::bad_request("the form lacks the contact's version; reload the page"))
}

pub async fn save(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let id = contact_id(&req)?;
    let seen = version(&form)?;
    let current = load(d, &v, id).await?;
    let mut entered = EditForm::entered(&form);
    if current.version != seen {
        return changed_meanwhile(d, &v, &current).await;
    }
    let Some(patch) = entered.patch(&current, v.caller.workspace.default_region) else {
        return render(d, &v, &current, "", &Draft { edit: entered, ..Draft::of(&current) }, None, 400).await;
    };
    if patch.is_empty() {
        return Ok(redirect(&format!("/contacts/{id}?saved=0")));
    }
    match model::usecases::contacts::edit(&d.store, &v.caller.workspace, id, patch, Some(seen)).await {
        Ok(c) => {
            tracing::info!(workspace = %v.caller.workspace.id, contact = %id, version = c.version, key = %v.caller.key.name, "contact edited in the dashboard");
            Ok(redirect(&format!("/contacts/{id}?saved=1")))
        }
        Err(StoreError::VersionMismatch { .. }) => changed_meanwhile(d, &v, &load(d, &v, id).await?).await,
        Err(StoreError::Taken { field, owner }) => {
            entered.errors.push((field, format!("{field} is already used by contact {owner}")));
            render(d, &v, &current, "", &Draft { edit: entered, ..Draft::of(&current) }, None, 409).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn changed_meanwhile(d: &Dashboard, v: &Visitor, current: &Contact) -> PageResult {
    let notice = Notice::Problem("Someone else changed this contact while you were editing it. The page now shows their version: apply your changes again.".into());
    render(d, v, current, "", &Draft::of(current), Some(notice), 409).await
}

/// What deleting does in this workspace, in words.
fn consequence(grace_days: u32) -> String {
    if grace_days == 0 {
        "This removes the contact and all of their conversation history at once. This cannot be undone.".to_string()
    } else {
        format!("The contact disappears from the list now and can be restored for {grace_days} days; then the contact and all of their conversation history are removed for good.")
    }
}

fn confirm_page(v: &Visitor, c: &Contact, active: &[String], problem: Option<&str>) -> Markup {
    let name = display_name(c);
    page(
        &format!("Delete {name}"),
        Some(v),
        markup! {
            div.card.narrow.danger-zone {
                h1 { "Delete " (name) "?" }
                @if let Some(p) = problem { p.error role="alert" { (p) } }
                p { "This deletes contact " (c.id) ", " strong { (name) } (c.email.as_ref().map(|e| format!(" ({})", e.as_str())).unwrap_or_default()) ", and " strong { "all of their conversation history" } "." }
                p { (consequence(v.caller.workspace.deletion_grace_days)) }
                @if active.is_empty() {
                    form method="post" action={ "/contacts/" (c.id) "/delete" } {
                        input type="hidden" name="csrf" value=(v.csrf);
                        input type="hidden" name="version" value=(c.version);
                        div.actions {
                            button.danger type="submit" autofocus { "Delete " (name) }
                            a href="/contacts" { "Cancel" }
                        }
                    }
                } @else {
                    p.error role="alert" { (name) " is in " (active.len()) " active conversation(s). Close them before deleting the contact." }
                    form method="post" action={ "/contacts/" (c.id) "/close-conversations" } {
                        input type="hidden" name="csrf" value=(v.csrf);
                        div.actions {
                            button.primary type="submit" { "Close active conversations" }
                            a href="/contacts" { "Cancel" }
                        }
                    }
                }
            }
        },
    )
}

pub async fn confirm_delete(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let c = load(d, &v, contact_id(&req)?).await?;
    let active = d.store.active_conversations(&v.caller.workspace.id, &c).await?;
    Ok(html(200, confirm_page(&v, &c, &active, None)))
}

/// Closes the contact's active conversations, so that it can be deleted.
pub async fn close_conversations(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    v.check_csrf(&Form::body(&req)?)?;
    let c = load(d, &v, contact_id(&req)?).await?;
    let ws = &v.caller.workspace.id;
    for conversation in d.store.active_conversations(ws, &c).await? {
        d.store.close_conversation(ws, &conversation).await?;
    }
    Ok(redirect(&format!("/contacts/{}/delete", c.id)))
}

/// Deletes as the API does: refused during active conversations; a soft delete for the
/// workspace's grace period, or at once when it has none.
pub async fn delete(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let seen = version(&form)?;
    let c = load(d, &v, contact_id(&req)?).await?;
    let ws = &v.caller.workspace.id;
    let active = d.store.active_conversations(ws, &c).await?;
    if c.version != seen || !active.is_empty() {
        let problem = if active.is_empty() {
            "Someone changed this contact since you opened this page. Check it and confirm again."
        } else {
            "A conversation started meanwhile."
        };
        return Ok(html(409, confirm_page(&v, &c, &active, Some(problem))));
    }
    let grace_days = v.caller.workspace.deletion_grace_days;
    let deleted = if grace_days == 0 {
        d.store.purge_contact(ws, c.id).await.map(|_| ())
    } else {
        d.store.soft_delete_contact(ws, c.id, Some(seen), chrono::Duration::days(grace_days.into())).await.map(|_| ())
    };
    match deleted {
        Ok(()) => {}
        Err(StoreError::VersionMismatch { .. }) => {
            let c = load(d, &v, c.id).await?;
            return Ok(html(
                409,
                confirm_page(
                    &v,
                    &c,
                    &active,
                    Some("Someone changed this contact since you opened this page. Check it and confirm again."),
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(workspace = %ws, contact = %c.id, grace_days, key = %v.caller.key.name, "contact deleted in the dashboard");
    Ok(redirect(&format!("/contacts?deleted={}", c.id)))
}

/// Undoes a delete during the grace period.
pub async fn restore(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    v.check_csrf(&Form::body(&req)?)?;
    let id = contact_id(&req)?;
    d.store.restore_contact(&v.caller.workspace.id, id).await?;
    tracing::info!(workspace = %v.caller.workspace.id, contact = %id, key = %v.caller.key.name, "contact restored in the dashboard");
    Ok(redirect(&format!("/contacts/{id}?restored=1")))
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
