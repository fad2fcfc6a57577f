//! `POST /api/v1/imports`: records an import and answers a presigned link to PUT its file to.

use super::{signing_failed, ImportSettings, ImportView};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use chrono::Utc;
use lambda_http::Request;
use model::auth::Scope;
use model::import::Import;

/// Creates an import and answers the link to upload its file to (`PUT`, at most 50 MB).
#[utoipa::path(
    post,
    path = "/api/v1/imports",
    tag = "imports",
    security(("api_key" = ["admin"])),
    responses((status = 201, description = "Created, with `upload_url`", body = ImportView, headers(("Location" = String)))),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let settings = ImportSettings::from(api)?;
    let import = Import::new(&caller.workspace.id, &caller.key.name, Utc::now());
    api.store.put_import(&caller.workspace.id, &import).await?;
    let url = settings.bucket.upload_url(&import.object_key, settings.link_expiry).await.map_err(signing_failed)?;
    tracing::info!(workspace = %caller.workspace.id, import = %import.id, key = %caller.key.name, "import created");
    let mut view = ImportView::from(&import);
    view.upload_url = Some(url);
    view.link_expires_at = Some(ImportView::link_expiry(settings));
    let mut response = json(201, &view);
    let location = format!("/api/v1/imports/{}", import.id);
    response.headers_mut().insert("location", location.parse().map_err(|_| Problem::internal())?);
    Ok(response)
}
