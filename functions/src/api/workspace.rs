//! `/api/v1/workspace`: the workspace's settings (admin scope to change them).

use crate::api::openapi::schemas::ProblemDetails;
use crate::api::Api;
use crate::http::auth::{Authenticator, Caller};
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::domain::Region;
use model::workspace::Workspace;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The workspace's settings.
#[derive(Serialize, ToSchema)]
#[schema(as = Workspace)]
struct WorkspaceView<'a> {
    #[schema(value_type = String, example = "acme")]
    id: &'a str,
    #[schema(value_type = String, example = "Acme Inc")]
    name: &'a str,
    /// ISO 3166-1 code phone numbers without a country code are read with; `null` when none.
    #[schema(required = true, example = "US")]
    default_region: Option<String>,
    /// How long a deleted contact stays restorable.
    #[schema(maximum = 365, example = 30)]
    deletion_grace_days: u32,
    follow_up_after_days: i64,
    archive_after_days: i64,
    /// The IANA time zone whose days the list's `range` counts and the dashboard shows times in.
    #[schema(value_type = String, example = "Europe/Berlin")]
    time_zone: &'a str,
    /// Phrases that reveal each buying intent (`pricing`, `demo`, `trial`, `enterprise`).
    #[schema(value_type = BTreeMap<String, Vec<String>>)]
    intent_phrases: BTreeMap<&'a str, &'a Vec<String>>,
}

impl<'a> From<&'a Workspace> for WorkspaceView<'a> {
    fn from(w: &'a Workspace) -> Self {
        WorkspaceView {
            id: w.id.as_str(),
            name: &w.name,
            default_region: w.default_region.map(|r| r.code()),
            deletion_grace_days: w.deletion_grace_days,
            follow_up_after_days: w.lead_rules.policy.follow_up_after_days,
            archive_after_days: w.lead_rules.policy.archive_after_days,
            time_zone: w.time_zone.name(),
            intent_phrases: w.lead_rules.phrases.iter().map(|(i, p)| (i.as_str(), p)).collect(),
        }
    }
}

/// The settings, as cached with the caller's key (up to 5 s old).
#[utoipa::path(
    get,
    path = "/api/v1/workspace",
    tag = "workspace",
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The settings", body = WorkspaceView)),
)]
pub async fn get(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    Ok(json(200, &WorkspaceView::from(&caller.workspace)))
}

/// Absent members (or `null`, but for `intent_phrases`) are left alone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WorkspacePatch, example = json!({"name": "Acme Inc", "default_region": "US", "deletion_grace_days": 30, "time_zone": "Europe/Berlin"}))]
pub struct SettingsBody {
    /// Trimmed, 1 to 100 characters.
    pub name: Option<String>,
    /// An ISO 3166-1 code (`de` is read as `DE`).
    pub default_region: Option<String>,
    /// 0 (purge at once) to 365.
    #[schema(maximum = 365)]
    pub deletion_grace_days: Option<u32>,
    /// 1 to 365.
    pub follow_up_after_days: Option<i64>,
    /// More than `follow_up_after_days`, at most 3650.
    pub archive_after_days: Option<i64>,
    /// An IANA time zone name, as the database spells it (`Europe/Berlin`, `UTC`).
    pub time_zone: Option<String>,
    /// Replaces the intent phrases (`pricing`, `demo`, `trial`, `enterprise`); `null` restores the defaults.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<BTreeMap<String, Vec<String>>>)]
    pub intent_phrases: Option<Option<BTreeMap<String, Vec<String>>>>,
}

fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes the settings.
#[utoipa::path(
    patch,
    path = "/api/v1/workspace",
    tag = "workspace",
    request_body = SettingsBody,
    security(("api_key" = ["admin"])),
    responses((status = 200, description = "The settings", body = WorkspaceView), (status = 404, description = "The workspace no longer exists", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn update(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let body: SettingsBody = request::json_body(&req)?;
    let w = change_settings(&api.store, &api.auth, &caller, body).await?;
    Ok(json(200, &WorkspaceView::from(&w)))
}

/// Checks and stores changed settings (the API's and the dashboard's).
pub async fn change_settings(
    store: &store::Store,
    auth: &Authenticator,
    caller: &Caller,
    body: SettingsBody,
) -> Result<Workspace, Problem> {
    let mut w = store
        .get_workspace(&caller.workspace.id)
        .await?
        .ok_or_else(|| Problem::not_found("the workspace no longer exists"))?;
    if let Some(name) = body.name {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Problem::invalid_field("name", "needs 1 to 100 characters"));
        }
        w.name = name;
    }
    if let Some(region) = body.default_region {
        w.default_region = Some(region.parse::<Region>().map_err(|e| Problem::invalid_field("default_region", e.0))?);
    }
    if let Some(zone) = body.time_zone {
        w.time_zone = model::workspace::parse_time_zone(&zone).map_err(|e| Problem::invalid_field("time_zone", e.0))?;
    }
    if let Some(days) = body.deletion_grace_days {
        if days > 365 {
            return Err(Problem::invalid_field("deletion_grace_days", "must be 0 (delete at once) to 365"));
        }
        w.deletion_grace_days = days;
    }
    let policy = &mut w.lead_rules.policy;
    if let Some(days) = body.follow_up_after_days {
        policy.follow_up_after_days = days;
    }
    if let Some(days) = body.archive_after_days {
        policy.archive_after_days = days;
    }
    if !(1..=365).contains(&policy.follow_up_after_days)
        || policy.archive_after_days <= policy.follow_up_after_days
        || policy.archive_after_days > 3650
    {
        return Err(Problem::invalid_field(
            "follow_up_after_days",
            "follow-up needs 1 to 365 days, and archiving more days than follow-up (at most 3650)",
        ));
    }
    match body.intent_phrases {
        None => {}
        Some(None) => w.lead_rules.phrases = model::lead::default_phrases(),
        Some(Some(raw)) => {
            w.lead_rules.phrases =
                model::lead::parse_phrases(&raw).map_err(|e| Problem::invalid_field("intent_phrases", e.0))?
        }
    }
    store.put_workspace(&w).await?;
    auth.forget_workspace(&w.id);
    tracing::info!(workspace = %w.id, key = %caller.log_name(), "workspace settings changed");
    Ok(w)
}
