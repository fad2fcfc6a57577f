//! `GET /api/v1/contacts/{id}/export`: everything held about one contact, for a
//! data-subject access or portability request: profile with identities, provenance and
//! consent (time and source), notes, duplicate records, conversations with transcripts.

use crate::api::contacts::conversations::ConversationView;
use crate::api::conversations::messages::MessageView;
use crate::api::openapi::schemas::{self as doc, ContactPath, ProblemDetails};
use crate::api::views::ContactDetail;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::domain::{ContactId, WorkspaceId};
use model::listing::api_time;
use model::note::Note;
use model::usecases::gdpr::{self, AccessExport};
use serde::Serialize;
use utoipa::ToSchema;

/// Everything held about one contact.
#[derive(Serialize, ToSchema)]
#[schema(as = ContactDataExport)]
pub struct Document<'a> {
    #[schema(format = DateTime)]
    generated_at: String,
    #[schema(value_type = String)]
    workspace: &'a str,
    contact: ContactDetail<'a>,
    /// Set while a deleted contact waits for its purge.
    #[schema(required = true, format = DateTime)]
    deleted_at: Option<String>,
    #[schema(required = true, format = DateTime)]
    purge_after: Option<String>,
    #[schema(value_type = Vec<doc::StoredNote>)]
    notes: &'a [Note],
    possible_duplicates: Vec<PossibleDuplicate<'a>>,
    conversations: Vec<HeldConversation<'a>>,
}

#[derive(Serialize, ToSchema)]
pub struct PossibleDuplicate<'a> {
    #[schema(value_type = u64)]
    contact_id: ContactId,
    #[schema(value_type = String)]
    reason: &'a str,
}

/// A conversation with its whole transcript.
#[derive(Serialize, ToSchema)]
pub struct HeldConversation<'a> {
    conversation: ConversationView<'a>,
    messages: Vec<MessageView<'a>>,
}

/// Everything held about one contact (data-subject access and portability).
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/export",
    tag = "gdpr",
    params(ContactPath),
    security(("api_key" = ["admin"])),
    responses((status = 200, description = "The document", body = Document), (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let ws = &caller.workspace.id;
    let id = request::path_param(&req, "id", str::parse::<ContactId>)?;
    let held = gdpr::access(&api.store, ws, id).await?;
    let doc = document(ws, &held, api.store.contact_integrations(ws, id).await?);
    tracing::info!(workspace = %ws, contact = %id, key = %caller.log_name(), "data-subject export");
    Ok(json(200, &doc))
}

/// Everything held about one contact, as one JSON document (the dashboard offers it too);
/// `integrations`: which CRMs hold the person's data, under which ids.
pub fn document<'a>(
    ws: &'a WorkspaceId,
    held: &'a AccessExport,
    integrations: Vec<(model::integration::Integration, model::integration::ContactSync)>,
) -> Document<'a> {
    let contact = &held.contact;
    Document {
        generated_at: api_time(held.generated_at),
        workspace: ws.as_str(),
        contact: ContactDetail {
            sync: Some(crate::api::integrations::sync_views(integrations)),
            ..ContactDetail::from(contact)
        },
        deleted_at: contact.deleted_at.map(api_time),
        purge_after: contact.purge_after.map(api_time),
        notes: &held.notes,
        possible_duplicates: held
            .possible_duplicates
            .iter()
            .map(|(contact_id, reason)| PossibleDuplicate { contact_id: *contact_id, reason })
            .collect(),
        conversations: held
            .conversations
            .iter()
            .map(|(c, messages)| HeldConversation {
                conversation: ConversationView::from(c),
                messages: messages.iter().map(MessageView::from).collect(),
            })
            .collect(),
    }
}
