//! `GET /trash`: the workspace's deleted contacts still in their grace period, soonest
//! purge first, each with the date it is purged and (for those who may) Restore, which is
//! the contact page's own restore (`POST /contacts/{id}/restore`). One Query of the trash
//! key (`Store::list_deleted`, docs/data-model.md) per page.

use super::contacts::time;
use super::edit::FROM_TRASH;
use super::format::{link, Form};
use super::labels::channel_label;
use super::layout::{html, page as shell};
use super::session;
use super::{Dashboard, PageResult};
use lambda_http::Request;
use maud::html as markup;
use model::listing::Paging;

const PER_PAGE: u32 = 25;

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    let ws = &v.caller.workspace.id;
    let zone = v.caller.workspace.time_zone;
    let query = Form::query(&req);
    let params: Vec<(String, String)> =
        query.filled("cursor").map(|c| ("cursor".to_string(), c.to_string())).into_iter().collect();
    let paging = Paging::parse(ws, "trash", &params, PER_PAGE, &d.cursors)?;
    let (rows, next) = d.store.list_deleted(ws, paging.per_page, paging.position.clone()).await?;
    let older = next.map(|p| link("/trash", &[("cursor", &paging.next_cursor(ws, "trash", p, &d.cursors))]));
    let grace = v.caller.workspace.deletion_grace_days;
    let content = markup! {
        h1 { "Trash" }
        @if let Some(id) = query.filled("restored") {
            p.notice role="status" { "Contact " (id) " restored. " a href={ "/contacts/" (id) } { "Open it" } }
        }
        p.hint #trash-summary {
            @if grace == 0 { "This workspace has no grace period: deleted contacts are removed at once." }
            @else { "Deleted contacts stay here for " (grace) " days, hidden from lists, search and exports; then they are removed for good with their conversation history." }
        }
        @if rows.is_empty() {
            p.empty { @if paging.position.is_some() { "No more deleted contacts." } @else { "The trash is empty." } }
        } @else {
            div.table-wrap {
                table.listing.trash aria-describedby="trash-summary" {
                    thead { tr {
                        th scope="col" { "ID" } th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Channel" }
                        th scope="col" { "Purged on" } th scope="col" { "Actions" }
                    } }
                    tbody {
                        @for (c, purge_after) in &rows {
                            @let name = c.name.as_ref().map_or_else(|| format!("Contact {}", c.id), |n| n.as_str().to_string());
                            tr data-contact-id=(c.id) {
                                td data-label="ID" { (c.id) }
                                td data-label="Name" { (name) }
                                td data-label="Email" { (c.email.as_ref().map_or("", |e| e.as_str())) }
                                td data-label="Channel" { (channel_label(c.channel)) }
                                td data-label="Purged on" { (time(*purge_after, zone)) }
                                td.row-actions data-label="Actions" {
                                    @if v.can_write() {
                                        form.inline method="post" action={ "/contacts/" (c.id) "/restore" } {
                                            input type="hidden" name="csrf" value=(v.csrf);
                                            input type="hidden" name="from" value=(FROM_TRASH);
                                            button.secondary type="submit" aria-label={ "Restore " (name) } { "Restore" }
                                        }
                                    } @else { span.hint { "—" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(href) = &older { nav.pagination aria-label="Pages" { span {} span {} a rel="next" href=(href) { "Next →" } } }
    };
    Ok(html(200, shell("Trash", Some(&v), content)))
}
