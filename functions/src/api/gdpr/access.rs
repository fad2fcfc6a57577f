//! `GET /api/v1/contacts/{id}/export`: everything held about one contact, for a
//! data-subject access or portability request: profile with identities, provenance and
//! consent (time and source), notes, duplicate records, conversations with transcripts.

use crate::api::contacts::conversations::ConversationView;
use crate::api::conversations::messages::MessageView;
use crate::api::exports::ExportSettings;
use crate::api::openapi::schemas::{self as doc, ContactPath, ProblemDetails};
use crate::api::views::ContactDetail;
use crate::api::Api;
use crate::bucket::access_document_key;
use crate::http::{request, HttpResult, Problem};
use lambda_http::{Body, Request, Response};
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

/// Everything held about one contact (data-subject access and portability). A document too
/// large for one answer (over 5 MB) is stored in the exports bucket and answered with
/// `303 See Other` to a signed link, which clients that follow redirects download at once.
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/export",
    tag = "gdpr",
    params(ContactPath),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The document", body = Document),
        (status = 303, description = "The document is large: a signed link to it, valid for the exports' link time", headers(("Location" = String))),
        (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let settings = ExportSettings::from(api)?;
    let ws = &caller.workspace.id;
    let id = request::path_param(&req, "id", str::parse::<ContactId>)?;
    let held = gdpr::access(&api.store, ws, id).await?;
    let doc = document(ws, &held, api.store.contact_integrations(ws, id).await?);
    tracing::info!(workspace = %ws, contact = %id, key = %caller.log_name(), "data-subject export");
    let body = serde_json::to_string(&doc).expect("documents serialize");
    deliver(settings, ws, id, body, "inline").await
}

/// The document as the answer, with `disposition` (`inline` or `attachment`); past the
/// inline limit, stored as the contact's access document (replacing the last) and answered
/// with `303 See Other` to a link that works for the exports' link time.
pub async fn deliver(
    settings: &ExportSettings,
    ws: &WorkspaceId,
    id: ContactId,
    body: String,
    disposition: &str,
) -> HttpResult {
    let disposition = format!("{disposition}; filename=\"contact-{id}-data.json\"");
    let response = Response::builder().header("cache-control", "no-store");
    if body.len() <= settings.access_inline_bytes {
        let response = response.status(200).header("content-type", "application/json");
        return Ok(response.header("content-disposition", disposition).body(Body::Text(body)).expect("valid response"));
    }
    let key = access_document_key(ws, id);
    let size = body.len();
    let stored = settings.bucket.put_json(&key, body).await;
    let link = match stored {
        Ok(()) => settings.bucket.download_url(&key, &disposition, settings.link_expiry).await,
        Err(e) => Err(e),
    };
    let link = link.map_err(|e| {
        tracing::error!(workspace = %ws, contact = %id, error = %e, "access document not stored");
        Problem::unavailable("the document could not be stored for download; retry shortly")
    })?;
    tracing::info!(workspace = %ws, contact = %id, bytes = size, "access document answered with a link");
    Ok(response.status(303).header("location", link).body(Body::Empty).expect("valid response"))
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
