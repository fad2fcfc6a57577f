//! `GET /api/v1/contacts/{id}`.

use super::{contact_id, with_etag};
use crate::api::views::{etag, ContactDetail};
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let contact = super::visible_contact(api, &caller.workspace.id, id).await?;
    with_etag(json(200, &ContactDetail::from(&contact)), etag(&contact))
}
