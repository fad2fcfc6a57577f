//! `GET /duplicates`: the workspace's review of possible duplicates, every pair capture
//! recorded and nobody dismissed, newest first (`usecases::duplicates::review`: one Query
//! of the pairs' key and one BatchGetItem of the profiles per page). Those who may change
//! contacts merge a pair through the merge preview (`GET /contacts/{id}/merge`), which
//! comes back here, or dismiss it: `POST /contacts/{id}/duplicates/{other_id}/dismiss`.

use super::contact::contact_id;
use super::contacts::{display_name, time};
use super::format::{link, Form};
use super::labels::channel_label;
use super::layout::{html, page as shell, redirect};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::http::request;
use chrono_tz::Tz;
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::contact::Contact;
use model::domain::ContactId;
use model::listing::Paging;
use model::usecases::duplicates::{self, ReviewedPair};

const PER_PAGE: u32 = 25;
/// The cursor scope of the page.
const SCOPE: &str = "duplicates";
/// A merge preview's `from` when it was opened here, where the merge then comes back.
pub const FROM_REVIEW: &str = "duplicates";

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    let ws = &v.caller.workspace.id;
    let query = Form::query(&req);
    let params: Vec<(String, String)> =
        query.filled("cursor").map(|c| ("cursor".to_string(), c.to_string())).into_iter().collect();
    let paging = Paging::parse(ws, SCOPE, &params, PER_PAGE, &d.cursors)?;
    let review = duplicates::review(&d.store, ws, paging.per_page, paging.position.clone()).await?;
    let older = review.next.map(|p| link("/duplicates", &[("cursor", &paging.next_cursor(ws, SCOPE, p, &d.cursors))]));
    let zone = v.caller.workspace.time_zone;
    let content = markup! {
        h1 { "Possible duplicates" }
        @if let Some(pair) = query.filled("dismissed") {
            p.notice role="status" { "Contacts " (pair.replace('-', " and ")) " are marked as different people: they will not be suggested again." }
        }
        @if let Some(into) = query.filled("merged") {
            p.notice role="status" { "Merged into contact " (into) ". " a href={ "/contacts/" (into) } { "Open it" } }
        }
        p.hint #duplicates-summary {
            "Pairs of contacts that offered the same email or phone, newest first. Merge the ones that are the same person; dismiss the others, and they are not suggested again."
        }
        @if review.pairs.is_empty() {
            p.empty {
                @if paging.position.is_some() { "No more possible duplicates." }
                @else { "No possible duplicates to review." }
            }
        } @else {
            div.table-wrap {
                table.listing.duplicates aria-describedby="duplicates-summary" {
                    thead { tr {
                        th scope="col" { "Contact" } th scope="col" { "Possible duplicate" } th scope="col" { "Why" }
                        th scope="col" { "Found" } th scope="col" { "Actions" }
                    } }
                    tbody {
                        @for p in &review.pairs { (row(&v, p, zone)) }
                    }
                }
            }
        }
        @if let Some(href) = &older { nav.pagination aria-label="Pages" { span {} span {} a rel="next" href=(href) { "Next →" } } }
    };
    Ok(html(200, shell("Possible duplicates", Some(&v), content)))
}

fn row(v: &Visitor, p: &ReviewedPair, zone: Tz) -> Markup {
    let (a, b) = (&p.contact, &p.other);
    let names = format!("{} and {}", display_name(a), display_name(b));
    markup! {
        tr data-pair={ (a.id) "-" (b.id) } {
            td data-label="Contact" { (who(a)) }
            td data-label="Possible duplicate" { (who(b)) }
            td data-label="Why" { (p.pair.reasons.join(", ")) }
            td data-label="Found" { (time(p.pair.recorded_at, zone)) }
            td.row-actions data-label="Actions" {
                // One child per cell: on a phone each cell is a grid of its label and its content.
                @if v.can_write() { div {
                    a.button.secondary href=(link(&format!("/contacts/{}/merge", a.id), &[("other", &b.id.to_string()), ("from", FROM_REVIEW)]))
                        aria-label={ "Merge " (names) } { "Merge…" }
                    form.inline method="post" action={ "/contacts/" (a.id) "/duplicates/" (b.id) "/dismiss" } {
                        input type="hidden" name="csrf" value=(v.csrf);
                        button.secondary type="submit" aria-label={ "Dismiss " (names) ": not the same person" } { "Dismiss" }
                    }
                } } @else { span.hint { "—" } }
            }
        }
    }
}

/// A contact in a pair: its name (a link to it), email, phone and channel, in one block.
fn who(c: &Contact) -> Markup {
    markup! {
        div {
            a href={ "/contacts/" (c.id) } { (display_name(c)) }
            div.hint {
                "#" (c.id) " · " (channel_label(c.channel))
                @if let Some(e) = &c.email { " · " (e.as_str()) }
                @if let Some(phone) = &c.phone { " · " (phone.raw()) }
            }
        }
    }
}

/// Not the same person: the pair leaves the review and is not suggested again.
pub async fn dismiss(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let id = contact_id(&req)?;
    let other = request::path_param(&req, "other_id", str::parse::<ContactId>)?;
    duplicates::dismiss(&d.store, &v.caller.workspace.id, id, other).await?;
    tracing::info!(workspace = %v.caller.workspace.id, contact = %id, other = %other, key = %v.caller.log_name(), "duplicates dismissed in the dashboard");
    Ok(redirect(&format!("/duplicates?dismissed={id}-{other}")))
}
