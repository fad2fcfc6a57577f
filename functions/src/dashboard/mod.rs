//! The contacts dashboard: server-rendered pages for people, behind the same HTTP API
//! as the JSON API. Signing in with a workspace API key opens a server-side session;
//! every page then calls the store directly, with the API's parsing of filters and
//! edits, so a page and the API always mean the same thing.

mod account;
mod analytics;
mod assets;
mod audit;
mod bots;
mod bulk;
mod bulk_form;
mod contact;
mod contacts;
mod duplicates;
mod edit;
mod edit_form;
mod exports;
mod format;
mod gdpr;
mod imports;
mod integration_form;
mod integrations;
mod keys;
mod labels;
mod layout;
mod login;
mod merge;
mod merge_undo;
mod notes;
mod notice;
mod segments;
mod session;
mod settings;
mod team;
mod trash;
mod upload;

use crate::api::exports::ExportSettings;
use crate::api::imports::ImportSettings;
use crate::crm_sync::message::SyncQueue;
use crate::http::auth::Authenticator;
use crate::http::routes::{self, Route};
use crate::http::{route_key, Problem};
use lambda_http::{Body, Request, Response};
use model::auth::KeyPepper;
use model::integration::address::AddressPolicy;
use model::listing::CursorKey;
use std::convert::Infallible;
use std::time::Instant;
use store::meter::metered;
use store::Store;

/// Every route this function serves, exactly as `infra/template.yaml` declares them.
pub const ROUTES: &[Route<Dashboard>] = &[
    Route::new("GET", "/", |d, req| Box::pin(login::home(d, req))),
    Route::new("GET", "/login", |d, req| Box::pin(login::form(d, req))),
    Route::new("POST", "/login", |d, req| Box::pin(login::sign_in(d, req))),
    Route::new("POST", "/logout", |d, req| Box::pin(login::sign_out(d, req))),
    Route::new("GET", "/contacts", |d, req| Box::pin(contacts::page(d, req))),
    Route::new("GET", "/contacts/{id}", |d, req| Box::pin(contact::page(d, req))),
    Route::new("POST", "/contacts/{id}/edit", |d, req| Box::pin(edit::save(d, req))),
    Route::new("GET", "/contacts/{id}/delete", |d, req| Box::pin(edit::confirm_delete(d, req))),
    Route::new("POST", "/contacts/{id}/delete", |d, req| Box::pin(edit::delete(d, req))),
    Route::new("POST", "/contacts/{id}/close-conversations", |d, req| Box::pin(edit::close_conversations(d, req))),
    Route::new("POST", "/contacts/{id}/restore", |d, req| Box::pin(edit::restore(d, req))),
    Route::new("POST", "/contacts/{id}/notes", |d, req| Box::pin(notes::add(d, req))),
    Route::new("POST", "/contacts/{id}/notes/{note_id}/delete", |d, req| Box::pin(notes::delete(d, req))),
    Route::new("GET", "/contacts/{id}/merge", |d, req| Box::pin(merge::preview(d, req))),
    Route::new("POST", "/contacts/{id}/merge", |d, req| Box::pin(merge::merge(d, req))),
    Route::new("GET", "/contacts/{id}/gdpr-export", |d, req| Box::pin(gdpr::download(d, req))),
    Route::new("GET", "/contacts/{id}/gdpr-export/{request}", |d, req| Box::pin(gdpr::prepared(d, req))),
    Route::new("GET", "/contacts/{id}/erase", |d, req| Box::pin(gdpr::confirm(d, req))),
    Route::new("POST", "/contacts/{id}/erase", |d, req| Box::pin(gdpr::erase(d, req))),
    Route::new("GET", "/analytics", |d, req| Box::pin(analytics::page_handler(d, req))),
    Route::new("POST", "/exports", |d, req| Box::pin(exports::create(d, req))),
    Route::new("GET", "/exports/{id}", |d, req| Box::pin(exports::show(d, req))),
    Route::new("GET", "/integrations", |d, req| Box::pin(integrations::page(d, req))),
    Route::new("POST", "/integrations", |d, req| Box::pin(integrations::create(d, req))),
    Route::new("POST", "/integrations/{id}/pause", |d, req| Box::pin(integrations::pause(d, req))),
    Route::new("POST", "/integrations/{id}/resume", |d, req| Box::pin(integrations::resume(d, req))),
    Route::new("POST", "/integrations/{id}/resync", |d, req| Box::pin(integrations::resync(d, req))),
    Route::new("GET", "/integrations/{id}/delete", |d, req| Box::pin(integrations::confirm_delete(d, req))),
    Route::new("POST", "/integrations/{id}/delete", |d, req| Box::pin(integrations::delete(d, req))),
    Route::new("GET", "/audit", |d, req| Box::pin(audit::page(d, req))),
    Route::new("GET", "/keys", |d, req| Box::pin(keys::page(d, req))),
    Route::new("POST", "/keys", |d, req| Box::pin(keys::create(d, req))),
    Route::new("POST", "/keys/{id}/revoke", |d, req| Box::pin(keys::revoke(d, req))),
    Route::new("GET", "/team", |d, req| Box::pin(team::page(d, req))),
    Route::new("POST", "/team/invite", |d, req| Box::pin(team::invite(d, req))),
    Route::new("POST", "/team/{id}/role", |d, req| Box::pin(team::change_role(d, req))),
    Route::new("POST", "/team/{id}/reset", |d, req| Box::pin(team::reset(d, req))),
    Route::new("POST", "/team/{id}/remove", |d, req| Box::pin(team::remove(d, req))),
    Route::new("GET", "/join/{link}", |d, req| Box::pin(account::join_form(d, req))),
    Route::new("POST", "/join/{link}", |d, req| Box::pin(account::join(d, req))),
    Route::new("GET", "/reset/{link}", |d, req| Box::pin(account::reset_form(d, req))),
    Route::new("POST", "/reset/{link}", |d, req| Box::pin(account::reset(d, req))),
    Route::new("GET", "/account", |d, req| Box::pin(account::page_handler(d, req))),
    Route::new("POST", "/account", |d, req| Box::pin(account::change_password(d, req))),
    Route::new("GET", "/bots", |d, req| Box::pin(bots::list(d, req))),
    Route::new("POST", "/bots", |d, req| Box::pin(bots::create(d, req))),
    Route::new("GET", "/bots/{id}", |d, req| Box::pin(bots::page(d, req))),
    Route::new("POST", "/bots/{id}", |d, req| Box::pin(bots::save(d, req))),
    Route::new("POST", "/bots/{id}/channels/{channel}", |d, req| Box::pin(bots::channel(d, req))),
    Route::new("GET", "/settings", |d, req| Box::pin(settings::page(d, req))),
    Route::new("POST", "/settings", |d, req| Box::pin(settings::save(d, req))),
    Route::new("POST", "/settings/retention", |d, req| Box::pin(settings::save_policy(d, req))),
    Route::new("POST", "/settings/retention/runs", |d, req| Box::pin(settings::run(d, req))),
    Route::new("GET", "/imports", |d, req| Box::pin(imports::list(d, req))),
    Route::new("POST", "/imports", |d, req| Box::pin(imports::upload(d, req))),
    Route::new("GET", "/imports/{id}", |d, req| Box::pin(imports::page(d, req))),
    Route::new("POST", "/imports/{id}/start", |d, req| Box::pin(imports::start(d, req))),
    Route::new("POST", "/contacts/bulk", |d, req| Box::pin(bulk::apply(d, req))),
    Route::new("GET", "/segments", |d, req| Box::pin(segments::list_page(d, req))),
    Route::new("POST", "/segments", |d, req| Box::pin(segments::save(d, req))),
    Route::new("GET", "/segments/{id}", |d, req| Box::pin(segments::show(d, req))),
    Route::new("POST", "/segments/{id}/rename", |d, req| Box::pin(segments::rename(d, req))),
    Route::new("GET", "/segments/{id}/delete", |d, req| Box::pin(segments::confirm_delete(d, req))),
    Route::new("POST", "/segments/{id}/delete", |d, req| Box::pin(segments::delete(d, req))),
    Route::new("GET", "/trash", |d, req| Box::pin(trash::page(d, req))),
    Route::new("GET", "/duplicates", |d, req| Box::pin(duplicates::page(d, req))),
    Route::new("POST", "/contacts/{id}/duplicates/{other_id}/dismiss", |d, req| Box::pin(duplicates::dismiss(d, req))),
    Route::new("POST", "/merges/{id}/undo", |d, req| Box::pin(merge_undo::undo(d, req))),
    Route::new("GET", "/static/{file}", |_, req| Box::pin(async move { assets::serve(&req) })),
];

