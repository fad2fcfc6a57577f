//! HTTP plumbing shared by the API routes: problems, authentication, request parsing.

pub mod auth;
pub mod problem;
pub mod request;
pub mod routes;

pub use problem::Problem;

use lambda_http::{Body, Response};

pub type HttpResult = Result<Response<Body>, Problem>;

/// A JSON response.
pub fn json<T: serde::Serialize>(status: u16, value: &T) -> Response<Body> {
    // Text, not binary: API Gateway would base64-encode a binary body.
    let body = serde_json::to_string(value).expect("response bodies serialize");
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body))
        .expect("status and header are valid")
}

/// The route key API Gateway matched (`GET /api/v1/contacts/{id}`).
pub fn route_key(req: &lambda_http::Request) -> Option<String> {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.route_key.clone(),
        _ => None,
    }
}
