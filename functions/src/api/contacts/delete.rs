//! `DELETE /api/v1/contacts/{id}`: refused while a conversation is active; otherwise a soft
//! delete for the workspace's grace period (restorable), or at once when the period is 0.

use super::{contact_id, visible_contact};
use crate::api::Api;
use crate::http::{request, HttpResult, Problem};
use lambda_http::{Body, Request, Response};
use model::auth::Scope;

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let ws = &caller.workspace.id;
    let id = contact_id(&req)?;
    let expected_version = request::if_match(&req)?;
    let contact = visible_contact(api, ws, id).await?;
    let active = api.store.active_conversations(ws, &contact).await?;
    if !active.is_empty() {
        return Err(Problem::conflict(format!(
            "contact {id} has {} active conversation(s); close them first (POST /api/v1/conversations/{{id}}/close), then delete",
            active.len()
        ))
        .with("active_conversations", active));
    }
    let grace_days = caller.workspace.deletion_grace_days;
    if grace_days == 0 {
        // Hidden first under the If-Match condition, then purged.
        api.store.soft_delete_contact(ws, id, expected_version, chrono::Duration::zero()).await?;
        api.store.purge_contact(ws, id).await?;
    } else {
        api.store.soft_delete_contact(ws, id, expected_version, chrono::Duration::days(grace_days.into())).await?;
    }
    tracing::info!(workspace = %ws, contact = %id, grace_days, key = %caller.key.name, "contact deleted");
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}
