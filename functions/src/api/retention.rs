//! `/api/v1/retention`: the policy, and runs started at once (admin scope).

use crate::api::openapi::schemas::{self as doc, ProblemDetails};
use crate::api::Api;
use crate::http::auth::Caller;
use crate::http::{json, request, HttpResult, Problem};
use chrono::{Duration, Utc};
use lambda_http::{Request, RequestExt};
use model::auth::Scope;
use model::listing::api_time;
use model::retention::RetentionPolicy;
use model::retention::RetentionRun;
use model::retention::RunStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// How long a request works on a run before answering 202 and leaving the rest to the
/// schedule: well inside the API function's 10 s timeout.
const REQUEST_BUDGET_SECONDS: i64 = 5;

/// A retention run: the policy it applies and what it did so far.
#[derive(Serialize, ToSchema)]
#[schema(as = RetentionRun)]
struct RunView<'a> {
    #[schema(value_type = String, example = "rr01k3abcd2ef")]
    id: &'a str,
    #[schema(value_type = doc::RunStatus)]
    status: &'static str,
    dry_run: bool,
    #[schema(value_type = doc::RetentionPolicy)]
    policy: RetentionPolicy,
    /// Contacts inactive since before this are in scope.
    #[schema(format = DateTime)]
    inactive_before: String,
    #[schema(format = DateTime)]
    started_at: String,
    #[schema(required = true, format = DateTime)]
    finished_at: Option<String>,
    /// Contacts examined, flagged, archived, deleted, skipped…
    #[schema(value_type = BTreeMap<String, u64>)]
    counts: &'a BTreeMap<String, u64>,
    #[schema(required = true, value_type = Option<String>)]
    error: Option<&'a str>,
}

impl<'a> From<&'a RetentionRun> for RunView<'a> {
    fn from(r: &'a RetentionRun) -> Self {
        RunView {
            id: &r.id,
            status: match r.status {
                RunStatus::Running => "running",
                RunStatus::Done => "done",
                RunStatus::Failed => "failed",
            },
            dry_run: r.dry_run,
            policy: r.policy,
            inactive_before: api_time(r.cutoff),
            started_at: api_time(r.started_at),
            finished_at: r.finished_at.map(api_time),
            counts: &r.counts,
            error: r.error.as_deref(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = RetentionRunList)]
struct RunList<'a> {
    /// The latest 50, newest first.
    runs: Vec<RunView<'a>>,
}

#[utoipa::path(
    get,
    path = "/api/v1/retention/policy",
    tag = "retention",
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The policy", body = doc::RetentionPolicy)),
)]
pub async fn get_policy(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    Ok(json(200, &api.store.retention_policy(&caller.workspace.id).await?))
}

/// Replaces the policy.
#[utoipa::path(
    put,
    path = "/api/v1/retention/policy",
    tag = "retention",
    request_body = doc::RetentionPolicy,
    security(("api_key" = ["admin"])),
    responses((status = 200, description = "The policy", body = doc::RetentionPolicy)),
)]
pub async fn put_policy(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let policy = set_policy(&api.store, &caller, request::json_body(&req)?).await?;
    Ok(json(200, &policy))
}

/// Checks and stores the workspace's policy (the API's and the dashboard's).
pub async fn set_policy(
    store: &store::Store,
    caller: &Caller,
    policy: RetentionPolicy,
) -> Result<RetentionPolicy, Problem> {
    let policy = policy.validate().map_err(|e| Problem::invalid_field("inactive_after_days", e.0))?;
    store.set_retention_policy(&caller.workspace.id, &policy).await?;
    tracing::info!(workspace = %caller.workspace.id, ?policy, key = %caller.log_name(), "retention policy set");
    Ok(policy)
}

/// The body is optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RetentionRunRequest, example = json!({"dry_run": true}))]
struct RunBody {
    /// Counts what the policy would do without doing it.
    #[serde(default)]
    dry_run: bool,
}

/// Runs the policy now, for up to 5 s; the daily job finishes a run that needs longer.
#[utoipa::path(
    post,
    path = "/api/v1/retention/runs",
    tag = "retention",
    request_body(content = Option<RunBody>),
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The run, finished", body = RunView, headers(("Location" = String))),
        (status = 202, description = "The run, still going (the daily job goes on with it)", body = RunView, headers(("Location" = String))),
    ),
)]
pub async fn start_run(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let body: RunBody = if req.body().is_empty() { RunBody { dry_run: false } } else { request::json_body(&req)? };
    let run = run_now(&api.store, &caller, body.dry_run).await?;
    let status = if run.status == RunStatus::Running { 202 } else { 201 };
    let mut response = json(status, &RunView::from(&run));
    response
        .headers_mut()
        .insert("location", format!("/api/v1/retention/runs/{}", run.id).parse().map_err(|_| Problem::internal())?);
    Ok(response)
}

/// Starts a run of the workspace's policy and works on it for up to 5 s (the API's and the
/// dashboard's); the daily job finishes a run that needs longer.
pub async fn run_now(store: &store::Store, caller: &Caller, dry_run: bool) -> Result<RetentionRun, Problem> {
    let ws = &caller.workspace.id;
    let policy = store.retention_policy(ws).await?;
    let run = store.start_retention_run(ws, policy, dry_run, Utc::now()).await?;
    let run = store.continue_retention_run(ws, run, Utc::now() + Duration::seconds(REQUEST_BUDGET_SECONDS)).await?;
    tracing::info!(workspace = %ws, run = %run.id, dry_run = run.dry_run, counts = ?run.counts, key = %caller.log_name(), "retention run");
    Ok(run)
}

#[utoipa::path(
    get,
    path = "/api/v1/retention/runs/{id}",
    tag = "retention",
    params(("id" = String, Path, pattern = "^rr[A-Za-z0-9]{0,38}$")),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The run", body = RunView), (status = 404, description = "No such run", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn get_run(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let id = req.path_parameters_ref().and_then(|p| p.first("id")).unwrap_or("").to_string();
    if id.len() > 40 || !id.starts_with("rr") || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Problem::invalid_field("id", format!("`{id}` is not a retention run id")));
    }
    let run = api
        .store
        .get_retention_run(&caller.workspace.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no retention run {id}")))?;
    Ok(json(200, &RunView::from(&run)))
}

#[utoipa::path(
    get,
    path = "/api/v1/retention/runs",
    tag = "retention",
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The latest runs", body = RunList)),
)]
pub async fn list_runs(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let runs = api.store.list_retention_runs(&caller.workspace.id, 50).await?;
    Ok(json(200, &RunList { runs: runs.iter().map(RunView::from).collect() }))
}
