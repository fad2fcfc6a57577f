//! `PATCH /api/v1/contacts/{id}`: edits by a person; `If-Match` guards against lost updates.

use super::body::PatchBody;
use super::{contact_id, with_etag};
use crate::api::openapi::schemas::{ContactPath, IfMatch, ProblemDetails};
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::usecases::contacts;

/// Edits a contact (a merge patch: `null` clears a member).
#[utoipa::path(
    patch,
    path = "/api/v1/contacts/{id}",
    tag = "contacts",
    params(ContactPath, IfMatch),
    request_body = PatchBody,
    security(("api_key" = ["write"])),
    responses(
        (status = 200, description = "The edited contact", body = ContactDetail, headers(("ETag" = String))),
        (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "The email, phone or channel identity belongs to another contact", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`current_version`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let expected_version = request::if_match(&req)?;
    let patch = request::json_body::<PatchBody>(&req)?.into_patch(caller.workspace.default_region)?;
    let contact = contacts::edit(&api.store, &caller.workspace, id, patch, expected_version).await?;
    tracing::info!(workspace = %caller.workspace.id, contact = %id, version = contact.version, key = %caller.log_name(), "contact edited");
    with_etag(json(200, &ContactDetail::from(&contact)), etag(&contact))
}
