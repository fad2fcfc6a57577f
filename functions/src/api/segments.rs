//! `/api/v1/segments`: saved filters (the list's parameters by the same names), their
//! members, and their use as export filters.

use crate::api::contacts::list;
use crate::api::openapi::schemas::{self as doc, MemberPaging, ProblemDetails};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::{Body, Request, RequestExt, Response};
use model::auth::Scope;
use model::domain::WorkspaceId;
use model::listing::{api_time, ListRequest, FILTER_PARAMETERS};
use model::segment::Segment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::{Store, StoreError};
use utoipa::ToSchema;

/// `name` is required to create; on a change, absent members are left alone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SegmentInput, example = json!({"name": "Hot Telegram leads", "filters": {"channel": "telegram", "score": "hot"}}))]
struct SegmentBody {
    /// Whitespace collapsed, 1 to 100 characters.
    name: Option<String>,
    /// The list's filter parameters by the same names (see `GET /api/v1/contacts`), as strings or booleans.
    #[schema(value_type = Option<BTreeMap<String, doc::FilterValue>>)]
    filters: Option<BTreeMap<String, serde_json::Value>>,
}

/// A saved segment.
#[derive(Serialize, ToSchema)]
#[schema(as = Segment)]
struct SegmentView<'a> {
    #[schema(value_type = String, example = "sgk3j9x2m4q8")]
    id: &'a str,
    #[schema(value_type = String, example = "Hot Telegram leads")]
    name: &'a str,
    #[schema(value_type = BTreeMap<String, String>)]
    filters: &'a BTreeMap<String, String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// The path of its members.
    #[schema(example = "/api/v1/segments/sgk3j9x2m4q8/contacts")]
    members: String,
}

impl<'a> From<&'a Segment> for SegmentView<'a> {
    fn from(s: &'a Segment) -> Self {
        SegmentView {
            id: &s.id,
            name: &s.name,
            filters: &s.filters,
            created_at: api_time(s.created_at),
            updated_at: api_time(s.updated_at),
            members: format!("/api/v1/segments/{}/contacts", s.id),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = SegmentList)]
struct SegmentList<'a> {
    segments: Vec<SegmentView<'a>>,
}

/// Checks filters by parsing them as a list request would.
pub(crate) fn checked_filters(
    ws: &WorkspaceId,
    raw: BTreeMap<String, serde_json::Value>,
) -> Result<BTreeMap<String, String>, Problem> {
    let mut out = BTreeMap::new();
    for (k, v) in raw {
        if !FILTER_PARAMETERS.contains(&k.as_str()) {
            return Err(Problem::invalid_field(
                &format!("filters.{k}"),
                format!("unknown filter; expected one of {}", FILTER_PARAMETERS.join(", ")),
            ));
        }
        let value = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(b) => b.to_string(),
            other => {
                return Err(Problem::invalid_field(
                    &format!("filters.{k}"),
                    format!("`{other}` must be a string or a boolean"),
                ))
            }
        };
        out.insert(k, value);
    }
    let pairs: Vec<(String, String)> = out.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    ListRequest::parse_filters(ws, &pairs, chrono::Utc::now())
        .map_err(|e| Problem::invalid_field(&format!("filters.{}", e.field), e.message))?;
    Ok(out)
}

fn segment_id(req: &Request) -> Result<String, Problem> {
    parse_id(req.path_parameters_ref().and_then(|p| p.first("id")).unwrap_or(""))
}

/// A segment id from a path, checked before it becomes part of a key.
pub(crate) fn parse_id(raw: &str) -> Result<String, Problem> {
    model::segment::segment_id(raw).map_err(|e| Problem::invalid_field("id", e.0))
}

/// The segment, or a 404 naming it.
pub(crate) async fn load(store: &Store, ws: &WorkspaceId, id: &str) -> Result<Segment, Problem> {
    store.get_segment(ws, id).await?.ok_or_else(|| Problem::not_found(format!("there is no segment {id}")))
}

/// Saves a new segment: a name (required) and filters the list accepts. The API and the
/// dashboard both save through here.
pub(crate) async fn save_new(
    store: &Store,
    ws: &WorkspaceId,
    name: Option<&str>,
    filters: BTreeMap<String, serde_json::Value>,
) -> Result<Segment, Problem> {
    let name = name.ok_or_else(|| Problem::invalid_field("name", "is required"))?;
    let segment = Segment::new(name, checked_filters(ws, filters)?).map_err(|e| Problem::invalid_field("name", e.0))?;
    store.put_segment(ws, &segment, true).await?;
    Ok(segment)
}

