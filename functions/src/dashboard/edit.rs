//! Editing and deleting a contact from the dashboard. The form sends every field; the
//! edit is what differs from the stored contact, parsed with the domain's parsers, and
//! applied only to the version the person saw.

use super::contact::{contact_id, load, render, Draft, Notice};
use super::contacts::display_name;
use super::edit_form::EditForm;
use super::format::Form;
use super::layout::{html, page, redirect};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::http::Problem;
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::contact::Contact;
use store::StoreError;

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
    crate::audit::note_fields(&patch.fields());
    match model::usecases::contacts::edit(&d.store, &v.caller.workspace, id, patch, Some(seen)).await {
        Ok(c) => {
            tracing::info!(workspace = %v.caller.workspace.id, contact = %id, version = c.version, key = %v.caller.log_name(), "contact edited in the dashboard");
            Ok(redirect(&format!("/contacts/{id}?saved=1")))
        }
        Err(StoreError::VersionMismatch { .. }) => changed_meanwhile(d, &v, &load(d, &v, id).await?).await,
        Err(StoreError::Taken { field, owner }) => {
            entered.reject(field, format!("{field} is already used by contact {owner}"));
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
        let stop_at = chrono::Utc::now() + crate::api::contacts::PURGE_IN_REQUEST;
        d.store.purge_contact_until(ws, c.id, Some(stop_at)).await.map(|_| ())
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
    tracing::info!(workspace = %ws, contact = %c.id, grace_days, key = %v.caller.log_name(), "contact deleted in the dashboard");
    Ok(redirect(&format!("/contacts?deleted={}", c.id)))
}

/// A restore form's `from` when it is on the trash page, which it then shows again.
pub const FROM_TRASH: &str = "trash";

/// Undoes a delete during the grace period.
pub async fn restore(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let id = contact_id(&req)?;
    d.store.restore_contact(&v.caller.workspace.id, id).await?;
    tracing::info!(workspace = %v.caller.workspace.id, contact = %id, key = %v.caller.log_name(), "contact restored in the dashboard");
    if form.get("from") == FROM_TRASH {
        return Ok(redirect(&format!("/trash?restored={id}")));
    }
    Ok(redirect(&format!("/contacts/{id}?restored=1")))
}