/// What the pages need, built once per execution environment.
#[derive(Debug)]
pub struct Dashboard {
    pub store: Store,
    pub auth: Authenticator,
    /// The exports' bucket and queue; without them the pages offer no export.
    pub exports: Option<ExportSettings>,
    /// The imports' bucket and queue; without them the pages offer no import.
    pub imports: Option<ImportSettings>,
    /// Seals and checks the pages' cursors.
    pub cursors: CursorKey,
    /// Which addresses integrations may send to.
    pub integrations: AddressPolicy,
    /// Where integrations' resyncs are queued; without it the pages cannot resync.
    pub sync: Option<SyncQueue>,
    /// Where erasures that outgrow a request go on; without it the pages cannot erase.
    pub gdpr_jobs: Option<crate::jobs::GdprJobs>,
}

impl Dashboard {
    pub fn new(store: Store, cursors: CursorKey, pepper: KeyPepper) -> Self {
        Dashboard {
            auth: Authenticator::new(store.clone(), pepper),
            store,
            exports: None,
            imports: None,
            cursors,
            integrations: AddressPolicy::default(),
            sync: None,
            gdpr_jobs: None,
        }
    }
}

/// A page, a redirect, or a problem rendered as a page.
pub type PageResult = Result<Response<Body>, Problem>;

pub async fn handle(dashboard: &Dashboard, req: Request) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let route = route_key(&req).unwrap_or_default();
    let signed_in = session::has_cookie(&req);
    let change = crate::audit::Change::of(&req, &route);
    let (mut response, usage) = metered(async {
        let (result, noted) = crate::audit::noting(dispatch(dashboard, &route, req)).await;
        let response = result.unwrap_or_else(|p| layout::problem_page(&p, signed_in));
        crate::audit::record(&dashboard.store, noted, &route, change, response.status().as_u16()).await;
        response
    })
    .await;
    // Every response, static files and problems included: browsers then never try plain http.
    response
        .headers_mut()
        .insert("strict-transport-security", http::HeaderValue::from_static("max-age=31536000; includeSubDomains"));
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
    match routes::find(ROUTES, route) {
        Some(r) => (r.handle)(d, req).await,
        None => Err(Problem::not_found(format!("no page for `{route}`"))),
    }
}
