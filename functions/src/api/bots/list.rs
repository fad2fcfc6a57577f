//! `GET /api/v1/bots`.

use super::{BotList, BotView};
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;

#[utoipa::path(
    get,
    path = "/api/v1/bots",
    tag = "bots",
    security(("api_key" = ["read"])),
    responses((status = 200, description = "Every bot of the workspace", body = BotList)),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let bots = api.store.list_bots(&caller.workspace.id).await?;
    Ok(json(200, &BotList { bots: bots.iter().map(BotView::from).collect() }))
}
