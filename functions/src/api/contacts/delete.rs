//! `DELETE /api/v1/contacts/{id}`: refused while a conversation is active; otherwise a soft
//! delete for the workspace's grace period (restorable), or at once when the period is 0.

use super::{contact_id, visible_contact};
use crate::api::Api;
use crate::http::{request, HttpResult};
use lambda_http::{Body, Request, Response};
use model::auth::Scope;
use model::usecases::contacts;

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let ws = &caller.workspace.id;
    let id = contact_id(&req)?;
    let expected_version = request::if_match(&req)?;
    visible_contact(api, ws, id).await?;
    let grace_days = caller.workspace.deletion_grace_days;
    contacts::delete(&api.store, &caller.workspace, id, expected_version).await?;
    tracing::info!(workspace = %ws, contact = %id, grace_days, key = %caller.key.name, "contact deleted");
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}
