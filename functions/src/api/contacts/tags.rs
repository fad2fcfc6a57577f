//! Adding and removing tags one at a time, and `GET /api/v1/tags` with the count of each.

use super::{contact_id, with_etag};
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::{Request, RequestExt};
use model::auth::Scope;
use model::contact::{check_limits, ContactPatch};
use model::domain::Tag;
use model::usecases::contacts;
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsBody {
    tags: Vec<String>,
}

/// `POST /api/v1/contacts/{id}/tags` `{"tags": [...]}`: adds to the contact's tags.
pub async fn add(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let body: TagsBody = request::json_body(&req)?;
    let added = body
        .tags
        .iter()
        .map(|t| Tag::parse(t).map_err(|e| Problem::invalid_field("tags", e.0)))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let current = super::visible_contact(api, &caller.workspace.id, id).await?;
    let tags: BTreeSet<Tag> = current.tags.union(&added).cloned().collect();
    check_limits(&tags, None).map_err(|(f, m)| Problem::invalid_field(f, m))?;
    let patch = ContactPatch { tags: Some(tags), ..Default::default() };
    let contact = contacts::edit(&api.store, &caller.workspace, id, patch, None).await?;
    with_etag(json(200, &ContactDetail::from(&contact)), etag(&contact))
}

/// `DELETE /api/v1/contacts/{id}/tags/{tag}`.
pub async fn remove(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let raw = req.path_parameters_ref().and_then(|p| p.first("tag")).unwrap_or("").to_string();
    let tag = Tag::parse(&raw).map_err(|e| Problem::invalid_field("tag", e.0))?;
    let current = super::visible_contact(api, &caller.workspace.id, id).await?;
    if !current.tags.contains(&tag) {
        return Err(Problem::not_found(format!("contact {id} has no tag `{tag}`")));
    }
    let tags = current.tags.iter().filter(|t| **t != tag).cloned().collect();
    let patch = ContactPatch { tags: Some(tags), ..Default::default() };
    let contact = contacts::edit(&api.store, &caller.workspace, id, patch, None).await?;
    with_etag(json(200, &ContactDetail::from(&contact)), etag(&contact))
}

/// `GET /api/v1/tags`: tags in use, most used first.
pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let mut tags = api.store.tag_counts(&caller.workspace.id).await?;
    tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rows: Vec<_> = tags.iter().map(|(t, n)| serde_json::json!({"tag": t, "count": n})).collect();
    Ok(json(200, &serde_json::json!({"tags": rows})))
}
