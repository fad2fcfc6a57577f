//! `GET /api/v1/audit` (admin): the workspace's audit log, newest first, filterable by
//! actor, action and time, cursor-paginated. Each entry says who changed what, when, on
//! which ids and which fields; never the values.

use crate::api::openapi::schemas::{self, ProblemDetails};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use chrono::{DateTime, Utc};
use lambda_http::Request;
use model::audit::{AuditEntry, AuditFilter};
use model::auth::Scope;
use model::listing::Paging;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = AuditEntry)]
pub struct EntryView {
    #[schema(format = DateTime)]
    at: String,
    /// `usr_…` for a person, `key:<name>` for an API key, `job:<name>` for a scheduled job.
    #[schema(example = "usr_3f9c2a7be41d")]
    actor_id: String,
    #[schema(example = "person", pattern = "^(person|key|job)$")]
    actor_kind: &'static str,
    /// The person's name or the key's, when the change was made.
    actor_name: String,
    /// The route, e.g. `PATCH /api/v1/contacts/{id}` or `POST /team/invite`.
    #[schema(example = "PATCH /api/v1/contacts/{id}")]
    action: String,
    /// The ids in the route's path.
    #[schema(example = json!(["42"]))]
    targets: Vec<String>,
    /// The names of the fields sent, never their values.
    #[schema(example = json!(["name", "status"]))]
    fields: Vec<String>,
    /// The answer's status.
    status: u16,
}

impl From<&AuditEntry> for EntryView {
    fn from(e: &AuditEntry) -> Self {
        EntryView {
            at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            actor_id: e.actor.id(),
            actor_kind: e.actor.kind(),
            actor_name: e.actor.name().to_string(),
            action: e.action.clone(),
            targets: e.targets.clone(),
            fields: e.fields.clone(),
            status: e.status,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AuditPage)]
struct AuditPage {
    entries: Vec<EntryView>,
    /// `null` on the last page.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// The filter and the paging parameters of a request (shared with the dashboard's page).
pub fn filter_of(pairs: &[(String, String)]) -> Result<(AuditFilter, Vec<(String, String)>), Problem> {
    let mut filter = AuditFilter::default();
    let mut paging = Vec::new();
    let time = |name: &str, v: &str| {
        DateTime::parse_from_rfc3339(v)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| Problem::invalid_field(name, format!("`{v}` is not an RFC 3339 time")))
    };
    for (name, value) in pairs {
        let value = value.trim();
        match name.as_str() {
            "actor" | "action" if value.is_empty() => {}
            "actor" => filter.actor = Some(value.chars().take(120).collect()),
            "action" => filter.action = Some(value.chars().take(120).collect()),
            "from" => filter.from = Some(time("from", value)?),
            "to" => filter.to = Some(time("to", value)?),
            _ => paging.push((name.clone(), value.to_string())),
        }
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if from > to {
            return Err(Problem::invalid_field("to", "must not be before `from`"));
        }
    }
    Ok((filter, paging))
}

/// The workspace's changes, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(schemas::AuditQuery),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditPage),
        (status = 400, description = "A bad filter or cursor", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    let ws = &caller.workspace.id;
    let (filter, paging) = filter_of(&request::query_pairs(&req))?;
    let scope = filter.scope();
    let paging = Paging::parse(ws, &scope, &paging, 50, &api.cursors)?;
    let (entries, next) = api.store.list_audit(ws, &filter, paging.per_page, paging.position.clone()).await?;
    Ok(json(
        200,
        &AuditPage {
            entries: entries.iter().map(EntryView::from).collect(),
            next_cursor: next.map(|p| paging.next_cursor(ws, &scope, p, &api.cursors)),
        },
    ))
}
