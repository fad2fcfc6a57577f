//! The contacts dashboard: server-rendered pages for people, behind the same HTTP API
//! as the JSON API. Signing in with a workspace API key opens a server-side session;
//! every page then calls the store directly, with the API's parsing of filters and
//! edits, so a page and the API always mean the same thing.

mod analytics;
mod assets;
mod contact;
mod contacts;
mod edit;
mod exports;
mod format;
mod gdpr;
mod layout;
mod login;
mod merge;
mod notes;
mod session;

use crate::api::exports::ExportSettings;
use crate::http::auth::Authenticator;
use crate::http::{route_key, Problem};
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::time::Instant;
use store::meter::metered;
use store::Store;

/// Every route this function serves, exactly as `infra/template.yaml` declares them.
pub const ROUTES: [&str; 22] = [
    "GET /",
    "GET /login",
    "POST /login",
    "POST /logout",
    "GET /contacts",
    "GET /contacts/{id}",
    "POST /contacts/{id}/edit",
    "GET /contacts/{id}/delete",
    "POST /contacts/{id}/delete",
    "POST /contacts/{id}/close-conversations",
    "POST /contacts/{id}/restore",
    "POST /contacts/{id}/notes",
    "POST /contacts/{id}/notes/{note_id}/delete",
    "GET /contacts/{id}/merge",
    "POST /contacts/{id}/merge",
    "GET /contacts/{id}/gdpr-export",
    "GET /contacts/{id}/erase",
    "POST /contacts/{id}/erase",
    "GET /analytics",
    "POST /exports",
    "GET /exports/{id}",
    "GET /static/{file}",
];

/// What the pages need, built once per execution environment.
#[derive(Debug)]
pub struct Dashboard {
    pub store: Store,
    pub auth: Authenticator,
    /// The exports' bucket and queue; without them the pages offer no export.
    pub exports: Option<ExportSettings>,
}

impl Dashboard {
    pub fn new(store: Store) -> Self {
        Dashboard { auth: Authenticator::new(store.clone()), store, exports: None }
    }
}

/// A page, a redirect, or a problem rendered as a page.
pub type PageResult = Result<Response<Body>, Problem>;

pub async fn handle(dashboard: &Dashboard, req: Request) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let route = route_key(&req).unwrap_or_default();
    let signed_in = session::has_cookie(&req);
    let (result, usage) = metered(dispatch(dashboard, &route, req)).await;
    let response = result.unwrap_or_else(|p| layout::problem_page(&p, signed_in));
    tracing::info!(
        route = %route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        ddb_calls = usage.calls,
        ddb_operations = %usage.operations.join(","),
        "page"
    );
    Ok(response)
}

async fn dispatch(d: &Dashboard, route: &str, req: Request) -> PageResult {
    match route {
        "GET /" => login::home(d, req).await,
        "GET /login" => login::form(d, req).await,
        "POST /login" => login::sign_in(d, req).await,
        "POST /logout" => login::sign_out(d, req).await,
        "GET /contacts" => contacts::page(d, req).await,
        "GET /contacts/{id}" => contact::page(d, req).await,
        "POST /contacts/{id}/edit" => edit::save(d, req).await,
        "GET /contacts/{id}/delete" => edit::confirm_delete(d, req).await,
        "POST /contacts/{id}/delete" => edit::delete(d, req).await,
        "POST /contacts/{id}/close-conversations" => edit::close_conversations(d, req).await,
        "POST /contacts/{id}/restore" => edit::restore(d, req).await,
        "POST /contacts/{id}/notes" => notes::add(d, req).await,
        "POST /contacts/{id}/notes/{note_id}/delete" => notes::delete(d, req).await,
        "GET /contacts/{id}/merge" => merge::preview(d, req).await,
        "POST /contacts/{id}/merge" => merge::merge(d, req).await,
        "GET /contacts/{id}/gdpr-export" => gdpr::download(d, req).await,
        "GET /contacts/{id}/erase" => gdpr::confirm(d, req).await,
        "POST /contacts/{id}/erase" => gdpr::erase(d, req).await,
        "GET /analytics" => analytics::page_handler(d, req).await,
        "POST /exports" => exports::create(d, req).await,
        "GET /exports/{id}" => exports::show(d, req).await,
        "GET /static/{file}" => assets::serve(&req),
        other => Err(Problem::not_found(format!("no page for `{other}`"))),
    }
}