/// Renames a segment and/or replaces its filters; absent ones are left alone, the last write wins.
pub(crate) async fn change(
    store: &Store,
    ws: &WorkspaceId,
    id: &str,
    name: Option<&str>,
    filters: Option<BTreeMap<String, serde_json::Value>>,
) -> Result<Segment, Problem> {
    let mut segment = load(store, ws, id).await?;
    if let Some(name) = name {
        segment.name = model::segment::segment_name(name).map_err(|e| Problem::invalid_field("name", e.0))?;
    }
    if let Some(raw) = filters {
        segment.filters = checked_filters(ws, raw)?;
    }
    segment.updated_at = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0);
    store.put_segment(ws, &segment, false).await?;
    Ok(segment)
}

pub(crate) async fn remove(store: &Store, ws: &WorkspaceId, id: &str) -> Result<(), Problem> {
    store.delete_segment(ws, id).await.map_err(|e| match e {
        StoreError::NotFound => Problem::not_found(format!("there is no segment {id}")),
        other => other.into(),
    })
}

/// Saves a segment.
#[utoipa::path(
    post,
    path = "/api/v1/segments",
    tag = "segments",
    request_body = SegmentBody,
    security(("api_key" = ["write"])),
    responses((status = 201, description = "The segment", body = SegmentView, headers(("Location" = String)))),
)]
pub async fn create(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let body: SegmentBody = request::json_body(&req)?;
    let segment =
        save_new(&api.store, &caller.workspace.id, body.name.as_deref(), body.filters.unwrap_or_default()).await?;
    let mut response = json(201, &SegmentView::from(&segment));
    response
        .headers_mut()
        .insert("location", format!("/api/v1/segments/{}", segment.id).parse().map_err(|_| Problem::internal())?);
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/v1/segments",
    tag = "segments",
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The workspace's segments", body = SegmentList)),
)]
pub async fn list_all(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let segments = api.store.list_segments(&caller.workspace.id).await?;
    Ok(json(200, &SegmentList { segments: segments.iter().map(SegmentView::from).collect() }))
}

#[utoipa::path(
    get,
    path = "/api/v1/segments/{id}",
    tag = "segments",
    params(("id" = String, Path, pattern = "^sg[A-Za-z0-9]{10}$")),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The segment", body = SegmentView), (status = 404, description = "No such segment", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn get(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    Ok(json(200, &SegmentView::from(&load(&api.store, &caller.workspace.id, &segment_id(&req)?).await?)))
}

/// Renames a segment or replaces its filters.
#[utoipa::path(
    patch,
    path = "/api/v1/segments/{id}",
    tag = "segments",
    params(("id" = String, Path, pattern = "^sg[A-Za-z0-9]{10}$")),
    request_body = SegmentBody,
    security(("api_key" = ["write"])),
    responses((status = 200, description = "The segment", body = SegmentView), (status = 404, description = "No such segment", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn update(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = segment_id(&req)?;
    let body: SegmentBody = request::json_body(&req)?;
    let segment = change(&api.store, &caller.workspace.id, &id, body.name.as_deref(), body.filters).await?;
    Ok(json(200, &SegmentView::from(&segment)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/segments/{id}",
    tag = "segments",
    params(("id" = String, Path, pattern = "^sg[A-Za-z0-9]{10}$")),
    security(("api_key" = ["write"])),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such segment", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn delete(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    remove(&api.store, &caller.workspace.id, &segment_id(&req)?).await?;
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}

/// `GET /api/v1/segments/{id}/contacts`: the members, with `page`, `per_page` and `cursor`.
#[utoipa::path(
    get,
    path = "/api/v1/segments/{id}/contacts",
    tag = "segments",
    params(("id" = String, Path, pattern = "^sg[A-Za-z0-9]{10}$"), MemberPaging),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "A page of members", body = list::ListResponse), (status = 404, description = "No such segment", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn members(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    let ws = &caller.workspace.id;
    let segment = load(&api.store, ws, &segment_id(&req)?).await?;
    let mut params = segment.params();
    for (k, v) in request::query_pairs(&req) {
        if !matches!(k.as_str(), "page" | "per_page" | "cursor") {
            return Err(Problem::invalid_field(
                &k,
                "unknown parameter; a segment's members take page, per_page and cursor",
            ));
        }
        params.push((k, v));
    }
    let list =
        ListRequest::parse(ws, &params, chrono::Utc::now().with_timezone(&caller.workspace.time_zone), &api.cursors)?;
    list::page(api, ws, &list).await
}
