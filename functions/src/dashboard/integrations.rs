//! `/integrations`, for keys with the `admin` scope (as `/api/v1/integrations`): the
//! workspace's CRM syncs and webhooks with how their deliveries go, and forms to add one,
//! pause or resume it, send every contact again (a resync, queued as the API queues it)
//! and delete it. What is valid is the model's (`spec::create`, `spec::change`).

use super::contacts::time;
use super::format::{link, Form};
use super::integration_form::{kind_label, IntegrationForm};
use super::layout::{html, page as shell, redirect};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::crm_sync::{self, queue_resync};
use crate::http::{request, Problem};
use chrono::Utc;
use chrono_tz::Tz;
use lambda_http::{Body, Request, Response};
use maud::{html as markup, Markup};
use model::integration::spec::{self, Spec};
use model::integration::{Integration, Kind, Status, SyncError, Target, FAILING_AFTER};
use std::collections::BTreeMap;
use store::{StoreError, StoredIntegration};

/// A vendor's message is shown up to this many characters (a webhook receiver's may be a page).
const MESSAGE_SHOWN: usize = 300;

/// What these pages are for, as a refusal names it (admins and owners only).
const MANAGING: &str = "managing integrations";

/// The path's integration id; any id that is not the workspace's is simply not found.
fn integration_id(req: &Request) -> Result<String, Problem> {
    request::path_param(req, "id", |raw: &str| match raw.len() {
        1..=64 => Ok(raw.to_string()),
        _ => Err(format!("`{raw}` is not an integration id")),
    })
}

fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("there is no integration {id} in this workspace"))
}

async fn load(d: &Dashboard, v: &Visitor, id: &str) -> Result<StoredIntegration, Problem> {
    d.store.get_integration(&v.caller.workspace.id, id).await?.ok_or_else(|| not_found(id))
}

/// Where an integration sends.
fn address(t: &Target) -> &str {
    match t {
        Target::Hubspot { base_url } | Target::Salesforce { base_url, .. } | Target::Zoho { base_url, .. } => base_url,
        Target::Webhook { url, .. } => url,
    }
}

/// A message above the table.
enum Notice {
    Done(String),
    Problem(String),
}

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    let query = Form::query(&req);
    let all = d.store.list_integrations(&v.caller.workspace.id).await?;
    let name = |id: &str| {
        all.iter().find(|s| s.integration.id == id).map_or_else(|| id.to_string(), |s| s.integration.name.clone())
    };
    let notice = if let Some(id) = query.filled("added") {
        Some(format!("{} added: the workspace's contacts are on their way to it, 100 at a time, and changes follow as they happen.", name(id)))
    } else if let Some(id) = query.filled("paused") {
        Some(format!("{} paused: nothing is sent to it until it is resumed.", name(id)))
    } else if let Some(id) = query.filled("resumed") {
        Some(format!("{} resumed. Changes made while it was paused were not sent: resync to send them.", name(id)))
    } else if let Some(id) = query.filled("resynced") {
        Some(format!("Resync of {} queued: every contact is sent again, 100 at a time.", name(id)))
    } else {
        query.filled("deleted").map(|id| format!("Integration {id} deleted: nothing more is sent to it."))
    };
    Ok(render(&v, &all, &IntegrationForm::blank(), notice.map(Notice::Done), 200))
}

fn render(
    v: &Visitor,
    all: &[StoredIntegration],
    form: &IntegrationForm,
    notice: Option<Notice>,
    status: u16,
) -> Response<Body> {
    let content = markup! {
        h1 { "Integrations" }
        @match &notice {
            Some(Notice::Done(text)) => p.notice role="status" { (text) },
            Some(Notice::Problem(text)) => p.error role="alert" { (text) },
            None => {},
        }
        p.hint #integrations-summary {
            "Contacts go to these CRMs and webhooks as they change. A paused integration is sent nothing; one is failing after "
            (FAILING_AFTER) " failed deliveries in a row. A resync sends every contact again."
        }
        @if all.is_empty() {
            p.empty { "No integrations yet." }
        } @else {
            div.table-wrap {
                table.listing.integrations aria-describedby="integrations-summary" {
                    thead {
                        tr {
                            th scope="col" { "Name" }
                            th scope="col" { "Kind" }
                            th scope="col" { "Status" }
                            th scope="col" { "Synced" }
                            th scope="col" { "Failed" }
                            th scope="col" { "Last success" }
                            th scope="col" { "Last error" }
                            th scope="col" { "Actions" }
                        }
                    }
                    tbody {
                        @for s in all { (row(v, s)) }
                    }
                }
            }
        }
        section.card #add aria-labelledby="add-heading" {
            h2 #add-heading { "Add an integration" }
            (form.markup(v))
        }
    };
    html(status, shell("Integrations", Some(v), content))
}

