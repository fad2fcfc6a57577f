//! Adding and removing tags one at a time, and `GET /api/v1/tags` with the count of each.

use super::{contact_id, with_etag};
use crate::api::openapi::schemas::{ContactPath, ProblemDetails};
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::{Request, RequestExt};
use model::auth::Scope;
use model::contact::{check_limits, ContactPatch};
use model::domain::Tag;
use model::usecases::contacts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTags)]
struct TagsBody {
    /// Added to the contact's tags (letters, digits, spaces, `-`, `_`, `.`, `:`).
    #[schema(example = json!(["vip"]))]
    tags: Vec<String>,
}

/// A tag in use and how many contacts have it.
#[derive(Serialize, ToSchema)]
#[schema(as = TagCount)]
struct TagCount<'a> {
    #[schema(value_type = String, example = "vip")]
    tag: &'a str,
    count: u64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = TagList)]
struct TagList<'a> {
    /// Most used first.
    tags: Vec<TagCount<'a>>,
}

/// `POST /api/v1/contacts/{id}/tags` `{"tags": [...]}`: adds to the contact's tags.
#[utoipa::path(
    post,
    path = "/api/v1/contacts/{id}/tags",
    tag = "contacts",
    params(ContactPath),
    request_body = TagsBody,
    security(("api_key" = ["write"])),
    responses(
        (status = 200, description = "The contact", body = ContactDetail, headers(("ETag" = String))),
        (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
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
#[utoipa::path(
    delete,
    path = "/api/v1/contacts/{id}/tags/{tag}",
    tag = "contacts",
    params(ContactPath, ("tag" = String, Path, description = "The tag, URL-encoded")),
    security(("api_key" = ["write"])),
    responses(
        (status = 200, description = "The contact", body = ContactDetail, headers(("ETag" = String))),
        (status = 404, description = "No such contact, or it does not have the tag", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/tags",
    tag = "contacts",
    security(("api_key" = ["read"])),
    responses((status = 200, description = "Tags in use", body = TagList)),
)]
pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let mut tags = api.store.tag_counts(&caller.workspace.id).await?;
    tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let tags = tags.iter().map(|(tag, count)| TagCount { tag: tag.as_str(), count: *count }).collect();
    Ok(json(200, &TagList { tags }))
}
