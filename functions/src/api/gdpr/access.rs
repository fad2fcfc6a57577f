//! `GET /api/v1/contacts/{id}/export`: everything held about one contact, for a
//! data-subject access or portability request: profile with identities, provenance and
//! consent (time and source), notes, duplicate records, conversations with transcripts.

use crate::api::contacts::conversations::ConversationView;
use crate::api::views::ContactDetail;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::domain::{ContactId, WorkspaceId};
use model::listing::api_time;
use serde_json::json;
use store::Store;

/// Messages read per Query while assembling transcripts.
const MESSAGE_PAGE: u32 = 500;

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let ws = &caller.workspace.id;
    let id = request::path_param(&req, "id", str::parse::<ContactId>)?;
    let doc = document(&api.store, ws, id).await?;
    tracing::info!(workspace = %ws, contact = %id, key = %caller.key.name, "data-subject export");
    Ok(json(200, &doc))
}

/// Everything held about one contact, as one JSON document (the dashboard offers it too).
pub async fn document(store: &Store, ws: &WorkspaceId, id: ContactId) -> Result<serde_json::Value, Problem> {
    // Soft-deleted contacts are still held, so they are part of the answer.
    let contact = store
        .get_contact(ws, id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no contact {id} in this workspace")))?;
    let notes = store.list_notes(ws, id).await?;
    let duplicates = store.duplicate_candidates(ws, id).await?;
    let mut conversations = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = store.list_conversations(ws, id, 100, after).await?;
        for c in &page {
            let mut messages = Vec::new();
            let mut from = None;
            loop {
                let (batch, more) = store.list_messages(ws, &c.id, MESSAGE_PAGE, from).await?;
                messages.extend(batch.iter().map(|m| json!({"role": m.role, "text": m.text, "type": m.message_type, "sent_at": api_time(m.occurred_at)})));
                match more {
                    Some(p) => from = Some(p),
                    None => break,
                }
            }
            conversations.push(json!({"conversation": ConversationView::from(c), "messages": messages}));
        }
        match next {
            Some(p) => after = Some(p),
            None => break,
        }
    }
    Ok(json!({
        "generated_at": api_time(chrono::Utc::now()),
            "workspace": ws.as_str(),
            "contact": ContactDetail::from(&contact),
            "deleted_at": contact.deleted_at.map(api_time),
            "purge_after": contact.purge_after.map(api_time),
            "notes": notes,
            "possible_duplicates": duplicates.iter().map(|(other, reason)| json!({"contact_id": other.0, "reason": reason})).collect::<Vec<_>>(),
            "conversations": conversations,
    }))
}
