//! `GET /api/v1/contacts/{id}/duplicates`: candidates with the reasons.

use super::{contact_id, visible_contact};
use crate::api::openapi::schemas::{ContactPath, ProblemDetails};
use crate::api::views::ContactRow;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use serde::Serialize;
use utoipa::ToSchema;

/// A possible duplicate: its row, and why it may be the same person.
#[derive(Serialize, ToSchema)]
#[schema(as = Duplicate)]
struct Duplicate<'a> {
    #[serde(flatten)]
    row: ContactRow,
    #[schema(value_type = Vec<String>, example = json!(["same email"]))]
    reasons: &'a [String],
}

#[derive(Serialize, ToSchema)]
#[schema(as = DuplicateList)]
struct DuplicateList<'a> {
    duplicates: Vec<Duplicate<'a>>,
}

#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/duplicates",
    tag = "duplicates",
    params(ContactPath),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "Possible duplicates", body = DuplicateList), (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let contact = visible_contact(api, &caller.workspace.id, id).await?;
    let found = api.store.find_duplicates(&caller.workspace.id, &contact).await?;
    let duplicates = found.iter().map(|(c, reasons)| Duplicate { row: ContactRow::from(c), reasons }).collect();
    Ok(json(200, &DuplicateList { duplicates }))
}
