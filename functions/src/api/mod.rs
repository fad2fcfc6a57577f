//! The contacts API Lambda: routes by the route key API Gateway matched, which the
//! template declares and the local server reproduces.

mod analytics;
pub(crate) mod audit;
pub(crate) mod bots;
pub(crate) mod contacts;
pub(crate) mod conversations;
mod duplicates;
pub mod exports;
pub(crate) mod gdpr;
pub mod imports;
pub(crate) mod integrations;
pub(crate) mod keys;
pub mod openapi;
mod people;
pub(crate) mod retention;
pub(crate) mod segments;
pub(crate) mod views;
pub(crate) mod workspace;

use crate::http::auth::Authenticator;
use crate::http::routes::{self, Route};
use crate::http::{route_key, HttpResult, Problem};
use lambda_http::{Body, Request, Response};
use model::auth::KeyPepper;
use model::listing::CursorKey;
use std::convert::Infallible;
use std::time::Instant;
use store::meter::{metered, Usage};
use store::Store;

/// Every route this function serves, exactly as `infra/template.yaml` declares them.
pub const ROUTES: &[Route<Api>] = &[
    Route::new("GET", "/api/v1/contacts", |api, req| Box::pin(contacts::list::handle(api, req))),
    Route::new("POST", "/api/v1/contacts", |api, req| Box::pin(contacts::create::handle(api, req))),
    Route::new("GET", "/api/v1/contacts/{id}", |api, req| Box::pin(contacts::get::handle(api, req))),
    Route::new("PATCH", "/api/v1/contacts/{id}", |api, req| Box::pin(contacts::update::handle(api, req))),
    Route::new("DELETE", "/api/v1/contacts/{id}", |api, req| Box::pin(contacts::delete::handle(api, req))),
    Route::new("GET", "/api/v1/contacts/{id}/conversations", |api, req| {
        Box::pin(contacts::conversations::handle(api, req))
    }),
    Route::new("GET", "/api/v1/conversations/{id}/messages", |api, req| {
        Box::pin(conversations::messages::handle(api, req))
    }),
    Route::new("GET", "/api/v1/bots", |api, req| Box::pin(bots::list::handle(api, req))),
    Route::new("POST", "/api/v1/bots", |api, req| Box::pin(bots::create::handle(api, req))),
    Route::new("GET", "/api/v1/bots/{id}", |api, req| Box::pin(bots::get::handle(api, req))),
    Route::new("PATCH", "/api/v1/bots/{id}", |api, req| Box::pin(bots::update::handle(api, req))),
    Route::new("POST", "/api/v1/bots/{id}/messages", |api, req| Box::pin(bots::messages::handle(api, req))),
    Route::new("POST", "/api/v1/contacts/{id}/restore", |api, req| Box::pin(contacts::restore::handle(api, req))),
    Route::new("GET", "/api/v1/contacts/{id}/notes", |api, req| Box::pin(contacts::notes::list(api, req))),
    Route::new("POST", "/api/v1/contacts/{id}/notes", |api, req| Box::pin(contacts::notes::add(api, req))),
    Route::new("DELETE", "/api/v1/contacts/{id}/notes/{note_id}", |api, req| {
        Box::pin(contacts::notes::delete(api, req))
    }),
    Route::new("POST", "/api/v1/contacts/{id}/tags", |api, req| Box::pin(contacts::tags::add(api, req))),
    Route::new("DELETE", "/api/v1/contacts/{id}/tags/{tag}", |api, req| Box::pin(contacts::tags::remove(api, req))),
    Route::new("GET", "/api/v1/tags", |api, req| Box::pin(contacts::tags::list(api, req))),
    Route::new("POST", "/api/v1/contacts/bulk", |api, req| Box::pin(contacts::bulk::handle(api, req))),
    Route::new("POST", "/api/v1/conversations/{id}/close", |api, req| Box::pin(conversations::close::handle(api, req))),
    Route::new("GET", "/api/v1/workspace", |api, req| Box::pin(workspace::get(api, req))),
    Route::new("PATCH", "/api/v1/workspace", |api, req| Box::pin(workspace::update(api, req))),
    Route::new("GET", "/api/v1/contacts/{id}/duplicates", |api, req| Box::pin(contacts::duplicates::handle(api, req))),
    Route::new("DELETE", "/api/v1/contacts/{id}/duplicates/{other_id}", |api, req| {
        Box::pin(contacts::duplicates::dismiss(api, req))
    }),
    Route::new("GET", "/api/v1/duplicates", |api, req| Box::pin(duplicates::list(api, req))),
    Route::new("POST", "/api/v1/contacts/{id}/merge", |api, req| Box::pin(contacts::merge::merge(api, req))),
    Route::new("GET", "/api/v1/merges/{id}", |api, req| Box::pin(contacts::merge::get(api, req))),
    Route::new("POST", "/api/v1/merges/{id}/undo", |api, req| Box::pin(contacts::merge::undo(api, req))),
    Route::new("GET", "/api/v1/analytics", |api, req| Box::pin(analytics::handle(api, req))),
    Route::new("GET", "/api/v1/segments", |api, req| Box::pin(segments::list_all(api, req))),
    Route::new("POST", "/api/v1/segments", |api, req| Box::pin(segments::create(api, req))),
    Route::new("GET", "/api/v1/segments/{id}", |api, req| Box::pin(segments::get(api, req))),
    Route::new("PATCH", "/api/v1/segments/{id}", |api, req| Box::pin(segments::update(api, req))),
    Route::new("DELETE", "/api/v1/segments/{id}", |api, req| Box::pin(segments::delete(api, req))),
    Route::new("GET", "/api/v1/segments/{id}/contacts", |api, req| Box::pin(segments::members(api, req))),
    Route::new("GET", "/api/v1/retention/policy", |api, req| Box::pin(retention::get_policy(api, req))),
    Route::new("PUT", "/api/v1/retention/policy", |api, req| Box::pin(retention::put_policy(api, req))),
    Route::new("POST", "/api/v1/retention/runs", |api, req| Box::pin(retention::start_run(api, req))),
    Route::new("GET", "/api/v1/retention/runs", |api, req| Box::pin(retention::list_runs(api, req))),
    Route::new("GET", "/api/v1/retention/runs/{id}", |api, req| Box::pin(retention::get_run(api, req))),
    Route::new("GET", "/api/v1/users", |api, req| Box::pin(people::list(api, req))),
    Route::new("PATCH", "/api/v1/users/{id}", |api, req| Box::pin(people::change(api, req))),
    Route::new("DELETE", "/api/v1/users/{id}", |api, req| Box::pin(people::remove(api, req))),
    Route::new("POST", "/api/v1/users/{id}/password-reset", |api, req| Box::pin(people::password_reset(api, req))),
    Route::new("GET", "/api/v1/audit", |api, req| Box::pin(audit::list(api, req))),
    Route::new("POST", "/api/v1/invitations", |api, req| Box::pin(people::invite(api, req))),
    Route::new("POST", "/api/v1/exports", |api, req| Box::pin(exports::create::handle(api, req))),
    Route::new("GET", "/api/v1/exports", |api, req| Box::pin(exports::list::handle(api, req))),
    Route::new("GET", "/api/v1/exports/{id}", |api, req| Box::pin(exports::get::handle(api, req))),
    Route::new("POST", "/api/v1/imports", |api, req| Box::pin(imports::create::handle(api, req))),
    Route::new("GET", "/api/v1/imports", |api, req| Box::pin(imports::list::handle(api, req))),
    Route::new("GET", "/api/v1/imports/{id}", |api, req| Box::pin(imports::get::handle(api, req))),
    Route::new("POST", "/api/v1/imports/{id}/start", |api, req| Box::pin(imports::start::handle(api, req))),
    Route::new("GET", "/api/v1/contacts/{id}/export", |api, req| Box::pin(gdpr::access::handle(api, req))),
    Route::new("POST", "/api/v1/gdpr/erasure", |api, req| Box::pin(gdpr::erasure::handle(api, req))),
    Route::new("GET", "/api/v1/gdpr/erasures/{id}", |api, req| Box::pin(gdpr::erasure::receipt(api, req))),
    Route::new("GET", "/api/v1/gdpr/access-requests/{id}", |api, req| Box::pin(gdpr::access::request(api, req))),
    Route::new("GET", "/api/v1/keys", |api, req| Box::pin(keys::list(api, req))),
    Route::new("POST", "/api/v1/keys", |api, req| Box::pin(keys::create(api, req))),
    Route::new("DELETE", "/api/v1/keys/{id}", |api, req| Box::pin(keys::revoke(api, req))),
    Route::new("GET", "/api/v1/integrations", |api, req| Box::pin(integrations::list(api, req))),
    Route::new("POST", "/api/v1/integrations", |api, req| Box::pin(integrations::create(api, req))),
    Route::new("GET", "/api/v1/integrations/{id}", |api, req| Box::pin(integrations::get(api, req))),
    Route::new("PATCH", "/api/v1/integrations/{id}", |api, req| Box::pin(integrations::update(api, req))),
    Route::new("DELETE", "/api/v1/integrations/{id}", |api, req| Box::pin(integrations::delete(api, req))),
    Route::new("POST", "/api/v1/integrations/{id}/resync", |api, req| Box::pin(integrations::resync(api, req))),
    Route::new("GET", "/api/v1/openapi.json", |api, req| Box::pin(openapi::serve(api, req))),
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
    /// The imports bucket and queue; `None` where the function is not given them.
    pub imports: Option<imports::ImportSettings>,
    /// Seals and checks the listings' cursors.
    pub cursors: CursorKey,
    /// Which addresses integrations may send to.
    pub integrations: model::integration::address::AddressPolicy,
    /// Where integrations' resyncs are queued; `None` where the function is not given it.
    pub sync: Option<crate::crm_sync::message::SyncQueue>,
    /// Where the bots' sent messages are queued for capture; `None` where the function is not
    /// given it.
    pub capture: Option<crate::capture_queue::CaptureQueue>,
    /// Where erasures that outgrow a request go on; `None` where the function is not given it.
    pub gdpr_jobs: Option<crate::jobs::GdprJobs>,
}

impl Api {
    pub fn new(store: Store, cursors: CursorKey, pepper: KeyPepper) -> Self {
        Api {
            auth: Authenticator::new(store.clone(), pepper),
            store,
            expose_usage: false,
            exports: None,
            imports: None,
            cursors,
            integrations: Default::default(),
            sync: None,
            capture: None,
            gdpr_jobs: None,
        }
    }
}

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let route = route_key(&req).unwrap_or_default();
    let change = crate::audit::Change::of(&req, &route);
    let (mut response, usage) = metered(async {
        let (result, noted) = crate::audit::noting(dispatch(api, &route, req)).await;
        let response = result.unwrap_or_else(Problem::into_response);
        crate::audit::record(&api.store, noted, &route, change, response.status().as_u16()).await;
        response
    })
    .await;
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
    match routes::find(ROUTES, route) {
        Some(r) => (r.handle)(api, req).await,
        None => Err(Problem::not_found(format!("no route `{route}` in the contacts API"))),
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
