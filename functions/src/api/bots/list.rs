//! `GET /api/v1/bots`.

use super::BotView;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let bots = api.store.list_bots(&caller.workspace.id).await?;
    Ok(json(200, &serde_json::json!({"bots": bots.iter().map(BotView::from).collect::<Vec<_>>()})))
}
