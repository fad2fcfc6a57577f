//! `GET /api/v1/contacts/{id}/conversations`: newest first, paginated.

use super::contact_id;
use crate::api::openapi::schemas::{self as doc, ContactPath, CursorPaging, ProblemDetails};
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::conversation::Conversation;
use model::listing::{api_time, Paging};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = Conversation)]
pub struct ConversationView<'a> {
    #[schema(value_type = String, example = "cv01k3abcd2ef")]
    id: &'a str,
    #[schema(value_type = doc::ChannelName)]
    channel: &'static str,
    #[schema(value_type = String, example = "acme.k3j9x2m4q8")]
    bot_id: &'a str,
    #[schema(format = DateTime)]
    started_at: String,
    /// `null` while open.
    #[schema(required = true, format = DateTime)]
    ended_at: Option<String>,
    #[schema(format = DateTime)]
    last_message_at: String,
    duration_seconds: i64,
    message_count: u64,
    /// Bot and agent replies that answered the visitor (the first reply after each of their
    /// messages).
    responses: u64,
    /// How long the visitor waited for those replies, on average, to a tenth of a second;
    /// `null` before the first.
    #[schema(required = true, example = 12.5)]
    avg_response_seconds: Option<f64>,
    #[schema(value_type = doc::ConversationStatus)]
    status: &'static str,
}

/// A page of a contact's conversations, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = ConversationPage)]
pub struct ConversationPage<'a> {
    conversations: Vec<ConversationView<'a>>,
    page: u32,
    per_page: u32,
    #[schema(required = true)]
    next_cursor: Option<String>,
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
            responses: c.responses,
            avg_response_seconds: c.avg_response_seconds(),
            status: match c.status {
                model::conversation::ConversationStatus::Open => "open",
                model::conversation::ConversationStatus::Closed => "closed",
            },
        }
    }
}

/// A contact's conversations, newest first (25 a page by default).
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/conversations",
    tag = "conversations",
    params(ContactPath, CursorPaging),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationPage),
        (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
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
    let page = ConversationPage {
        conversations: conversations.iter().map(ConversationView::from).collect(),
        page: paging.page,
        per_page: paging.per_page,
        next_cursor: next.map(|p| paging.next_cursor(ws, &scope, p, &api.cursors)),
    };
    Ok(json(200, &page))
}
