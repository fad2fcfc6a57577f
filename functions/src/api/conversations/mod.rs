//! `/api/v1/conversations`.

pub mod close;
pub mod messages;

use crate::http::Problem;
use lambda_http::{Request, RequestExt};

fn conversation_id(req: &Request) -> Result<String, Problem> {
    let id = req.path_parameters_ref().and_then(|p| p.first("id")).unwrap_or("").to_string();
    let valid = id.len() <= 40 && id.starts_with("cv") && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !valid {
        return Err(Problem::invalid_field("id", format!("`{id}` is not a conversation id")));
    }
    Ok(id)
}
