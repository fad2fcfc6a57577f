//! `POST /contacts/bulk`: the contacts table's bulk actions (tag, untag, set status,
//! delete) on the checked rows or on every contact matching the filters, through the API's
//! own bulk runner (`api::contacts::bulk`), with a result per contact. A delete is
//! confirmed first, on a page naming how many contacts it deletes.

use super::bulk_form::{Draft, ACTIONS};
use super::contacts::{self, Returned};
use super::format::{link, Form};
use super::layout::{html, page};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::api::contacts::bulk::{self as api_bulk, BulkResult, MAX_IDS};
use crate::http::Problem;
use chrono::Utc;
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::domain::ContactId;
use model::listing::{ListRequest, MAX_PER_PAGE};

/// "All matching" reads at most this many list pages looking for the contacts: residual
/// filters (docs/segments.md) can make pages short.
const MAX_LIST_CALLS: usize = 10;

/// The view's filter fields a bulk form carries, to show the same view after.
const VIEW_FIELDS: [&str; 10] = ["q", "channel", "range", "from", "to", "status", "score", "tag", "page", "cursor"];

pub async fn apply(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    // The bulk controls' fields are `bulk_tag` and `bulk_status`: `tag` and `status` are the view's filters.
    let name = form.get("action");
    let tag = matches!(name, "tag" | "untag").then(|| form.filled("bulk_tag")).flatten();
    let status = (name == "set_status").then(|| form.filled("bulk_status")).flatten();
    let action = match api_bulk::parse_action(name, tag, status) {
        Ok(a) => a,
        Err(p) => return refuse(d, &v, &form, p).await,
    };
    let ids = match selected(d, &v, &form).await {
        Ok(ids) => ids,
        Err(p) if p.status == 400 => return refuse(d, &v, &form, p).await,
        Err(p) => return Err(p),
    };
    if name == "delete" && form.get("confirmed") != "1" {
        return Ok(html(200, confirm_delete(&v, &form, &ids)));
    }
    let results = api_bulk::run(&d.store, &v.caller.workspace, &ids, &action).await;
    tracing::info!(workspace = %v.caller.workspace.id, action = %name, count = ids.len(), key = %v.caller.log_name(), "bulk action in the dashboard");
    Ok(html(200, results_page(&v, &form, name, &results)))
}

/// The contacts page again, with the form as sent and its problem beside the field.
async fn refuse(d: &Dashboard, v: &Visitor, form: &Form, p: Problem) -> PageResult {
    let field = p.details.errors.first().map_or("ids", |e| e.field.as_str()).to_string();
    let message = p.details.errors.first().map_or(p.detail.clone(), |e| e.detail.clone());
    let field_label = match field.as_str() {
        "tag" => "Tag",
        "status" => "Status",
        "action" => "Action",
        _ => "Selection",
    };
    let draft = Draft { form, error: Some((field, format!("{field_label}: {message}"))) };
    // The form carries the view's filters as hidden fields: the page shows the same view.
    contacts::render(d, v, form, Returned { bulk: Some(draft), segment: None }, 400).await
}

/// The checked rows, or every contact matching the view's filters (up to `MAX_IDS`).
async fn selected(d: &Dashboard, v: &Visitor, form: &Form) -> Result<Vec<ContactId>, Problem> {
    if form.get("all") != "1" {
        let mut raw = Vec::new();
        for id in form.all("id") {
            raw.push(
                id.trim()
                    .parse::<u64>()
                    .map_err(|_| Problem::invalid_field("ids", format!("`{id}` is not a contact id")))?,
            );
        }
        if raw.is_empty() {
            return Err(Problem::invalid_field(
                "ids",
                "select at least one contact, or all contacts matching the filters",
            ));
        }
        return api_bulk::checked_ids(&raw);
    }
    let ws = &v.caller.workspace.id;
    let zone = v.caller.workspace.time_zone;
    let mut params: Vec<(String, String)> =
        contacts::list_parameters(form, zone)?.into_iter().filter(|(k, _)| k != "page" && k != "cursor").collect();
    params.push(("per_page".into(), MAX_PER_PAGE.to_string()));
    let now = Utc::now().with_timezone(&zone);
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_LIST_CALLS {
        let mut page_params = params.clone();
        page_params.extend(cursor.take().map(|c| ("cursor".to_string(), c)));
        let list = ListRequest::parse(ws, &page_params, now, &d.cursors)?;
        let page = model::usecases::contacts::list(&d.store, ws, &list, &d.cursors).await?;
        if page.total.is_some_and(|t| t > MAX_IDS as u64) {
            return Err(too_many(&format!("{}", page.total.unwrap_or_default())));
        }
        ids.extend(page.contacts.iter().map(|c| c.id));
        if ids.len() > MAX_IDS {
            return Err(too_many(&format!("more than {MAX_IDS}")));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None if ids.is_empty() => return Err(Problem::invalid_field("ids", "no contact matches the filters")),
            None => return Ok(ids),
        }
    }
    Err(too_many(&format!("more than {} checked so far", ids.len())))
}

