//! `/audit`, for admins and owners (as `/api/v1/audit`): who changed what and when,
//! newest first, filtered by person, key or job, action and days; 50 a page.

use super::contacts::time;
use super::format::{link, Form};
use super::layout::{html, page as shell};
use super::session;
use super::{Dashboard, PageResult};
use crate::api::audit::filter_of;
use chrono::{NaiveDate, TimeZone};
use lambda_http::Request;
use maud::html as markup;
use model::listing::Paging;

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_admin("reading the audit log")?;
    let ws = &v.caller.workspace.id;
    let zone = v.caller.workspace.time_zone;
    let query = Form::query(&req);
    // The form's days are the workspace's calendar days.
    let day = |name: &str, end: bool| {
        NaiveDate::parse_from_str(query.get(name), "%Y-%m-%d").ok().and_then(|d| {
            let t = if end { d.and_hms_milli_opt(23, 59, 59, 999) } else { d.and_hms_opt(0, 0, 0) }?;
            zone.from_local_datetime(&t).earliest().map(|t| t.with_timezone(&chrono::Utc).to_rfc3339())
        })
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for name in ["actor", "action", "cursor"] {
        if let Some(value) = query.filled(name) {
            pairs.push((name.to_string(), value.to_string()));
        }
    }
    pairs.extend(day("from", false).map(|t| ("from".to_string(), t)));
    pairs.extend(day("to", true).map(|t| ("to".to_string(), t)));
    let (filter, paging) = filter_of(&pairs)?;
    let scope = filter.scope();
    let paging = Paging::parse(ws, &scope, &paging, 50, &d.cursors)?;
    let (entries, next) = d.store.list_audit(ws, &filter, paging.per_page, paging.position.clone()).await?;
    let next = next.map(|p| paging.next_cursor(ws, &scope, p, &d.cursors));
    let people = d.store.list_users(ws).await?;
    let keys = d.store.list_api_keys(ws).await?;
    // Actors by their audit ids: people `usr_…`, keys `key:<name>`, the retention job.
    let others: Vec<(String, String)> = keys
        .iter()
        .map(|k| (format!("key:{}", k.name), format!("key {}", k.name)))
        .chain([("job:retention".to_string(), "the retention job".to_string())])
        .collect();
    let keep = |extra: (&'static str, &str)| {
        let mut kept: Vec<(&str, &str)> =
            ["actor", "action", "from", "to"].into_iter().filter_map(|n| query.filled(n).map(|v| (n, v))).collect();
        kept.push(extra);
        link("/audit", &kept)
    };
    let content = markup! {
        h1 { "Audit log" }
        p.hint #audit-summary {
            "Every change a person, an API key or a scheduled job made, newest first: who, when, which route, on which ids and "
            "which fields. Values are not kept. Entries are kept " (crate::audit::retention_days()) " days."
        }
        form.filters method="get" action="/audit" {
            label for="actor" { "Who" }
            select #actor name="actor" {
                option value="" { "Anyone" }
                optgroup label="People" {
                    @for p in &people {
                        option value=(p.id) selected[query.get("actor") == p.id.as_str()] { (p.name) " (" (p.role) ")" }
                    }
                }
                optgroup label="Keys and jobs" {
                    @for (id, label) in &others {
                        option value=(id) selected[query.get("actor") == id.as_str()] { (label) }
                    }
                }
            }
            label for="action" { "Action contains" }
            input #action type="text" name="action" value=(query.get("action")) placeholder="e.g. contacts, DELETE";
            label for="from" { "From" }
            input #from type="date" name="from" value=(query.get("from"));
            label for="to" { "To" }
            input #to type="date" name="to" value=(query.get("to"));
            button.primary type="submit" { "Filter" }
        }
        @if entries.is_empty() {
            p.empty { "No changes match." }
        } @else {
            div.table-wrap {
                table.listing.audit aria-describedby="audit-summary" {
                    thead { tr {
                        th scope="col" { "When" }
                        th scope="col" { "Who" }
                        th scope="col" { "Action" }
                        th scope="col" { "On" }
                        th scope="col" { "Fields" }
                    } }
                    tbody {
                        @for e in &entries {
                            tr {
                                td data-label="When" { (time(e.at, zone)) }
                                td data-label="Who" { (e.actor.name()) }
                                td data-label="Action" { code { (e.action) } }
                                td data-label="On" { (e.targets.join(", ")) }
                                td data-label="Fields" { (e.fields.join(", ")) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = &next {
            nav.pager aria-label="Pages" { a href=(keep(("cursor", cursor))) { "Older →" } }
        }
    };
    Ok(html(200, shell("Audit log", Some(&v), content)))
}
