//! Segments (saved filters) in the dashboard: "Save as segment" on the contacts page, the
//! list with each segment's size, one segment's members, renaming, deleting and exporting
//! it. Saving, renaming and deleting go through the API's own functions
//! (`api::segments::save_new`, `change`, `remove`), members and sizes through the list's
//! path, so a segment means the same on a page and in the API.

use super::contacts::{self, export_form, results, time, Returned};
use super::format::Form;
use super::layout::{html, page as shell, redirect};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::api::segments::{change, load, parse_id, remove, save_new};
use crate::http::{request, Problem};
use chrono::Utc;
use futures::future::try_join_all;
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::listing::ListRequest;
use model::segment::Segment;
use std::collections::BTreeMap;

fn segment_id(req: &Request) -> Result<String, Problem> {
    request::path_param(req, "id", |raw: &str| parse_id(raw).map_err(|p| p.detail))
}

/// The segment's filters in words: `channel = telegram, score = hot`, or all contacts.
fn described(s: &Segment) -> String {
    if s.filters.is_empty() {
        return "all contacts".to_string();
    }
    s.filters.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
}

/// A segment's size when its filters have a counter (as the list's `total`: one GetItem);
/// `None` when counting would mean reading every candidate.
async fn size(d: &Dashboard, v: &Visitor, s: &Segment) -> Result<Option<u64>, Problem> {
    let ws = &v.caller.workspace.id;
    let now = Utc::now().with_timezone(&v.caller.workspace.time_zone);
    let Ok(list) = ListRequest::parse(ws, &s.params(), now, &d.cursors) else { return Ok(None) };
    match list.filter.counted_total() {
        Some(counter) => Ok(Some(d.store.total(ws, &counter).await?)),
        None => Ok(None),
    }
}

fn size_text(size: Option<u64>) -> Markup {
    markup! {
        @match size {
            Some(1) => "1 contact",
            Some(n) => { (n) " contacts" },
            None => span.hint title="Its filters have no counter: open it to see its members" { "not counted" },
        }
    }
}