fn row(v: &Visitor, s: &StoredIntegration) -> Markup {
    let (i, health, zone) = (&s.integration, &s.health, v.caller.workspace.time_zone);
    let action = |verb: &str, label: &str| {
        markup! {
            form.inline method="post" action={ "/integrations/" (i.id) "/" (verb) } {
                input type="hidden" name="csrf" value=(v.csrf);
                button.secondary type="submit" aria-label={ (label) " " (i.name) } { (label) }
            }
        }
    };
    markup! {
        tr data-integration-id=(i.id) {
            td data-label="Name" { div { (i.name) div.hint { (address(&i.target)) } } }
            td data-label="Kind" { (kind_label(i.target.kind())) }
            td data-label="Status" { (badge(Status::of(i, health))) }
            td data-label="Synced" { (health.synced) }
            td data-label="Failed" { (health.failed) }
            td data-label="Last success" {
                @match health.last_success_at { Some(t) => (time(t, zone)), None => "—" }
            }
            td data-label="Last error" {
                @match &health.last_error { Some(e) => (sync_error(e, zone)), None => "—" }
            }
            td.row-actions data-label="Actions" {
                div {
                    @if i.paused {
                        (action("resume", "Resume"))
                    } @else {
                        (action("pause", "Pause")) " " (action("resync", "Resync"))
                    }
                    " "
                    a.icon.danger href={ "/integrations/" (i.id) "/delete" } aria-label={ "Delete " (i.name) } title={ "Delete " (i.name) } { "✖" }
                }
            }
        }
    }
}

/// The status as a badge: its word, coloured.
fn badge(status: Status) -> Markup {
    let (class, text) = match status {
        Status::Active => ("active", "Active"),
        Status::Paused => ("paused", "Paused"),
        Status::Failing => ("failing", "Failing"),
    };
    markup! { span class={ "badge badge-" (class) } { (text) } }
}

/// A vendor's refusal: its HTTP status, its code, its message and when.
pub fn sync_error(e: &SyncError, zone: Tz) -> Markup {
    let mut message: String = e.message.chars().take(MESSAGE_SHOWN).collect();
    if message.len() < e.message.len() {
        message.push('…');
    }
    markup! {
        span {
            span.sync-error {
                @if let Some(status) = e.status { "HTTP " (status) " · " }
                @if let Some(code) = &e.code { code { (code) } " · " }
                (message)
            }
            " " span.hint { "(" (time(e.at, zone)) ")" }
        }
    }
}

pub async fn create(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let ws = &v.caller.workspace.id;
    let (mut entered, spec) = IntegrationForm::entered(&form);
    let (integration, credentials) = match spec::create(spec, d.integrations, Utc::now()) {
        Ok(made) => made,
        Err(invalid) => {
            entered.reject(invalid);
            let all = d.store.list_integrations(ws).await?;
            return Ok(render(&v, &all, &entered, None, 400));
        }
    };
    let added = crm_sync::add(&d.store, d.sync.as_ref(), ws, &integration, credentials).await?;
    tracing::info!(workspace = %ws, integration = %integration.id, kind = integration.target.kind().as_str(), by = %v.caller.log_name(), "integration made in the dashboard");
    match added.signing_secret {
        // Shown this once.
        Some(secret) => Ok(html(201, secret_page(&v, &integration, &secret))),
        None => Ok(redirect(&link("/integrations", &[("added", &integration.id)]))),
    }
}

