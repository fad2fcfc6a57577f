//! `DELETE /api/v1/contacts/{id}`: refused while a conversation is active; otherwise a soft
//! delete for the workspace's grace period (restorable), or at once when the period is 0.

use super::{contact_id, visible_contact};
use crate::api::openapi::schemas::{ContactPath, IfMatch, ProblemDetails};
use crate::api::Api;
use crate::http::{request, HttpResult};
use lambda_http::{Body, Request, Response};
use model::auth::Scope;
use model::usecases::contacts;

/// Deletes a contact: restorable during the workspace's grace period.
#[utoipa::path(
    delete,
    path = "/api/v1/contacts/{id}",
    tag = "contacts",
    params(ContactPath, IfMatch),
    security(("api_key" = ["write"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "The contact has active conversations (`active_conversations`)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`current_version`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let ws = &caller.workspace.id;
    let id = contact_id(&req)?;
    let expected_version = request::if_match(&req)?;
    visible_contact(api, ws, id).await?;
    let grace_days = caller.workspace.deletion_grace_days;
    let stop_at = chrono::Utc::now() + super::PURGE_IN_REQUEST;
    contacts::delete(&api.store, &caller.workspace, id, expected_version, stop_at).await?;
    tracing::info!(workspace = %ws, contact = %id, grace_days, key = %caller.log_name(), "contact deleted");
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}
