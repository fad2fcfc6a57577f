//! `POST /api/v1/contacts/bulk`: one action on up to 100 contacts, with a result per id.

use crate::api::openapi::schemas as doc;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::contact::{check_limits, ContactPatch};
use model::domain::{ContactId, LeadStatus, Tag};
use model::usecases::contacts::DeleteError;
use model::workspace::Workspace;
use serde::{Deserialize, Serialize};
use store::{Store, StoreError};
use utoipa::ToSchema;

pub(crate) const MAX_IDS: usize = 100;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BulkAction, example = json!({"ids": [1042, 1043], "action": "tag", "tag": "webinar"}))]
struct BulkBody {
    #[schema(schema_with = doc::bulk_contact_ids)]
    ids: Vec<u64>,
    #[schema(value_type = doc::BulkActionName)]
    action: String,
    /// For `tag` and `untag`.
    tag: Option<String>,
    /// For `set_status`.
    #[schema(value_type = Option<doc::LeadStatusName>)]
    status: Option<String>,
}

/// What became of one contact, in the order of `ids`.
#[derive(Serialize, ToSchema)]
#[schema(as = BulkResult)]
pub(crate) struct BulkResult {
    pub(crate) id: u64,
    /// 200 when done; otherwise the status this contact alone would have answered.
    pub(crate) status: u16,
    /// Why it was not done (absent when it was).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) detail: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = BulkResults)]
struct BulkResults {
    results: Vec<BulkResult>,
}

pub(crate) enum Action {
    Tag(Tag),
    Untag(Tag),
    SetStatus(LeadStatus),
    Delete,
}

/// The action and the member it takes (`tag` for tag and untag, `status` for set_status).
pub(crate) fn parse_action(name: &str, tag: Option<&str>, status: Option<&str>) -> Result<Action, Problem> {
    let tag = || {
        let raw = tag.ok_or_else(|| Problem::invalid_field("tag", "is required for this action"))?;
        Tag::parse(raw).map_err(|e| Problem::invalid_field("tag", e.0))
    };
    match name {
        "tag" => Ok(Action::Tag(tag()?)),
        "untag" => Ok(Action::Untag(tag()?)),
        "set_status" => {
            let raw = status.ok_or_else(|| Problem::invalid_field("status", "is required for set_status"))?;
            Ok(Action::SetStatus(
                raw.parse().map_err(|e: model::domain::InvalidValue| Problem::invalid_field("status", e.0))?,
            ))
        }
        "delete" => Ok(Action::Delete),
        other => Err(Problem::invalid_field(
            "action",
            format!("`{other}` is not an action: expected tag, untag, set_status or delete"),
        )),
    }
}

fn action(body: &BulkBody) -> Result<Action, Problem> {
    // A member another action needs is refused rather than ignored: it shows a mistaken request.
    let takes_tag = matches!(body.action.as_str(), "tag" | "untag");
    if body.tag.is_some() && !takes_tag {
        return Err(Problem::invalid_field("tag", "applies to the tag and untag actions only"));
    }
    if body.status.is_some() && body.action != "set_status" {
        return Err(Problem::invalid_field("status", "applies to the set_status action only"));
    }
    parse_action(&body.action, body.tag.as_deref(), body.status.as_deref())
}

fn check_count(n: usize) -> Result<(), Problem> {
    if n == 0 || n > MAX_IDS {
        return Err(Problem::invalid_field("ids", format!("give 1 to {MAX_IDS} contact ids")));
    }
    Ok(())
}

/// 1 to 100 contact ids, none twice.
pub(crate) fn checked_ids(raw: &[u64]) -> Result<Vec<ContactId>, Problem> {
    check_count(raw.len())?;
    // A value that cannot be a contact id makes the request malformed, not one of its results.
    let ids = raw
        .iter()
        .map(|raw| raw.to_string().parse::<ContactId>().map_err(|e| Problem::invalid_field("ids", e.0)))
        .collect::<Result<Vec<_>, _>>()?;
    // Each id costs a read and a write: a repeated one would only spend the request's time.
    let mut seen = std::collections::BTreeSet::new();
    if let Some(repeated) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(Problem::invalid_field("ids", format!("contact {repeated} is given more than once")));
    }
    Ok(ids)
}

/// Applies the action to each id in turn, with a result per id; one failing stops none of
/// the others. The API and the dashboard both run bulk actions through here.
pub(crate) async fn run(store: &Store, workspace: &Workspace, ids: &[ContactId], action: &Action) -> Vec<BulkResult> {
    // Deletions without a grace period share one purge budget: what is left when it runs
    // out (hidden, due now) the purge job removes.
    let stop_at = chrono::Utc::now() + super::PURGE_IN_REQUEST;
    let mut results = Vec::with_capacity(ids.len());
    for &id in ids {
        results.push(match apply(store, workspace, id, action, stop_at).await {
            Ok(()) => BulkResult { id: id.0, status: 200, detail: None },
            Err(p) => BulkResult { id: id.0, status: p.status, detail: Some(p.detail) },
        });
    }
    results
}

/// One action on up to 100 contacts, with a result per id.
#[utoipa::path(
    post,
    path = "/api/v1/contacts/bulk",
    tag = "contacts",
    request_body = BulkBody,
    security(("api_key" = ["write"])),
    responses((status = 200, description = "A result per contact", body = BulkResults)),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let body: BulkBody = request::json_body(&req)?;
    // The count, then the action, then each id: the order this route has always checked in.
    check_count(body.ids.len())?;
    let action = action(&body)?;
    let ids = checked_ids(&body.ids)?;
    let results = run(&api.store, &caller.workspace, &ids, &action).await;
    tracing::info!(workspace = %caller.workspace.id, action = %body.action, count = body.ids.len(), key = %caller.log_name(), "bulk action");
    Ok(json(200, &BulkResults { results }))
}

async fn apply(
    store: &Store,
    workspace: &Workspace,
    id: ContactId,
    action: &Action,
    stop_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Problem> {
    let current = super::visible_in(store, &workspace.id, id).await?;
    let patch = match action {
        Action::Tag(t) => {
            let mut tags = current.tags.clone();
            tags.insert(t.clone());
            check_limits(&tags, None).map_err(|(f, m)| Problem::invalid_field(f, m))?;
            ContactPatch { tags: Some(tags), ..Default::default() }
        }
        Action::Untag(t) => ContactPatch {
            tags: Some(current.tags.iter().filter(|x| *x != t).cloned().collect()),
            ..Default::default()
        },
        Action::SetStatus(s) => ContactPatch { status: Some(*s), ..Default::default() },
        Action::Delete => {
            return model::usecases::contacts::delete(store, workspace, id, None, stop_at).await.map(|_| ()).map_err(
                |e| match e {
                    DeleteError::Active { .. } => Problem::conflict("has active conversations; close them first"),
                    DeleteError::Store(e) => e.into(),
                },
            );
        }
    };
    match model::usecases::contacts::edit(store, workspace, id, patch, None).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(Problem::not_found(format!("there is no contact {id} in this workspace"))),
        Err(e) => Err(e.into()),
    }
}
