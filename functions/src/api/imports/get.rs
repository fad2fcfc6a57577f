//! `GET /api/v1/imports/{id}`: settings, counts and status; with failed rows, a fresh link
//! to their report.

use super::{import_id, ImportSettings, ImportView};
use crate::api::openapi::schemas::ProblemDetails;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;

#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    tag = "imports",
    params(("id" = String, Path, pattern = "^im[0-9a-f]{21}$")),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The import; with failed rows, a link to their report", body = ImportView), (status = 404, description = "No such import", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let settings = ImportSettings::from(api)?;
    let id = import_id(&req)?;
    let import = api
        .store
        .get_import(&caller.workspace.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no import {id} in this workspace")))?;
    let view = ImportView::from(&import).with_report(&import, settings).await?;
    Ok(json(200, &view))
}
