//! The contacts API Lambda: routes by the route key API Gateway matched, which the
//! template declares and the local server reproduces.

mod analytics;
mod bots;
mod contacts;
mod conversations;
pub mod exports;
pub(crate) mod gdpr;
mod retention;
mod segments;
mod views;
mod workspace;

use crate::http::auth::Authenticator;
use crate::http::{route_key, HttpResult, Problem};
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::time::Instant;
use store::meter::{metered, Usage};
use store::Store;

/// Every route this function serves, exactly as `infra/template.yaml` declares them.
pub const ROUTES: [&str; 43] = [
    "GET /api/v1/contacts",
    "POST /api/v1/contacts",
    "GET /api/v1/contacts/{id}",
    "PATCH /api/v1/contacts/{id}",
    "DELETE /api/v1/contacts/{id}",
    "GET /api/v1/contacts/{id}/conversations",
    "GET /api/v1/conversations/{id}/messages",
    "GET /api/v1/bots",
    "POST /api/v1/bots",
    "GET /api/v1/bots/{id}",
    "PATCH /api/v1/bots/{id}",
    "POST /api/v1/contacts/{id}/restore",
    "GET /api/v1/contacts/{id}/notes",
    "POST /api/v1/contacts/{id}/notes",
    "DELETE /api/v1/contacts/{id}/notes/{note_id}",
    "POST /api/v1/contacts/{id}/tags",
    "DELETE /api/v1/contacts/{id}/tags/{tag}",
    "GET /api/v1/tags",
    "POST /api/v1/contacts/bulk",
    "POST /api/v1/conversations/{id}/close",
    "GET /api/v1/workspace",
    "PATCH /api/v1/workspace",
    "GET /api/v1/contacts/{id}/duplicates",
    "POST /api/v1/contacts/{id}/merge",
    "GET /api/v1/merges/{id}",
    "POST /api/v1/merges/{id}/undo",
    "GET /api/v1/analytics",
    "GET /api/v1/segments",
    "POST /api/v1/segments",
    "GET /api/v1/segments/{id}",
    "PATCH /api/v1/segments/{id}",
    "DELETE /api/v1/segments/{id}",
    "GET /api/v1/segments/{id}/contacts",
    "GET /api/v1/retention/policy",
    "PUT /api/v1/retention/policy",
    "POST /api/v1/retention/runs",
    "GET /api/v1/retention/runs",
    "GET /api/v1/retention/runs/{id}",
    "POST /api/v1/exports",
    "GET /api/v1/exports",
    "GET /api/v1/exports/{id}",
    "GET /api/v1/contacts/{id}/export",
    "POST /api/v1/gdpr/erasure",
];

/// What the handler needs, built once per execution environment.
#[derive(Debug)]
pub struct Api {
    pub store: Store,
    pub auth: Authenticator,
    /// Adds a `Server-Timing` header with the DynamoDB calls a request made (local and test use).
    pub expose_usage: bool,
    /// The exports bucket and queue; `None` where the function is not given them.
    pub exports: Option<exports::ExportSettings>,
}

impl Api {
    pub fn new(store: Store) -> Self {
        Api { auth: Authenticator::new(store.clone()), store, expose_usage: false, exports: None }
    }

    /// With `EXPOSE_DDB_USAGE=1`, responses carry their DynamoDB usage in `Server-Timing`.
    pub fn from_env(store: Store) -> Self {
        Api { expose_usage: std::env::var("EXPOSE_DDB_USAGE").is_ok_and(|v| v == "1"), ..Api::new(store) }
    }
}

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let route = route_key(&req).unwrap_or_default();
    let (result, usage) = metered(dispatch(api, &route, req)).await;
    let mut response = result.unwrap_or_else(Problem::into_response);
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        route = %route,
        status = response.status().as_u16(),
        latency_ms,
        ddb_calls = usage.calls,
        ddb_operations = %usage.operations.join(","),
        ddb_read_units = usage.read_units,
        ddb_write_units = usage.write_units,
        ddb_reported_units = usage.reported_units,
        "request"
    );
    if api.expose_usage {
        if let Ok(v) = server_timing(&usage, latency_ms).parse() {
            response.headers_mut().insert("server-timing", v);
        }
    }
    Ok(response)
}

