//! `/api/v1/contacts`: one module per verb.

pub mod conversations;
pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod update;

mod body;

use crate::http::{request, HttpResult, Problem};
use contacts::domain::ContactId;
use lambda_http::Request;

fn contact_id(req: &Request) -> Result<ContactId, Problem> {
    request::path_param(req, "id", str::parse::<ContactId>)
}

fn with_etag(mut response: lambda_http::Response<lambda_http::Body>, etag: String) -> HttpResult {
    response.headers_mut().insert("etag", etag.parse().map_err(|_| Problem::internal())?);
    Ok(response)
}
