//! Suggested duplicates on the contact page, and merging one into the contact after a
//! preview (the store's dry run) where each differing field can be taken from either side.

use super::contact::{contact_id, load};
use super::contacts::{display_name, status_label, time};
use super::duplicates::FROM_REVIEW;
use super::format::Form;
use super::layout::{html, page, redirect};
use super::session::{self};
use super::{Dashboard, PageResult};
use crate::http::Problem;
use lambda_http::Request;
use maud::html as markup;
use model::contact::Contact;
use model::domain::ContactId;
use model::merge::{parse_choices, CHOOSABLE};
use model::usecases::merge::{self, MergeError};
use std::collections::BTreeMap;
use store::StoreError;

fn other_id(form: &Form) -> Result<ContactId, Problem> {
    form.get("other").parse::<ContactId>().map_err(|e| Problem::invalid_field("other", e.to_string()))
}

/// The field choices in a form: `choose_name=other`, … (blank = let the merge decide).
fn choices(form: &Form) -> Result<BTreeMap<String, String>, Problem> {
    Ok(CHOOSABLE
        .iter()
        .filter_map(|f| form.filled(&format!("choose_{f}")).map(|s| (f.to_string(), s.to_string())))
        .filter(|(_, s)| s != "auto")
        .collect())
}

fn value(c: &Contact, field: &str) -> String {
    match field {
        "name" => c.name.as_ref().map(|n| n.as_str().to_string()),
        "email" => c.email.as_ref().map(|e| e.as_str().to_string()),
        "phone" => c.phone.as_ref().map(|p| p.raw().to_string()),
        "notes" => c.notes.clone(),
        "status" => Some(status_label(c.status).to_string()),
        _ => None,
    }
    .unwrap_or_else(|| "—".to_string())
}

/// Where the preview was opened: the review of duplicates, or the contact's page.
fn from_review(form: &Form) -> bool {
    form.get("from") == FROM_REVIEW
}

fn tags(c: &Contact) -> String {
    c.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
}

pub async fn preview(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let query = Form::query(&req);
    let this = load(d, &v, contact_id(&req)?).await?;
    let other = load(d, &v, other_id(&query)?).await?;
    if other.id == this.id {
        return Err(Problem::bad_request("a contact cannot be merged with itself"));
    }
    let raw = choices(&query)?;
    let parsed = parse_choices(&raw).map_err(|e| Problem::bad_request(e.0))?;
    let (merged, _) = merge::merge(&d.store, &v.caller.workspace, this.id, other.id, &parsed, true).await?;
    let zone = v.caller.workspace.time_zone;
    let chosen = |f: &str, side: &str| raw.get(f).map_or(side == "auto", |s| s == side);
    let title = format!("Merge {} into {}", display_name(&other), display_name(&this));
    let review = from_review(&query);
    let back = if review { "/duplicates".to_string() } else { format!("/contacts/{}", this.id) };
    let content = markup! {
        p.crumbs { a href=(back) { "← Back to " @if review { "possible duplicates" } @else { (display_name(&this)) } } }
        h1 { (title) }
        p { "Contact " (other.id) " goes into contact " (this.id) ": its conversations and notes move over, and it is removed. The merge can be undone for 7 days from this contact's page." }
        form method="get" action={ "/contacts/" (this.id) "/merge" } {
            input type="hidden" name="other" value=(other.id);
            @if review { input type="hidden" name="from" value=(FROM_REVIEW); }
            div.table-wrap {
                table.contacts.merge {
                    caption.visually-hidden { "Fields of both contacts and the result" }
                    thead { tr { th scope="col" { "Field" } th scope="col" { "Keep " (this.id) } th scope="col" { "Take from " (other.id) } th scope="col" { "Result" } } }
                    tbody {
                        @for f in CHOOSABLE {
                            tr {
                                th scope="row" { (f) }
                                td data-label={ "Keep " (this.id) } { label { input type="radio" name={ "choose_" (f) } value="this" checked[chosen(f, "this")]; " " (value(&this, f)) } }
                                td data-label={ "Take from " (other.id) } { label { input type="radio" name={ "choose_" (f) } value="other" checked[chosen(f, "other")]; " " (value(&other, f)) } }
                                td data-label="Result" { strong { (value(&merged, f)) } }
                            }
                        }
                        tr {
                            th scope="row" { "tags" }
                            td data-label={ "Keep " (this.id) } { (tags(&this)) }
                            td data-label={ "Take from " (other.id) } { (tags(&other)) }
                            td data-label="Result" { strong { (tags(&merged)) } }
                        }
                        tr {
                            th scope="row" { "first contact" }
                            td data-label={ "Keep " (this.id) } { (time(this.created_at, zone)) }
                            td data-label={ "Take from " (other.id) } { (time(other.created_at, zone)) }
                            td data-label="Result" { strong { (time(merged.created_at, zone)) } }
                        }
                    }
                }
            }
            div.actions { button.secondary type="submit" { "Update preview" } }
        }
        form method="post" action={ "/contacts/" (this.id) "/merge" } {
            input type="hidden" name="csrf" value=(v.csrf);
            input type="hidden" name="other" value=(other.id);
            @if review { input type="hidden" name="from" value=(FROM_REVIEW); }
            @for (f, side) in &raw { input type="hidden" name={ "choose_" (f) } value=(side); }
            div.actions {
                button.primary type="submit" { "Merge contacts" }
                a href=(back) { "Cancel" }
            }
        }
    };
    Ok(html(200, page(&title, Some(&v), content)))
}

pub async fn merge(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let this = contact_id(&req)?;
    let other = other_id(&form)?;
    let raw = choices(&form)?;
    let parsed = parse_choices(&raw).map_err(|e| Problem::bad_request(e.0))?;
    let ws = &v.caller.workspace.id;
    load(d, &v, this).await?;
    load(d, &v, other).await?;
    if this == other {
        return Err(Problem::bad_request("a contact cannot be merged with itself"));
    }
    merge::merge(&d.store, &v.caller.workspace, this, other, &parsed, false).await.map_err(|e| match e {
        MergeError::Store(StoreError::VersionMismatch { .. }) => {
            Problem::conflict("one of the contacts changed while merging; review the merge again")
        }
        other => other.into(),
    })?;
    tracing::info!(workspace = %ws, survivor = %this, other = %other, key = %v.caller.log_name(), "merged in the dashboard");
    if from_review(&form) {
        return Ok(redirect(&format!("/duplicates?merged={this}")));
    }
    Ok(redirect(&format!("/contacts/{this}?merged={other}")))
}
