//! `GET /api/v1/contacts/{id}`.

use super::{contact_id, with_etag};
use crate::api::integrations::sync_views;
use crate::api::openapi::schemas::{ContactPath, ProblemDetails};
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;

/// One contact in full.
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}",
    tag = "contacts",
    params(ContactPath),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The contact", body = ContactDetail, headers(("ETag" = String))),
        (status = 404, description = "No such contact; a deleted one says until when it can be restored, a merged one where it went", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let contact = super::visible_contact(api, &caller.workspace.id, id).await?;
    let detail = ContactDetail {
        sync: Some(sync_views(api.store.contact_integrations(&caller.workspace.id, contact.id).await?)),
        ..ContactDetail::from(&contact)
    };
    with_etag(json(200, &detail), etag(&contact))
}
