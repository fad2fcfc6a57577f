//! `POST /api/v1/conversations/{id}/close`: a person ends a conversation.

use super::conversation_id;
use crate::api::contacts::conversations::ConversationView;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;

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
