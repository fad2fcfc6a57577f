//! Merging duplicates: `POST /api/v1/contacts/{id}/merge` (with a dry run), and the merge
//! record at `/api/v1/merges/{id}` with its undo.

use super::{contact_id, visible_contact, with_etag};
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::{Request, RequestExt};
use model::auth::Scope;
use model::domain::ContactId;
use model::listing::api_time;
use model::merge::parse_choices;
use model::merge::{MergeRecord, MergeState};
use model::usecases::merge::{self, MergeError};
use serde::Deserialize;
use std::collections::BTreeMap;
use store::StoreError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    other_id: u64,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    choose: BTreeMap<String, String>,
}

fn record_view(r: &MergeRecord) -> serde_json::Value {
    let state = match r.state {
        MergeState::Started => "started",
        MergeState::Done => "done",
        MergeState::Undone => "undone",
    };
    serde_json::json!({
        "id": r.id, "survivor_id": r.survivor, "other_id": r.other, "state": state,
        "created_at": api_time(r.created_at), "undo_until": api_time(r.undo_until),
        "moved_conversations": r.conversations.len(), "moved_notes": r.notes.len(),
    })
}

pub async fn merge(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let ws = &caller.workspace.id;
    let id = contact_id(&req)?;
    let body: MergeBody = request::json_body(&req)?;
    let other: ContactId = body
        .other_id
        .to_string()
        .parse()
        .map_err(|e: model::domain::InvalidValue| Problem::invalid_field("other_id", e.0))?;
    if other == id {
        return Err(Problem::invalid_field("other_id", "a contact cannot be merged with itself"));
    }
    let choices = parse_choices(&body.choose).map_err(|e| Problem::invalid_field("choose", e.0))?;
    visible_contact(api, ws, id).await?;
    visible_contact(api, ws, other).await.map_err(|p| Problem::invalid_field("other_id", p.detail))?;
    let (merged, record) =
        merge::merge(&api.store, &caller.workspace, id, other, &choices, body.dry_run).await.map_err(|e| match e {
            MergeError::Store(StoreError::VersionMismatch { .. }) => {
                Problem::conflict("one of the contacts changed while merging; try again")
            }
            MergeError::Missing { survivor: false, id } => {
                Problem::invalid_field("other_id", format!("there is no contact {id} in this workspace"))
            }
            other => other.into(),
        })?;
    let mut out = serde_json::json!({"dry_run": body.dry_run, "contact": ContactDetail::from(&merged)});
    if let Some(record) = &record {
        out["merge"] = record_view(record);
        tracing::info!(workspace = %ws, survivor = %id, other = %other, key = %caller.key.name, "merged");
    }
    if body.dry_run {
        // The preview's version does not exist: no ETag.
        return Ok(json(200, &out));
    }
    with_etag(json(200, &out), etag(&merged))
}

fn merge_id(req: &Request) -> Result<String, Problem> {
    let id = req.path_parameters_ref().and_then(|p| p.first("id")).unwrap_or("").to_string();
    if id.len() > 40 || !id.starts_with("mg") || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Problem::invalid_field("id", format!("`{id}` is not a merge id")));
    }
    Ok(id)
}

pub async fn get(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let id = merge_id(&req)?;
    let ws = &caller.workspace.id;
    // A merge cut short (a timeout between its steps) is finished when the caller may write;
    // a read-only key sees it as it is (`started`), and nothing is written on its behalf.
    let record = if caller.key.allows(Scope::Write) {
        merge::get_finished(&api.store, ws, &id).await?
    } else {
        merge::get(&api.store, ws, &id).await?
    };
    let record = record.ok_or_else(|| Problem::not_found(format!("there is no merge {id}")))?;
    Ok(json(200, &record_view(&record)))
}

pub async fn undo(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = merge_id(&req)?;
    let record = merge::undo(&api.store, &caller.workspace.id, &id).await?;
    tracing::info!(workspace = %caller.workspace.id, merge = %id, key = %caller.key.name, "merge undone");
    Ok(json(200, &record_view(&record)))
}
