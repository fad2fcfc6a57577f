//! `GET /api/v1/exports/{id}`: status and progress; when ready, a fresh download link.

use super::{export_id, ExportSettings, ExportView};
use crate::api::openapi::schemas::ProblemDetails;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;

#[utoipa::path(
    get,
    path = "/api/v1/exports/{id}",
    tag = "exports",
    params(("id" = String, Path, pattern = "^ex[0-9a-f]{21}$")),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The export; when ready, with a download link", body = ExportView), (status = 404, description = "No such export", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let settings = ExportSettings::from(api)?;
    let id = export_id(&req)?;
    let export = api
        .store
        .get_export(&caller.workspace.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no export {id} in this workspace")))?;
    let view = ExportView::from(&export).with_link(&export, settings).await?;
    Ok(json(200, &view))
}
