//! `GET /api/v1/contacts/{id}/export`: everything held about one contact, for a
//! data-subject access or portability request: profile with identities, provenance and
//! consent (time and source), notes, duplicate records, conversations with transcripts.
//! `GET /api/v1/gdpr/access-requests/{id}` follows a request whose document the jobs worker
//! writes.

use crate::access_job::{self, Answer};
use crate::api::contacts::conversations::ConversationView;
use crate::api::conversations::messages::MessageView;
use crate::api::exports::ExportSettings;
use crate::api::openapi::schemas::{self as doc, ContactPath, ProblemDetails};
use crate::api::views::ContactDetail;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response};
use model::auth::Scope;
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::gdpr::{is_access_request_id, AccessRequest, AccessStatus};
use model::listing::api_time;
use model::note::Note;
use serde::Serialize;
use utoipa::ToSchema;

/// Everything held about one contact. `access_job` streams it: everything before
/// `conversations`, then each conversation as it is read.
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

/// Everything held about one contact (data-subject access and portability). The request is
/// recorded first. A document over 5 MB is stored in the exports bucket and answered with
/// `303 See Other` to a signed link, which clients that follow redirects download at once. A
/// history too long to read within the request is answered `202` with the request's record,
/// `pending`, and written by the jobs worker: `GET /api/v1/gdpr/access-requests/{id}` follows
/// it and gives the link once it is `done`.
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/export",
    tag = "gdpr",
    params(ContactPath),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The document", body = Document),
        (status = 202, description = "The history is long: the request's record, `pending`, while the jobs worker writes the document", body = AccessRequestView, headers(("Location" = String))),
        (status = 303, description = "The document is large: a signed link to it, valid for the exports' link time", headers(("Location" = String))),
        (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "Neither answered nor handed on; repeat the request", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let settings = ExportSettings::from(api)?;
    let jobs = api.gdpr_jobs.as_ref().ok_or_else(|| {
        tracing::error!("access documents are not configured for this function (JOBS_QUEUE_URL)");
        Problem::internal()
    })?;
    let ws = &caller.workspace.id;
    let id = request::path_param(&req, "id", str::parse::<ContactId>)?;
    tracing::info!(workspace = %ws, contact = %id, key = %caller.log_name(), "data-subject export");
    let answer = access_job::answer(&api.store, settings, jobs, ws, id, &caller.key.name).await?;
    let response = Response::builder().header("cache-control", "no-store");
    Ok(match answer {
        Answer::Document(body) => response
            .status(200)
            .header("content-type", "application/json")
            .header("content-disposition", format!("inline; filename=\"contact-{id}-data.json\""))
            .body(Body::Text(body))
            .expect("valid response"),
        Answer::Link(link) => response.status(303).header("location", link).body(Body::Empty).expect("valid response"),
        Answer::Pending(request) => {
            let mut response = json(202, &AccessRequestView::from(&request));
            let location = format!("/api/v1/gdpr/access-requests/{}", request.id);
            response.headers_mut().insert("location", location.parse().map_err(|_| Problem::internal())?);
            response
        }
    })
}

/// An access request: `pending` while the jobs worker writes the document, then `done` (with
/// a signed link when the document was stored rather than answered), or `failed` when the
/// contact was erased or merged away first.
#[derive(Serialize, ToSchema)]
#[schema(as = AccessRequest)]
pub struct AccessRequestView<'a> {
    #[schema(value_type = String)]
    id: &'a str,
    contact_id: u64,
    #[schema(value_type = String, example = "done")]
    status: &'a str,
    #[schema(format = DateTime)]
    requested_at: String,
    #[schema(required = true, format = DateTime)]
    completed_at: Option<String>,
    /// The document's size, once written.
    #[schema(required = true)]
    bytes: Option<u64>,
    /// A signed link to the stored document, valid for the exports' link time; `null` while
    /// pending, when the document was the request's answer, or when it failed.
    #[schema(required = true)]
    download_url: Option<String>,
    /// Why it failed.
    #[schema(required = true, value_type = Option<String>)]
    reason: Option<&'a str>,
}

impl<'a> From<&'a AccessRequest> for AccessRequestView<'a> {
    fn from(r: &'a AccessRequest) -> Self {
        AccessRequestView {
            id: &r.id,
            contact_id: r.contact_id,
            status: r.status.as_str(),
            requested_at: api_time(r.requested_at),
            completed_at: r.completed_at.map(api_time),
            bytes: r.bytes,
            download_url: None,
            reason: r.reason.as_deref(),
        }
    }
}

/// An access request's record, with a link to its document once that is stored.
#[utoipa::path(
    get,
    path = "/api/v1/gdpr/access-requests/{id}",
    tag = "gdpr",
    params(("id" = String, Path, pattern = "^ac[0-9a-f]{21}$", description = "The request's id")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The request", body = AccessRequestView),
        (status = 404, description = "No such request", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn request(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let settings = ExportSettings::from(api)?;
    let id = request::path_param(&req, "id", |raw| match is_access_request_id(raw) {
        true => Ok(raw.to_string()),
        false => Err(format!("`{raw}` is not an access request's id")),
    })?;
    let ws = &caller.workspace.id;
    let found = api.store.get_access_request(ws, &id).await?;
    let found = found.ok_or_else(|| Problem::not_found(format!("no access request {id} in this workspace")))?;
    let mut view = AccessRequestView::from(&found);
    let contact = ContactId(found.contact_id);
    // An erasure since deleted the file with the contact.
    if found.status == AccessStatus::Done && found.stored && api.store.get_contact(ws, contact).await?.is_some() {
        view.download_url = Some(access_job::link(settings, ws, contact).await?);
    }
    Ok(json(200, &view))
}

impl<'a> HeldConversation<'a> {
    /// The conversation with no messages (which `access_job` writes after it).
    pub fn opening(conversation: &'a model::conversation::Conversation) -> Self {
        HeldConversation { conversation: ConversationView::from(conversation), messages: Vec::new() }
    }
}

impl<'a> Document<'a> {
    /// The document without its conversations (which `access_job` writes after it);
    /// `integrations`: which CRMs hold the person's data, under which ids.
    pub fn head(
        ws: &'a WorkspaceId,
        generated_at: DateTime<Utc>,
        contact: &'a Contact,
        notes: &'a [Note],
        duplicates: &'a [(ContactId, String)],
        integrations: Vec<(model::integration::Integration, model::integration::ContactSync)>,
    ) -> Document<'a> {
        Document {
            generated_at: api_time(generated_at),
            workspace: ws.as_str(),
            contact: ContactDetail {
                sync: Some(crate::api::integrations::sync_views(integrations)),
                ..ContactDetail::from(contact)
            },
            deleted_at: contact.deleted_at.map(api_time),
            purge_after: contact.purge_after.map(api_time),
            notes,
            possible_duplicates: duplicates
                .iter()
                .map(|(contact_id, reason)| PossibleDuplicate { contact_id: *contact_id, reason })
                .collect(),
            conversations: Vec::new(),
        }
    }
}
