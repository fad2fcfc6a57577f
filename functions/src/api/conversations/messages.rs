//! `GET /api/v1/conversations/{id}/messages`: the transcript in order, paginated.

use crate::api::contacts::conversations::ConversationView;
use crate::api::openapi::schemas::{self as doc, CursorPaging, ProblemDetails};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::conversation::Message;
use model::domain::ContactId;
use model::listing::{api_time, Paging};
use serde::Serialize;
use utoipa::ToSchema;

/// One line of a transcript.
#[derive(Serialize, ToSchema)]
#[schema(as = TranscriptLine)]
pub struct MessageView<'a> {
    #[schema(value_type = doc::MessageRole)]
    role: model::channels::MessageRole,
    /// `null` for media without a caption.
    #[schema(required = true, value_type = Option<String>)]
    text: Option<&'a str>,
    /// The normalized message type (`text`, `command`, `image`, …) or `contact_form`.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "text")]
    kind: &'a str,
    #[schema(format = DateTime)]
    sent_at: String,
}

impl<'a> From<&'a Message> for MessageView<'a> {
    fn from(m: &'a Message) -> Self {
        MessageView { role: m.role, text: m.text.as_deref(), kind: &m.message_type, sent_at: api_time(m.occurred_at) }
    }
}

/// A conversation and a page of its transcript, oldest first.
#[derive(Serialize, ToSchema)]
#[schema(as = Transcript)]
struct TranscriptPage<'a> {
    conversation: ConversationView<'a>,
    #[schema(value_type = u64)]
    contact_id: ContactId,
    messages: Vec<MessageView<'a>>,
    page: u32,
    per_page: u32,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A conversation's transcript in order (100 lines a page by default).
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/messages",
    tag = "conversations",
    params(("id" = String, Path, pattern = "^cv[A-Za-z0-9]{0,38}$"), CursorPaging),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The conversation and a page of its transcript", body = TranscriptPage),
        (status = 404, description = "No such conversation, or its contact is gone", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
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
    let page = TranscriptPage {
        conversation: ConversationView::from(&conversation),
        contact_id: conversation.contact_id,
        messages: messages.iter().map(MessageView::from).collect(),
        page: paging.page,
        per_page: paging.per_page,
        next_cursor: next.map(|p| paging.next_cursor(ws, &scope, p, &api.cursors)),
    };
    Ok(json(200, &page))
}
