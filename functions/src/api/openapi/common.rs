//! What every operation shares, added once instead of on each handler: the bearer
//! scheme, and the problems any authenticated route, or any route with a body, can answer.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, ObjectBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder, Type};
use utoipa::Modify;

/// The security scheme's name in the document.
pub const API_KEY: &str = "api_key";

/// The problems shared by operations: (status, name of the reusable response, description).
const SHARED: [(&str, &str, &str); 7] = [
    (
        "400",
        "BadRequest",
        "A parameter, path id, header or body member is invalid (`errors` names it), or the body is not JSON",
    ),
    ("401", "Unauthorized", "No `Authorization: Bearer <key>`, or the key is not valid"),
    ("403", "Forbidden", "The key lacks the scope this request needs"),
    ("413", "ContentTooLarge", "The body is over 64 KiB"),
    ("415", "UnsupportedMediaType", "The body is not sent as `application/json` or `application/merge-patch+json`"),
    ("500", "InternalServerError", "A storage failure a retry does not fix"),
    (
        "503",
        "ServiceUnavailable",
        "The database is busy or too many concurrent writes touch the same items; retry after `Retry-After` seconds",
    ),
];

pub struct Shared;

impl Modify for Shared {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let description =
            "A workspace API key: `Authorization: Bearer abc_…`. Each operation names the scope it needs \
            (`read`, `write` or `admin`); a key has one or more of them.";
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description)).build(),
            ),
        );
        for (status, name, description) in SHARED {
            components.responses.insert(name.to_string(), RefOr::T(problem_response(status, description)));
        }
        for item in doc.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete] {
                if let Some(operation) = operation.as_mut() {
                    add_shared(operation);
                }
            }
        }
    }
}

/// The problems an operation can answer besides its own: every route refuses bad
/// parameters; authenticated ones fail without a key and on storage errors; routes with a
/// body refuse oversized or non-JSON bodies. An operation's own description of a status wins.
/// The scope is also said in words, since renderers show scopes of OAuth flows only.
fn add_shared(operation: &mut Operation) {
    let scopes = required_scopes(operation);
    let authenticated = !scopes.is_empty();
    if authenticated {
        let needs = format!("Needs an API key with the `{}` scope.", scopes.join("`, `"));
        let description = operation.description.take().map_or(needs.clone(), |d| format!("{d}\n\n{needs}"));
        operation.description = Some(description);
    }
    let has_body = operation.request_body.is_some();
    for (status, name, _) in SHARED {
        let applies = match status {
            "400" => true,
            "413" | "415" => has_body,
            _ => authenticated,
        };
        if applies {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
        }
    }
}

/// The scopes the operation's security requirements name.
fn required_scopes(operation: &Operation) -> Vec<String> {
    let requirements = serde_json::to_value(&operation.security).unwrap_or_default();
    requirements
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.get(API_KEY).and_then(|s| s.as_array()))
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn problem_response(status: &str, description: &str) -> Response {
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", Content::new(Some(Ref::from_schema_name("Problem"))));
    let header = |text: &str| {
        HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::String)).description(Some(text)).build()
    };
    match status {
        "401" => response = response.header("WWW-Authenticate", header("`Bearer`")),
        "503" => response = response.header("Retry-After", header("Seconds to wait before retrying")),
        _ => {}
    }
    response.build()
}
