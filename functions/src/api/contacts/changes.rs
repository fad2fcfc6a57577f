//! `GET /api/v1/contacts?updated_since=…`: what changed in the workspace since a time, oldest
//! change first, each contact once (at its latest change), removed ones as tombstones: for a
//! custom integration that pulls instead of receiving webhooks (docs/integrations.md).

use crate::api::views::ContactRow;
use crate::api::Api;
use crate::http::Problem;
use chrono::{DateTime, Utc};
use model::domain::WorkspaceId;
use model::listing::{api_time, Paging};
use serde::Serialize;
use store::FeedEntry;
use utoipa::ToSchema;

/// What a change-feed request may carry besides `updated_since`.
const FEED_PARAMETERS: [&str; 3] = ["updated_since", "per_page", "cursor"];

/// A page of the change feed.
#[derive(Serialize, ToSchema)]
#[schema(as = ContactChanges)]
pub struct ChangesResponse {
    changes: Vec<ChangeView>,
    per_page: u32,
    /// Set while more changes may follow; when it is `null`, ask again later with
    /// `updated_since` set to the last `changed_at` seen.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// One contact's latest change: the contact as it is now, or only its id when it is gone
/// (deleted, merged away or erased; kept for 90 days).
#[derive(Serialize, ToSchema)]
#[schema(as = ContactChange)]
struct ChangeView {
    #[schema(minimum = 1)]
    id: u64,
    #[schema(format = DateTime)]
    changed_at: String,
    deleted: bool,
    #[schema(required = true)]
    contact: Option<ContactRow>,
}

pub async fn page(api: &Api, ws: &WorkspaceId, params: &[(String, String)]) -> Result<ChangesResponse, Problem> {
    if let Some((other, _)) = params.iter().find(|(k, _)| !FEED_PARAMETERS.contains(&k.as_str())) {
        return Err(Problem::invalid_field(
            other,
            "cannot be combined with updated_since: the change feed takes per_page and cursor only",
        ));
    }
    if params.iter().filter(|(k, _)| k == "updated_since").count() > 1 {
        return Err(Problem::invalid_field("updated_since", "may be given once"));
    }
    let raw = params.iter().find(|(k, _)| k == "updated_since").map(|(_, v)| v.as_str()).unwrap_or_default();
    let since: DateTime<Utc> = DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Problem::invalid_field("updated_since", format!("`{raw}` is not an RFC 3339 time")))?;
    let rest: Vec<(String, String)> = params.iter().filter(|(k, _)| k != "updated_since").cloned().collect();
    // A cursor belongs to the `updated_since` it was issued for.
    let scope = format!("changes:{}", since.timestamp_millis());
    let paging = Paging::parse(ws, &scope, &rest, 25, &api.cursors)?;
    let (entries, next) = api.store.changed_since(ws, since, paging.position.as_ref(), paging.per_page).await?;
    let changes = entries
        .into_iter()
        .map(|entry| match entry {
            FeedEntry::Present { contact, changed_at } => ChangeView {
                id: contact.id.0,
                changed_at: api_time(changed_at),
                deleted: false,
                contact: Some(ContactRow::from(contact.as_ref())),
            },
            FeedEntry::Removed { id, changed_at } => {
                ChangeView { id: id.0, changed_at: api_time(changed_at), deleted: true, contact: None }
            }
        })
        .collect();
    let next_cursor = next.map(|p| paging.next_cursor(ws, &scope, p, &api.cursors));
    Ok(ChangesResponse { changes, per_page: paging.per_page, next_cursor })
}
