//! `GET /api/v1/contacts`: the filtered, paginated list, newest first.

use crate::api::openapi::schemas::ListParameters;
use crate::api::views::ContactRow;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::listing::ListRequest;
use model::usecases::contacts;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = ContactPage)]
pub struct ListResponse {
    contacts: Vec<ContactRow>,
    /// Exact for no filter or a single channel, status or tag filter; `null` otherwise.
    #[schema(required = true)]
    total: Option<u64>,
    page: u32,
    per_page: u32,
    /// Set while more pages may follow (a page can be short, even empty, and still have one).
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Either answer of the list: a page of contacts, or (with `updated_since`) of changes.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = ContactListAnswer)]
enum ListAnswer {
    Page(ListResponse),
    Changes(super::changes::ChangesResponse),
}

/// One page of contacts, newest first (a search: in the order of the word each matched).
/// With `updated_since`: what changed since then, oldest first, removed contacts as
/// tombstones (docs/integrations.md, "Pulling changes").
#[utoipa::path(
    get,
    path = "/api/v1/contacts",
    tag = "contacts",
    params(ListParameters),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "A page of contacts, or of changes", body = ListAnswer)),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    let workspace = &caller.workspace.id;
    let params = request::query_pairs(&req);
    let answer = if params.iter().any(|(k, _)| k == "updated_since") {
        ListAnswer::Changes(super::changes::page(api, workspace, &params).await?)
    } else {
        let now = chrono::Utc::now().with_timezone(&caller.workspace.time_zone);
        let list = ListRequest::parse(workspace, &params, now, &api.cursors)?;
        ListAnswer::Page(body(api, workspace, &list).await?)
    };
    Ok(json(200, &answer))
}

/// One page of the list as the API answers it (also serves segment members).
pub async fn page(api: &Api, workspace: &model::domain::WorkspaceId, list: &ListRequest) -> HttpResult {
    Ok(json(200, &body(api, workspace, list).await?))
}

async fn body(
    api: &Api,
    workspace: &model::domain::WorkspaceId,
    list: &ListRequest,
) -> Result<ListResponse, crate::http::Problem> {
    let page = contacts::list(&api.store, workspace, list, &api.cursors).await?;
    Ok(ListResponse {
        contacts: page.contacts.iter().map(ContactRow::from).collect(),
        total: page.total,
        page: list.page,
        per_page: list.per_page,
        next_cursor: page.next_cursor,
    })
}
