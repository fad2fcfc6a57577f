//! `DELETE /api/v1/contacts/{id}`.

use super::contact_id;
use crate::api::Api;
use crate::http::{request, HttpResult};
use contacts::auth::Scope;
use lambda_http::{Body, Request, Response};

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let expected_version = request::if_match(&req)?;
    api.store.delete_contact(&caller.workspace.id, id, expected_version).await?;
    tracing::info!(workspace = %caller.workspace.id, contact = %id, key = %caller.key.name, "contact deleted");
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}
