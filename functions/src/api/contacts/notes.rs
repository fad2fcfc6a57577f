//! `/api/v1/contacts/{id}/notes`: timestamped notes written by people, newest first, a
//! page at a time; at most [`MAX_NOTES_PER_CONTACT`] a contact.

use super::{contact_id, visible_contact};
use crate::api::openapi::schemas::{ContactPath, CursorPaging, ProblemDetails};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::{Body, Request, RequestExt, Response};
use model::auth::Scope;
use model::domain::ContactId;
use model::listing::{api_time, Paging};
use model::note::{Note, MAX_NOTES_PER_CONTACT};
use serde::{Deserialize, Serialize};
use store::NoteAdded;
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
#[schema(as = NotePage)]
struct NotePage<'a> {
    /// Newest first.
    notes: Vec<NoteView<'a>>,
    page: u32,
    per_page: u32,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A contact's notes, newest first, a page at a time (a contact holds at most 1,000).
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/notes",
    tag = "contacts",
    params(ContactPath, CursorPaging),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "A page of notes", body = NotePage), (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    let ws = &caller.workspace.id;
    let id = contact_id(&req)?;
    let scope = format!("notes:{id}");
    let paging = Paging::parse(ws, &scope, &request::query_pairs(&req), 50, &api.cursors)?;
    if paging.position.is_none() {
        visible_contact(api, ws, id).await?;
    }
    let (notes, next) = api.store.notes_page(ws, id, paging.per_page, paging.position.clone()).await?;
    Ok(json(
        200,
        &NotePage {
            notes: notes.iter().map(NoteView::from).collect(),
            page: paging.page,
            per_page: paging.per_page,
            next_cursor: next.map(|p| paging.next_cursor(ws, &scope, p, &api.cursors)),
        },
    ))
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
    responses((status = 201, description = "The note", body = NoteView, headers(("Location" = String))), (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json"), (status = 409, description = "The contact holds 1,000 notes already", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn add(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let body: NoteBody = request::json_body(&req)?;
    let note = Note::new(&body.text, &caller.key.name).map_err(|e| Problem::invalid_field("text", e.0))?;
    match api.store.add_note(&caller.workspace.id, id, &note).await? {
        NoteAdded::Added => {
            let mut response = json(201, &NoteView::from(&note));
            let location = format!("/api/v1/contacts/{id}/notes/{}", note.id);
            response.headers_mut().insert("location", location.parse().map_err(|_| Problem::internal())?);
            Ok(response)
        }
        NoteAdded::ContactFull => Err(full(id)),
    }
}

/// The answer to a note the contact has no room for.
pub fn full(id: ContactId) -> Problem {
    Problem::conflict(format!(
        "contact {id} holds {MAX_NOTES_PER_CONTACT} notes already, the most a contact may hold; delete some first"
    ))
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