fn secret_page(v: &Visitor, i: &Integration, secret: &str) -> Markup {
    shell(
        "Webhook added",
        Some(v),
        markup! {
            p.crumbs { a href="/integrations" { "← All integrations" } }
            h1 { "Webhook added" }
            div.card.narrow-left {
                p.notice role="status" {
                    (i.name) " will be sent the workspace's changes at " code { (address(&i.target)) }
                    ", each delivery signed as the Standard Webhooks specification says."
                }
                h2 #secret-heading { "Signing secret" }
                p { "Copy it to your receiver now: " strong { "it is not shown again" } ". The receiver checks each delivery's "
                    code { "webhook-signature" } " header with it." }
                p.secret aria-labelledby="secret-heading" { code #signing-secret { (secret) } }
                a.button.primary-link href="/integrations" { "Done" }
            }
        },
    )
}

pub async fn pause(d: &Dashboard, req: Request) -> PageResult {
    set_paused(d, req, true).await
}

pub async fn resume(d: &Dashboard, req: Request) -> PageResult {
    set_paused(d, req, false).await
}

async fn set_paused(d: &Dashboard, req: Request, paused: bool) -> PageResult {
    let (v, _) = session::admin_form(d, &req, MANAGING).await?;
    let id = integration_id(&req)?;
    let ws = &v.caller.workspace.id;
    let stored = load(d, &v, &id).await?;
    let change = Spec { paused: Some(paused), ..Spec::default() };
    let (integration, credentials) = spec::change(stored.integration, stored.credentials, change, Utc::now())
        .map_err(|e| Problem::invalid_field(&e.field, e.detail))?;
    match d.store.put_integration(ws, &integration, &credentials, false).await {
        Err(StoreError::NotFound) => return Err(not_found(&id)),
        other => other?,
    }
    tracing::info!(workspace = %ws, integration = %id, paused, by = %v.caller.log_name(), "integration paused or resumed in the dashboard");
    Ok(redirect(&link("/integrations", &[(if paused { "paused" } else { "resumed" }, &id)])))
}

/// Sends every contact to the integration again.
pub async fn resync(d: &Dashboard, req: Request) -> PageResult {
    let (v, _) = session::admin_form(d, &req, MANAGING).await?;
    let id = integration_id(&req)?;
    let ws = &v.caller.workspace.id;
    let stored = load(d, &v, &id).await?;
    if stored.integration.paused {
        let all = d.store.list_integrations(ws).await?;
        let notice = Notice::Problem(format!("{} is paused: resume it first, then resync.", stored.integration.name));
        return Ok(render(&v, &all, &IntegrationForm::blank(), Some(notice), 409));
    }
    let resync = queue_resync(d.sync.as_ref(), ws, &id, BTreeMap::new()).await?;
    tracing::info!(workspace = %ws, integration = %id, %resync, by = %v.caller.log_name(), "resync queued from the dashboard");
    Ok(redirect(&link("/integrations", &[("resynced", &id)])))
}

fn confirm_page(v: &Visitor, i: &Integration) -> Markup {
    let kind = i.target.kind();
    shell(
        &format!("Delete {}", i.name),
        Some(v),
        markup! {
            div.card.narrow.danger-zone {
                h1 { "Delete " (i.name) "?" }
                p { "This deletes the " (kind_label(kind)) " integration " strong { (i.name) } " (" (i.id) "), which sends to "
                    code { (address(&i.target)) } ", and its credentials. Nothing more is sent to it." }
                p { @if kind == Kind::Webhook { "What the receiver already got stays there." }
                    @else { "The records it already holds stay in " (kind_label(kind)) ": delete them there if they should go." } }
                form method="post" action={ "/integrations/" (i.id) "/delete" } {
                    input type="hidden" name="csrf" value=(v.csrf);
                    div.actions {
                        button.danger type="submit" autofocus { "Delete " (i.name) }
                        a href="/integrations" { "Cancel" }
                    }
                }
            }
        },
    )
}

pub async fn confirm_delete(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    let stored = load(d, &v, &integration_id(&req)?).await?;
    Ok(html(200, confirm_page(&v, &stored.integration)))
}

pub async fn delete(d: &Dashboard, req: Request) -> PageResult {
    let (v, _) = session::admin_form(d, &req, MANAGING).await?;
    let id = integration_id(&req)?;
    let ws = &v.caller.workspace.id;
    match d.store.delete_integration(ws, &id).await {
        Err(StoreError::NotFound) => return Err(not_found(&id)),
        other => other?,
    }
    tracing::info!(workspace = %ws, integration = %id, by = %v.caller.log_name(), "integration deleted in the dashboard");
    Ok(redirect(&link("/integrations", &[("deleted", &id)])))
}