/// `GET /segments`: every segment, by name, with its size.
pub async fn list_page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    let query = Form::query(&req);
    let segments = d.store.list_segments(&v.caller.workspace.id).await?;
    let sizes = try_join_all(segments.iter().map(|s| size(d, &v, s))).await?;
    let zone = v.caller.workspace.time_zone;
    let content = markup! {
        h1 { "Segments" }
        @if let Some(name) = query.filled("deleted") {
            p.notice role="status" { "Segment “" (name) "” deleted. Its contacts are untouched." }
        }
        p.hint { "A segment is a saved set of filters; its members are whoever matches them now. Save one from the "
            a href="/contacts" { "contacts page" } "." }
        @if segments.is_empty() {
            p.empty { "No segments yet." }
        } @else {
            div.table-wrap {
                table.listing.segments {
                    caption.visually-hidden { "Saved segments" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Filters" } th scope="col" { "Size" } th scope="col" { "Updated" } } }
                    tbody {
                        @for (s, n) in segments.iter().zip(&sizes) {
                            tr data-segment-id=(s.id) {
                                td data-label="Name" { a href={ "/segments/" (s.id) } { (s.name) } }
                                td data-label="Filters" { (described(s)) }
                                td data-label="Size" { (size_text(*n)) }
                                td data-label="Updated" { (time(s.updated_at, zone)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html(200, shell("Segments", Some(&v), content)))
}

/// `POST /segments`: saves the contacts page's current filters under a name.
pub async fn save(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let zone = v.caller.workspace.time_zone;
    let filters: BTreeMap<String, serde_json::Value> = match contacts::list_parameters(&form, zone) {
        Ok(params) => params
            .into_iter()
            .filter(|(k, _)| k != "page" && k != "cursor")
            .map(|(k, val)| (k, serde_json::Value::String(val)))
            .collect(),
        Err(e) => return Err(e.into()),
    };
    let name = form.get("name");
    match save_new(&d.store, &v.caller.workspace.id, form.filled("name"), filters).await {
        Ok(segment) => {
            tracing::info!(workspace = %v.caller.workspace.id, segment = %segment.id, key = %v.caller.log_name(), "segment saved in the dashboard");
            Ok(redirect(&format!("/segments/{}?saved=1", segment.id)))
        }
        Err(p) if p.status == 400 => {
            let message = p.details.errors.first().map_or(p.detail.clone(), |e| format!("Name: {}", e.detail));
            contacts::render(d, &v, &form, Returned { segment: Some((name, message)), ..Default::default() }, 400).await
        }
        Err(p) => Err(p),
    }
}

/// `GET /segments/{id}`: the segment, its members (the contacts table with its filters)
/// and, for those who may, renaming, deleting and exporting it.
pub async fn show(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    let segment = load(&d.store, &v.caller.workspace.id, &segment_id(&req)?).await?;
    let query = Form::query(&req);
    let notice = match query.get("saved") {
        "1" => Some("Segment saved."),
        "renamed" => Some("Segment renamed."),
        _ => None,
    };
    render(d, &v, &segment, &query, notice, None, 200).await
}

async fn render(
    d: &Dashboard,
    v: &Visitor,
    segment: &Segment,
    query: &Form,
    notice: Option<&str>,
    rename: Option<(&str, String)>,
    status: u16,
) -> PageResult {
    let ws = &v.caller.workspace.id;
    let zone = v.caller.workspace.time_zone;
    let mut params = segment.params();
    params
        .extend(["page", "cursor"].iter().filter_map(|k| query.filled(k).map(|val| (k.to_string(), val.to_string()))));
    let base = format!("/segments/{}", segment.id);
    let members = match ListRequest::parse(ws, &params, Utc::now().with_timezone(&zone), &d.cursors) {
        Ok(list) => Ok((model::usecases::contacts::list(&d.store, ws, &list, &d.cursors).await?, list)),
        Err(e) => Err(e),
    };
    let content = markup! {
        p.crumbs { a href="/segments" { "← All segments" } }
        h1 { (segment.name) }
        @if let Some(text) = notice { p.notice role="status" { (text) } }
        p { "Filters: " strong { (described(segment)) } ". Saved " (time(segment.created_at, zone)) ", updated " (time(segment.updated_at, zone)) "." }
        @match &members {
            Ok((page, list)) => (results(v, &base, &[], list, page, None)),
            Err(e) => p.error role="alert" { "This segment's filters are no longer valid: " (e.field) ": " (e.message) },
        }
        @if v.is_admin() && d.exports.is_some() {
            (export_form(v, "this segment", &[("segment", segment.id.as_str())]))
        }
        @if v.can_write() { (manage(v, segment, rename.as_ref())) }
    };
    Ok(html(status, shell(&segment.name, Some(v), content)))
}

fn manage(v: &Visitor, s: &Segment, rename: Option<&(&str, String)>) -> Markup {
    let name = rename.map_or(s.name.as_str(), |(n, _)| n);
    let error = rename.map(|(_, e)| e.as_str());
    markup! {
        section.card.narrow-left aria-labelledby="manage-heading" {
            h2 #manage-heading { "Rename or delete" }
            form method="post" action={ "/segments/" (s.id) "/rename" } {
                input type="hidden" name="csrf" value=(v.csrf);
                div.field {
                    label for="segment-name" { "Name" }
                    input #segment-name type="text" name="name" value=(name) maxlength="100" required
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "rename-error")];
                    @if let Some(e) = error { p.error #rename-error role="alert" { (e) } }
                }
                div.actions {
                    button.primary type="submit" { "Rename" }
                    a.button.danger href={ "/segments/" (s.id) "/delete" } { "Delete segment…" }
                }
            }
        }
    }
}

/// `POST /segments/{id}/rename`.
pub async fn rename(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let id = segment_id(&req)?;
    let ws = &v.caller.workspace.id;
    match change(&d.store, ws, &id, Some(form.get("name")), None).await {
        Ok(_) => Ok(redirect(&format!("/segments/{id}?saved=renamed"))),
        Err(p) if p.status == 400 => {
            let segment = load(&d.store, ws, &id).await?;
            let message = p.details.errors.first().map_or(p.detail.clone(), |e| format!("Name: {}", e.detail));
            render(d, &v, &segment, &Form::default(), None, Some((form.get("name"), message)), 400).await
        }
        Err(p) => Err(p),
    }
}

/// `GET /segments/{id}/delete`: asks first.
pub async fn confirm_delete(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let segment = load(&d.store, &v.caller.workspace.id, &segment_id(&req)?).await?;
    let content = markup! {
        div.card.narrow.danger-zone {
            h1 { "Delete the segment “" (segment.name) "”?" }
            p { "This deletes the saved filters (" (described(&segment)) "). No contact is deleted or changed." }
            form method="post" action={ "/segments/" (segment.id) "/delete" } {
                input type="hidden" name="csrf" value=(v.csrf);
                div.actions {
                    button.danger type="submit" autofocus { "Delete segment" }
                    a href={ "/segments/" (segment.id) } { "Cancel" }
                }
            }
        }
    };
    Ok(html(200, shell("Delete segment", Some(&v), content)))
}

/// `POST /segments/{id}/delete`.
pub async fn delete(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    v.check_csrf(&Form::body(&req)?)?;
    let id = segment_id(&req)?;
    let ws = &v.caller.workspace.id;
    let segment = load(&d.store, ws, &id).await?;
    remove(&d.store, ws, &id).await?;
    tracing::info!(workspace = %ws, segment = %id, key = %v.caller.log_name(), "segment deleted in the dashboard");
    Ok(redirect(&super::format::link("/segments", &[("deleted", &segment.name)])))
}
