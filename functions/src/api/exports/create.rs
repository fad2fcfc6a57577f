//! `POST /api/v1/exports`: validates the filters as the list does, records the export and
//! queues it for the export worker. `202 Accepted`: the file is written in the background.

use super::{ExportSettings, ExportView};
use crate::api::openapi::schemas::{self as doc, ProblemDetails};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use chrono::Utc;
use lambda_http::Request;
use model::auth::Scope;
use model::export::{ExportFilters, ExportFormat};
use model::usecases::exports::request_export;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What to export: `filters` or a saved `segment`, not both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ExportRequest, example = json!({"format": "csv", "filters": {"channel": "telegram", "range": "30d"}}))]
struct CreateBody {
    #[schema(value_type = doc::ExportFormat)]
    format: String,
    /// The list's filter parameters by the same names (see `GET /api/v1/contacts`).
    #[serde(default)]
    filters: BTreeMap<String, String>,
    /// A saved segment's filters instead of `filters`.
    segment: Option<String>,
}

/// A saved segment's filters, to export in place of given ones (the API and the dashboard).
pub(crate) async fn segment_filters(
    store: &store::Store,
    ws: &model::domain::WorkspaceId,
    raw_id: &str,
) -> Result<BTreeMap<String, String>, Problem> {
    let id = model::segment::segment_id(raw_id).map_err(|e| Problem::invalid_field("segment", e.0))?;
    Ok(store
        .get_segment(ws, &id)
        .await?
        .ok_or_else(|| Problem::invalid_field("segment", format!("there is no segment `{id}`")))?
        .filters)
}

/// Requests an export; the file is written in the background.
#[utoipa::path(
    post,
    path = "/api/v1/exports",
    tag = "exports",
    request_body = CreateBody,
    security(("api_key" = ["admin"])),
    responses(
        (status = 202, description = "Queued", body = ExportView, headers(("Location" = String))),
        (status = 429, description = "Too many exports running for this workspace", body = ProblemDetails, content_type = "application/problem+json", headers(("Retry-After" = String))),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let settings = ExportSettings::from(api)?;
    let body = request::json_body::<CreateBody>(&req)?;
    let ws = &caller.workspace.id;
    let now = Utc::now().with_timezone(&caller.workspace.time_zone);
    let format = ExportFormat::parse(&body.format)?;
    let given = match body.segment {
        Some(_) if !body.filters.is_empty() => {
            return Err(Problem::invalid_field("segment", "give either `segment` or `filters`, not both"))
        }
        Some(id) => segment_filters(&api.store, ws, &id).await?,
        None => body.filters,
    };
    let filters = ExportFilters::parse(ws, given, now)?;
    let request = settings.request(format, filters, &caller.key.name);
    let export = request_export(&api.store, &settings.queue, ws, request).await?;
    let mut response = json(202, &ExportView::from(&export));
    let location = format!("/api/v1/exports/{}", export.id);
    response.headers_mut().insert("location", location.parse().map_err(|_| Problem::internal())?);
    Ok(response)
}
