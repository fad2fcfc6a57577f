//! Merging duplicates: `POST /api/v1/contacts/{id}/merge` (with a dry run), and the merge
//! record at `/api/v1/merges/{id}` with its undo.

use super::{contact_id, visible_contact, with_etag};
use crate::api::openapi::schemas::{self as doc, ContactPath, ProblemDetails};
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
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::StoreError;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MergeRequest, example = json!({"other_id": 1043, "choose": {"email": "other"}}))]
struct MergeBody {
    /// The contact merged into this one (it is gone afterwards).
    #[schema(minimum = 1)]
    other_id: u64,
    /// Answers with the merged contact without changing anything.
    #[serde(default)]
    dry_run: bool,
    /// Which contact's value to keep, per field; the merge rules decide the others.
    #[serde(default)]
    #[schema(value_type = doc::MergeChoices)]
    choose: BTreeMap<String, String>,
}

/// A merge and what it moved; undoable until `undo_until`.
#[derive(Serialize, ToSchema)]
#[schema(as = Merge)]
struct MergeView<'a> {
    #[schema(value_type = String, example = "mg01k3abcd2ef")]
    id: &'a str,
    #[schema(value_type = u64)]
    survivor_id: ContactId,
    #[schema(value_type = u64)]
    other_id: ContactId,
    #[schema(value_type = doc::MergeState)]
    state: &'static str,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    undo_until: String,
    moved_conversations: usize,
    moved_notes: usize,
}

impl<'a> From<&'a MergeRecord> for MergeView<'a> {
    fn from(r: &'a MergeRecord) -> Self {
        MergeView {
            id: &r.id,
            survivor_id: r.survivor,
            other_id: r.other,
            state: match r.state {
                MergeState::Started => "started",
                MergeState::Done => "done",
                MergeState::Undone => "undone",
            },
            created_at: api_time(r.created_at),
            undo_until: api_time(r.undo_until),
            moved_conversations: r.conversations.len(),
            moved_notes: r.notes.len(),
        }
    }
}

/// The merged contact; with the merge unless it was a dry run.
#[derive(Serialize, ToSchema)]
#[schema(as = MergeOutcome)]
struct MergeOutcome<'a> {
    dry_run: bool,
    contact: ContactDetail<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    merge: Option<MergeView<'a>>,
}

/// Merges another contact into this one (or previews it with `dry_run`).
#[utoipa::path(
    post,
    path = "/api/v1/contacts/{id}/merge",
    tag = "duplicates",
    params(ContactPath),
    request_body = MergeBody,
    security(("api_key" = ["write"])),
    responses(
        (status = 200, description = "The merged contact (an ETag unless a dry run)", body = MergeOutcome, headers(("ETag" = String))),
        (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "One of the contacts changed while merging; try again", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
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
    if record.is_some() {
        tracing::info!(workspace = %ws, survivor = %id, other = %other, key = %caller.log_name(), "merged");
    }
    let out = MergeOutcome {
        dry_run: body.dry_run,
        contact: ContactDetail::from(&merged),
        merge: record.as_ref().map(MergeView::from),
    };
    if body.dry_run {
        // The preview's version does not exist: no ETag.
        return Ok(json(200, &out));
    }
    with_etag(json(200, &out), etag(&merged))
}

pub(crate) fn merge_id(req: &Request) -> Result<String, Problem> {
    let id = req.path_parameters_ref().and_then(|p| p.first("id")).unwrap_or("").to_string();
    if id.len() > 40 || !id.starts_with("mg") || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Problem::invalid_field("id", format!("`{id}` is not a merge id")));
    }
    Ok(id)
}

/// A merge (finished first if it was cut short and the key may write).
#[utoipa::path(
    get,
    path = "/api/v1/merges/{id}",
    tag = "duplicates",
    params(("id" = String, Path, pattern = "^mg[A-Za-z0-9]{0,38}$")),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The merge", body = MergeView), (status = 404, description = "No such merge", body = ProblemDetails, content_type = "application/problem+json")),
)]
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
    Ok(json(200, &MergeView::from(&record)))
}

/// Undoes a merge within its window, when the survivor has not changed since.
#[utoipa::path(
    post,
    path = "/api/v1/merges/{id}/undo",
    tag = "duplicates",
    params(("id" = String, Path, pattern = "^mg[A-Za-z0-9]{0,38}$")),
    security(("api_key" = ["write"])),
    responses(
        (status = 200, description = "The undone merge", body = MergeView),
        (status = 404, description = "No such merge", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "Already undone, the window closed, or the survivor changed since", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn undo(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = merge_id(&req)?;
    let record = merge::undo(&api.store, &caller.workspace.id, &id).await?;
    tracing::info!(workspace = %caller.workspace.id, merge = %id, key = %caller.log_name(), "merge undone");
    Ok(json(200, &MergeView::from(&record)))
}
