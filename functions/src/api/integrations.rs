//! `/api/v1/integrations`: CRM sync (HubSpot, Salesforce, Zoho CRM) and outbound webhooks
//! (admin scope). Credentials are write-only: sealed at rest, never shown; a webhook's
//! signing secret is shown once, when it is made. docs/integrations.md has the set-up.

use crate::api::openapi::schemas::ProblemDetails;
use crate::api::Api;
use crate::crm_sync::{self, queue_resync};
use crate::http::{json, request, HttpResult, Problem};
use chrono::Utc;
use lambda_http::{Body, Request, RequestExt, Response};
use model::auth::Scope;
use model::integration::spec::{self, Invalid, Spec, SpecCredentials};
use model::integration::{Health, Integration, Status, SyncError};
use model::listing::api_time;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::{StoreError, StoredIntegration};
use utoipa::ToSchema;

/// A new integration (`kind` and what it needs) or a change to one (`name`, `paused`,
/// `field_map`, `credentials`, a webhook's `events`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = IntegrationInput, example = json!({"kind": "hubspot", "credentials": {"access_token": "pat-na1-…"}, "field_map": {"score": "hubspotscore"}}))]
struct IntegrationBody {
    /// `hubspot`, `salesforce`, `zoho` or `webhook`; fixed once made.
    kind: Option<String>,
    /// 1 to 100 characters; the kind by default.
    name: Option<String>,
    /// The vendor's API address: HubSpot `https://api.hubapi.com` and Zoho
    /// `https://www.zohoapis.com` by default; Salesforce your org's My Domain URL (required).
    base_url: Option<String>,
    /// Salesforce's token endpoint (`https://login.salesforce.com/services/oauth2/token`).
    token_url: Option<String>,
    /// Zoho Accounts of your data centre (`https://accounts.zoho.com`).
    accounts_url: Option<String>,
    /// Salesforce: `Lead` (default) or `Contact`.
    object: Option<String>,
    /// Salesforce: the external-id field holding our contact id (`AIBot_Contact_Id__c`).
    external_id_field: Option<String>,
    /// Zoho: `Leads` (default) or `Contacts`.
    module: Option<String>,
    /// A webhook's URL: https to a public host.
    url: Option<String>,
    /// A webhook's events (all by default): contact.created, contact.updated, contact.merged,
    /// contact.deleted, contact.erased, conversation.closed.
    events: Option<Vec<String>>,
    /// Write-only. HubSpot: `access_token` (a private app's token). Salesforce and Zoho:
    /// `client_id`, `client_secret`, `refresh_token`.
    credentials: Option<CredentialsBody>,
    /// Our field → the vendor's field name; `null` drops a field.
    #[schema(value_type = Option<BTreeMap<String, Option<String>>>)]
    field_map: Option<BTreeMap<String, Option<String>>>,
    /// Only contacts these list filters match are sent (the list's parameter names, as in
    /// segments); `{}` sends all.
    #[schema(value_type = Option<BTreeMap<String, crate::api::openapi::schemas::FilterValue>>)]
    filters: Option<BTreeMap<String, serde_json::Value>>,
    /// A CRM: archive each contact once it arrived (status `archived`, reason `moved_to_crm`).
    archive_after_sync: Option<bool>,
    /// A paused integration sends nothing; changes meanwhile are not queued (resync after).
    paused: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CredentialsBody {
    access_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

impl IntegrationBody {
    /// The request as the model takes it, its filters checked as the list checks them.
    fn into_spec(mut self, ws: &model::domain::WorkspaceId) -> Result<Spec, Problem> {
        let filters = self.filters.take().map(|raw| crate::api::segments::checked_filters(ws, raw)).transpose()?;
        Ok(Spec { filters, ..self.into() })
    }
}

impl From<IntegrationBody> for Spec {
    fn from(b: IntegrationBody) -> Spec {
        Spec {
            kind: b.kind,
            name: b.name,
            base_url: b.base_url,
            token_url: b.token_url,
            accounts_url: b.accounts_url,
            object: b.object,
            module: b.module,
            external_id_field: b.external_id_field,
            url: b.url,
            events: b.events,
            credentials: b.credentials.map(|c| SpecCredentials {
                access_token: c.access_token,
                client_id: c.client_id,
                client_secret: c.client_secret,
                refresh_token: c.refresh_token,
            }),
            field_map: b.field_map,
            archive_after_sync: b.archive_after_sync,
            paused: b.paused,
            filters: None,
        }
    }
}

/// A vendor's refusal as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SyncError)]
pub(crate) struct ErrorView {
    /// The vendor's HTTP status, when it answered.
    #[schema(required = true)]
    status: Option<u16>,
    /// The vendor's error code (e.g. `REQUIRED_FIELD_MISSING`, `RATE_LIMIT`).
    #[schema(required = true)]
    code: Option<String>,
    message: String,
    #[schema(format = DateTime)]
    at: String,
}

impl From<&SyncError> for ErrorView {
    fn from(e: &SyncError) -> Self {
        ErrorView { status: e.status, code: e.code.clone(), message: e.message.clone(), at: api_time(e.at) }
    }
}

/// An integration, without its credentials.
#[derive(Serialize, ToSchema)]
#[schema(as = Integration)]
struct IntegrationView {
    #[schema(example = "int_17644100000001a2b3c4d")]
    id: String,
    #[schema(example = "hubspot")]
    kind: &'static str,
    name: String,
    /// `active`, `paused`, or `failing` (five deliveries in a row failed).
    #[schema(example = "active")]
    status: &'static str,
    /// The kind's addresses and objects (`base_url`, `token_url`, `object`, …, a webhook's `url` and `events`).
    #[schema(value_type = Object)]
    target: serde_json::Value,
    #[schema(value_type = BTreeMap<String, String>)]
    field_map: BTreeMap<&'static str, String>,
    /// The list filters a contact must match to be sent; empty: all.
    #[schema(value_type = BTreeMap<String, String>)]
    filters: BTreeMap<String, String>,
    archive_after_sync: bool,
    /// Contacts that arrived.
    synced: u64,
    /// Contacts the vendor refused, or that ran out of retries.
    failed: u64,
    #[schema(format = DateTime, required = true)]
    last_success_at: Option<String>,
    #[schema(required = true)]
    last_error: Option<ErrorView>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

fn view(i: &Integration, health: &Health) -> IntegrationView {
    let mut target = serde_json::to_value(&i.target).unwrap_or_default();
    if let Some(map) = target.as_object_mut() {
        map.remove("kind");
    }
    let status = match Status::of(i, health) {
        Status::Active => "active",
        Status::Paused => "paused",
        Status::Failing => "failing",
    };
    IntegrationView {
        id: i.id.clone(),
        kind: i.target.kind().as_str(),
        name: i.name.clone(),
        status,
        target,
        field_map: i.field_map.iter().map(|(k, v)| (k.as_str(), v.clone())).collect(),
        filters: i.filters.clone(),
        archive_after_sync: i.archive_after_sync,
        synced: health.synced,
        failed: health.failed,
        last_success_at: health.last_success_at.map(api_time),
        last_error: health.last_error.as_ref().map(ErrorView::from),
        created_at: api_time(i.created_at),
        updated_at: api_time(i.updated_at),
    }
}

/// A webhook just made: its fields and its signing secret, shown this once.
#[derive(Serialize, ToSchema)]
#[schema(as = NewIntegration)]
struct NewIntegrationView {
    #[serde(flatten)]
    integration: IntegrationView,
    /// A webhook's Standard Webhooks signing secret (`whsec_…`): store it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_secret: Option<String>,
    /// A CRM's first sync of the workspace's contacts: its resync id.
    #[serde(skip_serializing_if = "Option::is_none")]
    backfill: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = IntegrationList)]
struct IntegrationList {
    integrations: Vec<IntegrationView>,
}

fn invalid(e: Invalid) -> Problem {
    Problem::invalid_field(&e.field, e.detail)
}

fn id_of(req: &Request) -> Result<String, Problem> {
    let id = req.path_parameters_ref().and_then(|p| p.first("id")).unwrap_or("").to_string();
    let well_formed = id
        .strip_prefix("int_")
        .is_some_and(|t| !t.is_empty() && t.len() <= 40 && t.chars().all(|c| c.is_ascii_alphanumeric()));
    well_formed
        .then_some(id)
        .ok_or_else(|| Problem::invalid_field("id", "an integration id is `int_` and letters and digits"))
}

fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("there is no integration {id}"))
}

