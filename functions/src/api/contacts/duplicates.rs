//! `GET /api/v1/contacts/{id}/duplicates`: candidates with the reasons;
//! `DELETE /api/v1/contacts/{id}/duplicates/{other_id}`: not the same person.

use super::{contact_id, visible_contact};
use crate::api::openapi::schemas::{ContactPath, ProblemDetails};
use crate::api::views::ContactRow;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::{Body, Request, Response};
use model::auth::Scope;
use model::domain::ContactId;
use model::usecases::duplicates;
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

/// Dismisses a recorded pair of possible duplicates: the two are not the same person. The
/// pair leaves the review and both contacts' duplicates, and capture does not record it again.
#[utoipa::path(
    delete,
    path = "/api/v1/contacts/{id}/duplicates/{other_id}",
    tag = "duplicates",
    params(ContactPath, ("other_id" = u64, Path, minimum = 1, description = "The other contact of the pair")),
    security(("api_key" = ["write"])),
    responses(
        (status = 204, description = "Dismissed (also when it was already)"),
        (status = 400, description = "`other_id` is `{id}`, or not a contact id", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "No such visible contact, or the two are not a recorded pair", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn dismiss(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Write).await?;
    request::no_query(&req)?;
    let id = contact_id(&req)?;
    let other = request::path_param(&req, "other_id", str::parse::<ContactId>)?;
    duplicates::dismiss(&api.store, &caller.workspace.id, id, other).await?;
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}
