//! `POST /api/v1/contacts/{id}/restore`: undoes a delete during its grace period.

use super::{contact_id, with_etag};
use crate::api::openapi::schemas::{ContactPath, ProblemDetails};
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;

/// Brings back a deleted contact during its grace period.
#[utoipa::path(
    post,
    path = "/api/v1/contacts/{id}/restore",
    tag = "contacts",
    params(ContactPath),
    security(("api_key" = ["write"])),
    responses(
        (status = 200, description = "The restored contact", body = ContactDetail, headers(("ETag" = String))),
        (status = 404, description = "No deleted contact to restore", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "Its email, phone or channel identity now belongs to another contact", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let contact = api.store.restore_contact(&caller.workspace.id, id).await?;
    tracing::info!(workspace = %caller.workspace.id, contact = %id, key = %caller.log_name(), "contact restored");
    with_etag(json(200, &ContactDetail::from(&contact)), etag(&contact))
}
