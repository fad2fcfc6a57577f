//! `GET /api/v1/exports`: the workspace's exports, newest first (links are in each export's own GET).

use super::{ExportPage, ExportView};
use crate::api::openapi::schemas::CursorPaging;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::listing::Paging;

#[utoipa::path(
    get,
    path = "/api/v1/exports",
    tag = "exports",
    params(CursorPaging),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "A page of exports", body = ExportPage)),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    let ws = &caller.workspace.id;
    let paging = Paging::parse(ws, "exports", &request::query_pairs(&req), 25, &api.cursors)?;
    let (exports, next) = api.store.list_exports(ws, paging.per_page, paging.position.clone()).await?;
    let page = ExportPage {
        exports: exports.iter().map(ExportView::from).collect(),
        page: paging.page,
        per_page: paging.per_page,
        next_cursor: next.map(|p| paging.next_cursor(ws, "exports", p, &api.cursors)),
    };
    Ok(json(200, &page))
}
