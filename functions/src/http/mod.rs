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

/// The address the request came from, as API Gateway saw it (`""` when unknown).
pub fn source_ip(req: &lambda_http::Request) -> String {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// The site's own origin as the caller reached it (`https://contacts.example.com`), for
/// links handed to people: API Gateway's domain and `X-Forwarded-Proto` (absent only on
/// the local server, which speaks plain HTTP).
pub fn origin(req: &lambda_http::Request) -> String {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    format!("{scheme}://{}", header("host").unwrap_or("localhost"))
}
