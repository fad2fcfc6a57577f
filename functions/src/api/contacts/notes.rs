//! `/api/v1/contacts/{id}/notes`: timestamped notes written by people.

use super::{contact_id, visible_contact};
use crate::api::openapi::schemas::{ContactPath, ProblemDetails};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::{Body, Request, RequestExt, Response};
use model::auth::Scope;
use model::listing::api_time;
use model::note::Note;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = Note)]
struct NoteView<'a> {
    #[schema(value_type = String, example = "n01k3abcd2ef")]
    id: &'a str,
    #[schema(value_type = String, example = "Asked for a call back on Monday")]
    text: &'a str,
    /// The name of the API key that wrote it.
    #[schema(value_type = String)]
    author: &'a str,
    #[schema(format = DateTime)]
    created_at: String,
}

impl<'a> From<&'a Note> for NoteView<'a> {
    fn from(n: &'a Note) -> Self {
        NoteView { id: &n.id, text: &n.text, author: &n.author, created_at: api_time(n.created_at) }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = NoteList)]
struct NoteList<'a> {
    /// Oldest first.
    notes: Vec<NoteView<'a>>,
}

/// A contact's notes.
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/notes",
    tag = "contacts",
    params(ContactPath),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The notes", body = NoteList), (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    visible_contact(api, &caller.workspace.id, id).await?;
    let notes = api.store.list_notes(&caller.workspace.id, id).await?;
    Ok(json(200, &NoteList { notes: notes.iter().map(NoteView::from).collect() }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewNote)]
struct NoteBody {
    /// Trimmed, 1 to 5,000 characters.
    #[schema(example = "Asked for a call back on Monday")]
    text: String,
}

/// Adds a note, written by the key's name.
#[utoipa::path(
    post,
    path = "/api/v1/contacts/{id}/notes",
    tag = "contacts",
    params(ContactPath),
    request_body = NoteBody,
    security(("api_key" = ["write"])),
    responses((status = 201, description = "The note", body = NoteView), (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn add(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let body: NoteBody = request::json_body(&req)?;
    let note = Note::new(&body.text, &caller.key.name).map_err(|e| Problem::invalid_field("text", e.0))?;
    api.store.add_note(&caller.workspace.id, id, &note).await?;
    Ok(json(201, &NoteView::from(&note)))
}

/// Deletes a note.
#[utoipa::path(
    delete,
    path = "/api/v1/contacts/{id}/notes/{note_id}",
    tag = "contacts",
    params(ContactPath, ("note_id" = String, Path, pattern = "^n[A-Za-z0-9]{0,39}$")),
    security(("api_key" = ["write"])),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such contact or note", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn delete(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let note_id = req.path_parameters_ref().and_then(|p| p.first("note_id")).unwrap_or("").to_string();
    if note_id.len() > 40 || !note_id.starts_with('n') || !note_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Problem::invalid_field("note_id", format!("`{note_id}` is not a note id")));
    }
    api.store.delete_note(&caller.workspace.id, id, &note_id).await.map_err(|e| match e {
        store::StoreError::NotFound => Problem::not_found(format!("contact {id} has no note {note_id}")),
        other => other.into(),
    })?;
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}
