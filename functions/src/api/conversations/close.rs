//! `POST /api/v1/conversations/{id}/close`: a person ends a conversation.

use super::conversation_id;
use crate::api::contacts::conversations::ConversationView;
use crate::api::openapi::schemas::ProblemDetails;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;

#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/close",
    tag = "conversations",
    params(("id" = String, Path, pattern = "^cv[A-Za-z0-9]{0,38}$")),
    security(("api_key" = ["write"])),
    responses(
        (status = 200, description = "The closed conversation (one already closed as it is)", body = ConversationView),
        (status = 404, description = "No such conversation", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = conversation_id(&req)?;
    let conversation = api.store.close_conversation(&caller.workspace.id, &id).await.map_err(|e| match e {
        store::StoreError::NotFound => Problem::not_found(format!("there is no conversation {id} in this workspace")),
        other => other.into(),
    })?;
    Ok(json(200, &ConversationView::from(&conversation)))
}
