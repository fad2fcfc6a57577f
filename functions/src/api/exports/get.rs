//! `GET /api/v1/exports/{id}`: status and progress; when ready, a fresh download link.

use super::{export_id, ExportSettings, ExportView};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;

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
