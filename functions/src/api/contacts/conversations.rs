//! `GET /api/v1/contacts/{id}/conversations`: newest first, paginated.

use super::contact_id;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::conversation::Conversation;
use model::listing::{api_time, Paging};
use serde::Serialize;

#[derive(Serialize)]
pub struct ConversationView<'a> {
    id: &'a str,
    channel: &'static str,
    bot_id: &'a str,
    started_at: String,
    ended_at: Option<String>,
    last_message_at: String,
    duration_seconds: i64,
    message_count: u64,
    status: &'static str,
}

impl<'a> From<&'a Conversation> for ConversationView<'a> {
    fn from(c: &'a Conversation) -> Self {
        ConversationView {
            id: &c.id,
            channel: c.channel.as_str(),
            bot_id: &c.bot_id,
            started_at: api_time(c.started_at),
            ended_at: c.ended_at.map(api_time),
            last_message_at: api_time(c.last_message_at),
            duration_seconds: c.duration().num_seconds(),
            message_count: c.message_count,
            status: match c.status {
                model::conversation::ConversationStatus::Open => "open",
                model::conversation::ConversationStatus::Closed => "closed",
            },
        }
    }
}

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    let ws = &caller.workspace.id;
    let id = contact_id(&req)?;
    let scope = format!("conversations:{id}");
    let paging = Paging::parse(ws, &scope, &request::query_pairs(&req), 25, &api.cursors)?;
    if paging.position.is_none() {
        super::visible_contact(api, ws, id).await?;
    }
    let (conversations, next) = api.store.list_conversations(ws, id, paging.per_page, paging.position.clone()).await?;
    Ok(json(
        200,
        &serde_json::json!({
            "conversations": conversations.iter().map(ConversationView::from).collect::<Vec<_>>(),
            "page": paging.page,
            "per_page": paging.per_page,
            "next_cursor": next.map(|p| paging.next_cursor(ws, &scope, p, &api.cursors)),
        }),
    ))
}
