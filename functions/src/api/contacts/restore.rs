//! `POST /api/v1/contacts/{id}/restore`: undoes a delete during its grace period.

use super::{contact_id, with_etag};
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let contact = api.store.restore_contact(&caller.workspace.id, id).await?;
    tracing::info!(workspace = %caller.workspace.id, contact = %id, key = %caller.key.name, "contact restored");
    with_etag(json(200, &ContactDetail::from(&contact)), etag(&contact))
}
