//! `/api/v1/workspace`: the workspace's settings (admin scope to change them).

use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::domain::Region;
use model::workspace::Workspace;
use serde::Deserialize;

fn view(w: &Workspace) -> serde_json::Value {
    let phrases: std::collections::BTreeMap<&str, &Vec<String>> =
        w.lead_rules.phrases.iter().map(|(i, p)| (i.as_str(), p)).collect();
    serde_json::json!({
        "id": w.id, "name": w.name, "default_region": w.default_region.map(|r| r.code()), "deletion_grace_days": w.deletion_grace_days,
        "follow_up_after_days": w.lead_rules.policy.follow_up_after_days, "archive_after_days": w.lead_rules.policy.archive_after_days,
        "intent_phrases": phrases,
    })
}

pub async fn get(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    Ok(json(200, &view(&caller.workspace)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    name: Option<String>,
    default_region: Option<String>,
    deletion_grace_days: Option<u32>,
    follow_up_after_days: Option<i64>,
    archive_after_days: Option<i64>,
    /// Replaces the intent phrases (`pricing`, `demo`, `trial`, `enterprise`); `null` restores the defaults.
    #[serde(default, deserialize_with = "present")]
    intent_phrases: Option<Option<std::collections::BTreeMap<String, Vec<String>>>>,
}

fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub async fn update(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let body: SettingsBody = request::json_body(&req)?;
    let mut w = api
        .store
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
    api.store.put_workspace(&w).await?;
    api.auth.forget_workspace(&w.id);
    tracing::info!(workspace = %w.id, key = %caller.key.name, "workspace settings changed");
    Ok(json(200, &view(&w)))
}
