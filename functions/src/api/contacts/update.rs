//! `PATCH /api/v1/contacts/{id}`: edits by a person; `If-Match` guards against lost updates.

use super::body::PatchBody;
use super::{contact_id, with_etag};
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::usecases::contacts;

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let expected_version = request::if_match(&req)?;
    let patch = request::json_body::<PatchBody>(&req)?.into_patch(caller.workspace.default_region)?;
    let contact = contacts::edit(&api.store, &caller.workspace, id, patch, expected_version).await?;
    tracing::info!(workspace = %caller.workspace.id, contact = %id, version = contact.version, key = %caller.key.name, "contact edited");
    with_etag(json(200, &ContactDetail::from(&contact)), etag(&contact))
}