fn too_many(how_many: &str) -> Problem {
    Problem::invalid_field(
        "ids",
        format!("{how_many} contacts match the filters; a bulk action takes up to {MAX_IDS} at a time. Narrow the filters, or select rows."),
    )
}

fn action_label(name: &str) -> &'static str {
    ACTIONS.iter().find(|(v, _)| *v == name).map_or("Bulk action", |(_, l)| l)
}

/// A link back to the view the form was on.
fn back(form: &Form) -> String {
    let pairs: Vec<(&str, &str)> = VIEW_FIELDS.iter().map(|k| (*k, form.get(k))).collect();
    link("/contacts", &pairs)
}

fn confirm_delete(v: &Visitor, form: &Form, ids: &[ContactId]) -> Markup {
    let n = ids.len();
    let grace = v.caller.workspace.deletion_grace_days;
    page(
        "Delete contacts",
        Some(v),
        markup! {
            div.card.narrow.danger-zone {
                h1 { "Delete " (count(n)) "?" }
                p { "This deletes " (count(n)) " (" (ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")) ") and " strong { "all of their conversation history" } "." }
                p {
                    @if grace == 0 { "They are removed at once. This cannot be undone." }
                    @else { "They can be restored from the Trash for " (grace) " days; then they are removed for good." }
                }
                form method="post" action="/contacts/bulk" {
                    input type="hidden" name="csrf" value=(v.csrf);
                    input type="hidden" name="action" value="delete";
                    input type="hidden" name="confirmed" value="1";
                    @for k in VIEW_FIELDS { @if let Some(val) = form.filled(k) { input type="hidden" name=(k) value=(val); } }
                    @for id in ids { input type="hidden" name="id" value=(id); }
                    div.actions {
                        button.danger type="submit" autofocus { "Delete " (count(n)) }
                        a href=(back(form)) { "Cancel" }
                    }
                }
            }
        },
    )
}

fn count(n: usize) -> String {
    format!("{n} contact{}", if n == 1 { "" } else { "s" })
}

fn results_page(v: &Visitor, form: &Form, name: &str, results: &[BulkResult]) -> Markup {
    let done = results.iter().filter(|r| r.status == 200).count();
    let failed = results.len() - done;
    let title = action_label(name);
    let what = match name {
        "tag" | "untag" => format!(" “{}”", form.get("bulk_tag").trim()),
        "set_status" => format!(": {}", form.get("bulk_status").trim()),
        _ => String::new(),
    };
    page(
        "Bulk action results",
        Some(v),
        markup! {
            p.crumbs { a href=(back(form)) { "← Back to the contacts" } }
            h1 { (title) (what) }
            p #bulk-summary role="status" class=(if failed == 0 { "notice" } else { "error" }) {
                (done) " done"
                @if failed > 0 { ", " (failed) " failed" }
                " of " (count(results.len())) "."
            }
            @if name == "delete" && done > 0 && v.caller.workspace.deletion_grace_days > 0 {
                p { "Deleted contacts can be restored from the " a href="/trash" { "Trash" } " for " (v.caller.workspace.deletion_grace_days) " days." }
            }
            div.table-wrap {
                table.listing.bulk-results aria-describedby="bulk-summary" {
                    thead { tr { th scope="col" { "Contact" } th scope="col" { "Result" } } }
                    tbody {
                        @for r in results {
                            tr data-contact-id=(r.id) {
                                td data-label="Contact" {
                                    @if name == "delete" && r.status == 200 { "Contact " (r.id) }
                                    @else { a href={ "/contacts/" (r.id) } { "Contact " (r.id) } }
                                }
                                td data-label="Result" {
                                    @match &r.detail {
                                        None => span.badge.badge-active { "Done" },
                                        Some(why) => { span.badge.badge-failing { "Failed" } " " (why) },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
