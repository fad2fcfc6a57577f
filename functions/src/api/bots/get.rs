//! `GET /api/v1/bots/{id}`.

use super::{bot_id, BotView};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;

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
