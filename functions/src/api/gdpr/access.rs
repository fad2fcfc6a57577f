//! `GET /api/v1/contacts/{id}/export`: everything held about one contact, for a
//! data-subject access or portability request: profile with identities, provenance and
//! consent (time and source), notes, duplicate records, conversations with transcripts.

use crate::api::contacts::conversations::ConversationView;
use crate::api::views::ContactDetail;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::domain::{ContactId, WorkspaceId};
use model::listing::api_time;
use model::usecases::gdpr::{self, AccessExport};
use serde_json::json;

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let ws = &caller.workspace.id;
    let id = request::path_param(&req, "id", str::parse::<ContactId>)?;
    let doc = document(ws, &gdpr::access(&api.store, ws, id).await?);
    tracing::info!(workspace = %ws, contact = %id, key = %caller.key.name, "data-subject export");
    Ok(json(200, &doc))
}

/// Everything held about one contact, as one JSON document (the dashboard offers it too).
pub fn document(ws: &WorkspaceId, held: &AccessExport) -> serde_json::Value {
    let contact = &held.contact;
    let conversations: Vec<_> = held
        .conversations
        .iter()
        .map(|(c, messages)| {
            let messages: Vec<_> = messages
                .iter()
                .map(|m| json!({"role": m.role, "text": m.text, "type": m.message_type, "sent_at": api_time(m.occurred_at)}))
                .collect();
            json!({"conversation": ConversationView::from(c), "messages": messages})
        })
        .collect();
    json!({
        "generated_at": api_time(held.generated_at),
        "workspace": ws.as_str(),
        "contact": ContactDetail::from(contact),
        "deleted_at": contact.deleted_at.map(api_time),
        "purge_after": contact.purge_after.map(api_time),
        "notes": held.notes,
        "possible_duplicates": held.possible_duplicates.iter().map(|(other, reason)| json!({"contact_id": other.0, "reason": reason})).collect::<Vec<_>>(),
        "conversations": conversations,
    })
}
