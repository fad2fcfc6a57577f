//! `GET /api/v1/bots/{id}`.

use super::{bot_id, BotView};
use crate::api::openapi::schemas::ProblemDetails;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;

#[utoipa::path(
    get,
    path = "/api/v1/bots/{id}",
    tag = "bots",
    params(("id" = String, Path, description = "The bot, such as `acme.k3j9x2m4q8`")),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The bot", body = BotView), (status = 404, description = "No such bot in this workspace", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let id = bot_id(&req, &caller.workspace.id)?;
    let bot = api
        .store
        .get_bot(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no bot {id} in this workspace")))?;
    Ok(json(200, &BotView::from(&bot)))
}
