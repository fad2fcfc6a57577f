//! `/api/v1/retention`: the policy, and runs started at once (admin scope).

use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use chrono::{Duration, Utc};
use lambda_http::{Request, RequestExt};
use model::auth::Scope;
use model::listing::api_time;
use model::retention::RetentionPolicy;
use model::retention::RetentionRun;
use model::retention::RunStatus;
use serde::Deserialize;

/// How long a request works on a run before answering 202 and leaving the rest to the
/// schedule: well inside the API function's 10 s timeout.
const REQUEST_BUDGET_SECONDS: i64 = 5;

pub fn run_view(r: &RetentionRun) -> serde_json::Value {
    let status = match r.status {
        RunStatus::Running => "running",
        RunStatus::Done => "done",
        RunStatus::Failed => "failed",
    };
    serde_json::json!({
        "id": r.id, "status": status, "dry_run": r.dry_run, "policy": r.policy,
        "inactive_before": api_time(r.cutoff), "started_at": api_time(r.started_at),
        "finished_at": r.finished_at.map(api_time), "counts": r.counts, "error": r.error,
    })
}

pub async fn get_policy(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    Ok(json(200, &api.store.retention_policy(&caller.workspace.id).await?))
}

pub async fn put_policy(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let policy: RetentionPolicy = request::json_body(&req)?;
    let policy = policy.validate().map_err(|e| Problem::invalid_field("inactive_after_days", e.0))?;
    api.store.set_retention_policy(&caller.workspace.id, &policy).await?;
    tracing::info!(workspace = %caller.workspace.id, ?policy, key = %caller.key.name, "retention policy set");
    Ok(json(200, &policy))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    #[serde(default)]
    dry_run: bool,
}

pub async fn start_run(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let body: RunBody = if req.body().is_empty() { RunBody { dry_run: false } } else { request::json_body(&req)? };
    let ws = &caller.workspace.id;
    let policy = api.store.retention_policy(ws).await?;
    let run = api.store.start_retention_run(ws, policy, body.dry_run, Utc::now()).await?;
    let run = api.store.continue_retention_run(ws, run, Utc::now() + Duration::seconds(REQUEST_BUDGET_SECONDS)).await?;
    tracing::info!(workspace = %ws, run = %run.id, dry_run = run.dry_run, counts = ?run.counts, key = %caller.key.name, "retention run");
    let status = if run.status == RunStatus::Running { 202 } else { 201 };
    let mut response = json(status, &run_view(&run));
    response
        .headers_mut()
        .insert("location", format!("/api/v1/retention/runs/{}", run.id).parse().map_err(|_| Problem::internal())?);
    Ok(response)
}

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
    Ok(json(200, &run_view(&run)))
}

pub async fn list_runs(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let runs = api.store.list_retention_runs(&caller.workspace.id, 50).await?;
    Ok(json(200, &serde_json::json!({"runs": runs.iter().map(run_view).collect::<Vec<_>>()})))
}