async fn load(api: &Api, ws: &model::domain::WorkspaceId, id: &str) -> Result<StoredIntegration, Problem> {
    api.store.get_integration(ws, id).await?.ok_or_else(|| not_found(id))
}

/// Every integration of the workspace, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/integrations",
    tag = "integrations",
    security(("api_key" = ["admin"])),
    responses((status = 200, description = "The workspace's integrations", body = IntegrationList)),
)]
pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let all = api.store.list_integrations(&caller.workspace.id).await?;
    Ok(json(200, &IntegrationList { integrations: all.iter().map(|s| view(&s.integration, &s.health)).collect() }))
}

/// Makes an integration. Changes from now on are sent; `POST …/resync` sends the contacts made before.
#[utoipa::path(
    post,
    path = "/api/v1/integrations",
    tag = "integrations",
    request_body = IntegrationBody,
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The integration (a webhook's with its signing secret)", body = NewIntegrationView, headers(("Location" = String))),
        (status = 400, description = "A field is missing or wrong", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn create(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let body: IntegrationBody = request::json_body(&req)?;
    let spec = body.into_spec(&caller.workspace.id)?;
    let (integration, credentials) = spec::create(spec, api.integrations, Utc::now()).map_err(invalid)?;
    let added = crm_sync::add(&api.store, api.sync.as_ref(), &caller.workspace.id, &integration, credentials).await?;
    tracing::info!(workspace = %caller.workspace.id, integration = %integration.id, kind = integration.target.kind().as_str(), by = %caller.log_name(), "integration made");
    let view = NewIntegrationView {
        integration: view(&integration, &Health::default()),
        signing_secret: added.signing_secret,
        backfill: added.backfill,
    };
    let mut response = json(201, &view);
    let location = format!("/api/v1/integrations/{}", integration.id).parse().map_err(|_| Problem::internal())?;
    response.headers_mut().insert("location", location);
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/v1/integrations/{id}",
    tag = "integrations",
    params(("id" = String, Path)),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The integration", body = IntegrationView),
        (status = 404, description = "No such integration", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn get(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let id = id_of(&req)?;
    let stored = load(api, &caller.workspace.id, &id).await?;
    Ok(json(200, &view(&stored.integration, &stored.health)))
}

/// Renames, pauses or resumes, changes the field map, replaces the credentials, or a webhook's events.
#[utoipa::path(
    patch,
    path = "/api/v1/integrations/{id}",
    tag = "integrations",
    params(("id" = String, Path)),
    request_body = IntegrationBody,
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The integration as changed", body = IntegrationView),
        (status = 404, description = "No such integration", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 400, description = "A field is wrong or cannot change", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn update(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let id = id_of(&req)?;
    let body: IntegrationBody = request::json_body(&req)?;
    let stored = load(api, &caller.workspace.id, &id).await?;
    let spec = body.into_spec(&caller.workspace.id)?;
    let (integration, credentials) =
        spec::change(stored.integration, stored.credentials, spec, Utc::now()).map_err(invalid)?;
    match api.store.put_integration(&caller.workspace.id, &integration, &credentials, false).await {
        Err(StoreError::NotFound) => return Err(not_found(&id)),
        other => other?,
    }
    tracing::info!(workspace = %caller.workspace.id, integration = %id, by = %caller.log_name(), "integration changed");
    Ok(json(200, &view(&integration, &stored.health)))
}

/// Deletes an integration: nothing more is sent; what the vendor holds stays there.
#[utoipa::path(
    delete,
    path = "/api/v1/integrations/{id}",
    tag = "integrations",
    params(("id" = String, Path)),
    security(("api_key" = ["admin"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such integration", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn delete(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let id = id_of(&req)?;
    match api.store.delete_integration(&caller.workspace.id, &id).await {
        Err(StoreError::NotFound) => return Err(not_found(&id)),
        other => other?,
    }
    tracing::info!(workspace = %caller.workspace.id, integration = %id, by = %caller.log_name(), "integration deleted");
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}

/// Which contacts a resync sends again: the list's filters (all of them by default).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ResyncInput, example = json!({"filters": {"status": "active"}}))]
struct ResyncBody {
    /// The list's filter parameters by the same names (see `GET /api/v1/contacts`).
    #[schema(value_type = Option<BTreeMap<String, crate::api::openapi::schemas::FilterValue>>)]
    filters: Option<BTreeMap<String, serde_json::Value>>,
}

/// A resync just queued.
#[derive(Serialize, ToSchema)]
#[schema(as = Resync)]
struct ResyncView {
    #[schema(example = "rs_17644100000001a2b3c4d")]
    resync: String,
    /// What it sends, by the list's parameter names.
    #[schema(value_type = BTreeMap<String, String>)]
    filters: BTreeMap<String, String>,
}

/// Sends the workspace's contacts (or those the filters match) to the integration again,
/// as they are now: after a pause, a fix of the field map or credentials, or a vendor's loss.
#[utoipa::path(
    post,
    path = "/api/v1/integrations/{id}/resync",
    tag = "integrations",
    params(("id" = String, Path)),
    request_body(content = Option<ResyncBody>, description = "Optional: which contacts"),
    security(("api_key" = ["admin"])),
    responses(
        (status = 202, description = "Queued", body = ResyncView),
        (status = 404, description = "No such integration", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "The integration is paused", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn resync(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let id = id_of(&req)?;
    let body: ResyncBody = if req.body().is_empty() { ResyncBody { filters: None } } else { request::json_body(&req)? };
    let ws = &caller.workspace.id;
    let filters = crate::api::segments::checked_filters(ws, body.filters.unwrap_or_default())?;
    let stored = load(api, ws, &id).await?;
    if stored.integration.paused {
        return Err(Problem::conflict(format!("integration {id} is paused: resume it first (PATCH paused=false)")));
    }
    let resync = queue_resync(api.sync.as_ref(), ws, &id, filters.clone()).await?;
    tracing::info!(workspace = %ws, integration = %id, %resync, by = %caller.log_name(), "resync queued");
    Ok(json(202, &ResyncView { resync, filters }))
}

/// A contact's state in one integration.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ContactSync)]
pub(crate) struct SyncStateView {
    #[schema(example = "int_17644100000001a2b3c4d")]
    integration: String,
    #[schema(example = "Workspace HubSpot")]
    name: String,
    #[schema(example = "hubspot")]
    kind: &'static str,
    /// The vendor's id for the record; `null` until it first arrived.
    #[schema(required = true, example = "51")]
    remote_id: Option<String>,
    #[schema(format = DateTime, required = true)]
    synced_at: Option<String>,
    /// The vendor's last refusal of this contact, until it next arrives.
    #[schema(required = true)]
    last_error: Option<ErrorView>,
}

/// A contact's states in integrations (`Store::contact_integrations`), as the API shows them.
pub(crate) fn sync_views(pairs: Vec<(Integration, model::integration::ContactSync)>) -> Vec<SyncStateView> {
    pairs
        .into_iter()
        .map(|(i, s)| SyncStateView {
            integration: s.integration,
            name: i.name,
            kind: i.target.kind().as_str(),
            remote_id: s.remote_id,
            synced_at: s.synced_at.map(api_time),
            last_error: s.last_error.as_ref().map(ErrorView::from),
        })
        .collect()
}
