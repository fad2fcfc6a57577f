//! `/api/v1/contacts/{id}/notes`: timestamped notes written by people.

use super::{contact_id, visible_contact};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::{Body, Request, RequestExt, Response};
use model::auth::Scope;
use model::listing::api_time;
use model::note::Note;
use serde::Deserialize;

fn view(n: &Note) -> serde_json::Value {
    serde_json::json!({"id": n.id, "text": n.text, "author": n.author, "created_at": api_time(n.created_at)})
}

pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    visible_contact(api, &caller.workspace.id, id).await?;
    let notes = api.store.list_notes(&caller.workspace.id, id).await?;
    Ok(json(200, &serde_json::json!({"notes": notes.iter().map(view).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

pub async fn add(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let body: NoteBody = request::json_body(&req)?;
    let note = Note::new(&body.text, &caller.key.name).map_err(|e| Problem::invalid_field("text", e.0))?;
    api.store.add_note(&caller.workspace.id, id, &note).await?;
    Ok(json(201, &view(&note)))
}

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
