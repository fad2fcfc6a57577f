//! `GET /api/v1/conversations/{id}/messages`: the transcript in order, paginated.

use crate::api::contacts::conversations::ConversationView;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::listing::{api_time, Paging};

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    let ws = &caller.workspace.id;
    let id = super::conversation_id(&req)?;
    let conversation = api
        .store
        .get_conversation(ws, &id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no conversation {id} in this workspace")))?;
    crate::api::contacts::visible_contact(api, ws, conversation.contact_id).await?;
    let scope = format!("messages:{id}");
    let paging = Paging::parse(ws, &scope, &request::query_pairs(&req), 100, &api.cursors)?;
    let (messages, next) = api.store.list_messages(ws, &id, paging.per_page, paging.position.clone()).await?;
    let rows: Vec<_> = messages
        .iter()
        .map(|m| serde_json::json!({"role": m.role, "text": m.text, "type": m.message_type, "sent_at": api_time(m.occurred_at)}))
        .collect();
    Ok(json(
        200,
        &serde_json::json!({
            "conversation": ConversationView::from(&conversation),
            "contact_id": conversation.contact_id,
            "messages": rows,
            "page": paging.page,
            "per_page": paging.per_page,
            "next_cursor": next.map(|p| paging.next_cursor(ws, &scope, p, &api.cursors)),
        }),
    ))
}