async fn dispatch(api: &Api, route: &str, req: Request) -> HttpResult {
    match route {
        "GET /api/v1/contacts" => contacts::list::handle(api, req).await,
        "POST /api/v1/contacts" => contacts::create::handle(api, req).await,
        "GET /api/v1/contacts/{id}" => contacts::get::handle(api, req).await,
        "PATCH /api/v1/contacts/{id}" => contacts::update::handle(api, req).await,
        "DELETE /api/v1/contacts/{id}" => contacts::delete::handle(api, req).await,
        "GET /api/v1/contacts/{id}/conversations" => contacts::conversations::handle(api, req).await,
        "GET /api/v1/conversations/{id}/messages" => conversations::messages::handle(api, req).await,
        "GET /api/v1/bots" => bots::list::handle(api, req).await,
        "POST /api/v1/bots" => bots::create::handle(api, req).await,
        "GET /api/v1/bots/{id}" => bots::get::handle(api, req).await,
        "PATCH /api/v1/bots/{id}" => bots::update::handle(api, req).await,
        "POST /api/v1/contacts/{id}/restore" => contacts::restore::handle(api, req).await,
        "GET /api/v1/contacts/{id}/notes" => contacts::notes::list(api, req).await,
        "POST /api/v1/contacts/{id}/notes" => contacts::notes::add(api, req).await,
        "DELETE /api/v1/contacts/{id}/notes/{note_id}" => contacts::notes::delete(api, req).await,
        "POST /api/v1/contacts/{id}/tags" => contacts::tags::add(api, req).await,
        "DELETE /api/v1/contacts/{id}/tags/{tag}" => contacts::tags::remove(api, req).await,
        "GET /api/v1/tags" => contacts::tags::list(api, req).await,
        "POST /api/v1/contacts/bulk" => contacts::bulk::handle(api, req).await,
        "POST /api/v1/conversations/{id}/close" => conversations::close::handle(api, req).await,
        "GET /api/v1/workspace" => workspace::get(api, req).await,
        "PATCH /api/v1/workspace" => workspace::update(api, req).await,
        "GET /api/v1/contacts/{id}/duplicates" => contacts::duplicates::handle(api, req).await,
        "POST /api/v1/contacts/{id}/merge" => contacts::merge::merge(api, req).await,
        "GET /api/v1/merges/{id}" => contacts::merge::get(api, req).await,
        "POST /api/v1/merges/{id}/undo" => contacts::merge::undo(api, req).await,
        "GET /api/v1/analytics" => analytics::handle(api, req).await,
        "GET /api/v1/segments" => segments::list_all(api, req).await,
        "POST /api/v1/segments" => segments::create(api, req).await,
        "GET /api/v1/segments/{id}" => segments::get(api, req).await,
        "PATCH /api/v1/segments/{id}" => segments::update(api, req).await,
        "DELETE /api/v1/segments/{id}" => segments::delete(api, req).await,
        "GET /api/v1/segments/{id}/contacts" => segments::members(api, req).await,
        "GET /api/v1/retention/policy" => retention::get_policy(api, req).await,
        "PUT /api/v1/retention/policy" => retention::put_policy(api, req).await,
        "POST /api/v1/retention/runs" => retention::start_run(api, req).await,
        "GET /api/v1/retention/runs" => retention::list_runs(api, req).await,
        "GET /api/v1/retention/runs/{id}" => retention::get_run(api, req).await,
        "POST /api/v1/exports" => exports::create::handle(api, req).await,
        "GET /api/v1/exports" => exports::list::handle(api, req).await,
        "GET /api/v1/exports/{id}" => exports::get::handle(api, req).await,
        "GET /api/v1/contacts/{id}/export" => gdpr::access::handle(api, req).await,
        "POST /api/v1/gdpr/erasure" => gdpr::erasure::handle(api, req).await,
        other => Err(Problem::not_found(format!("no route `{other}` in the contacts API"))),
    }
}

fn server_timing(usage: &Usage, latency_ms: f64) -> String {
    format!(
        "app;dur={latency_ms:.1}, ddb;desc=\"calls={} ops={} rcu={} wcu={}\"",
        usage.calls,
        usage.operations.join("+"),
        usage.read_units,
        usage.write_units
    )
}
