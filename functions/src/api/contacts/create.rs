//! `POST /api/v1/contacts`: a contact added by a person or an integration.

use super::body::CreateBody;
use super::with_etag;
use crate::api::openapi::schemas::ProblemDetails;
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::usecases::contacts;

/// Adds a contact.
#[utoipa::path(
    post,
    path = "/api/v1/contacts",
    tag = "contacts",
    request_body = CreateBody,
    security(("api_key" = ["write"])),
    responses(
        (status = 201, description = "Created", body = ContactDetail, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The email, phone or channel identity belongs to another contact (`field`, `contact_id`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let new = request::json_body::<CreateBody>(&req)?.into_new_contact(caller.workspace.default_region)?;
    let contact = contacts::create(&api.store, &caller.workspace, new).await?;
    tracing::info!(workspace = %caller.workspace.id, contact = %contact.id, key = %caller.log_name(), "contact created");
    let mut response = json(201, &ContactDetail::from(&contact));
    let location = format!("/api/v1/contacts/{}", contact.id);
    response.headers_mut().insert("location", location.parse().map_err(|_| Problem::internal())?);
    with_etag(response, etag(&contact))
}
