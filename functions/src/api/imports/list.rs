//! `GET /api/v1/imports`: the workspace's imports, newest first (report links are in each
//! import's own GET).

use super::{ImportPage, ImportView};
use crate::api::openapi::schemas::CursorPaging;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::listing::Paging;

#[utoipa::path(
    get,
    path = "/api/v1/imports",
    tag = "imports",
    params(CursorPaging),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "A page of imports", body = ImportPage)),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    let ws = &caller.workspace.id;
    let paging = Paging::parse(ws, "imports", &request::query_pairs(&req), 25, &api.cursors)?;
    let (imports, next) = api.store.list_imports(ws, paging.per_page, paging.position.clone()).await?;
    let page = ImportPage {
        imports: imports.iter().map(ImportView::from).collect(),
        page: paging.page,
        per_page: paging.per_page,
        next_cursor: next.map(|p| paging.next_cursor(ws, "imports", p, &api.cursors)),
    };
    Ok(json(200, &page))
}
