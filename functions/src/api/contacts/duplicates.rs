//! `GET /api/v1/contacts/{id}/duplicates`: candidates with the reasons.

use super::{contact_id, visible_contact};
use crate::api::views::ContactRow;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let contact = visible_contact(api, &caller.workspace.id, id).await?;
    let found = api.store.find_duplicates(&caller.workspace.id, &contact).await?;
    let rows: Vec<_> = found
        .iter()
        .map(|(c, reasons)| {
            let mut row = serde_json::to_value(ContactRow::from(c)).expect("rows serialize");
            row["reasons"] = serde_json::json!(reasons);
            row
        })
        .collect();
    Ok(json(200, &serde_json::json!({"duplicates": rows})))
}
