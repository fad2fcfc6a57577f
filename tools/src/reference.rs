//! The rendered API reference at `/api/docs`: a Redoc page (vendored in `docs/reference/`,
//! so it works offline) that reads the served `/api/v1/openapi.json`. Local only, like
//! `/_local/jobs`: the deployed API publishes the document, not the page.

use bytes::Bytes;
use http_body_util::Full;

const PAGE: &str = include_str!("../../docs/reference/index.html");
const SCRIPT: &str = include_str!("../../docs/reference/redoc.standalone.js");

/// The page or its script for `GET path`; `None` for any other request.
pub fn serve(method: &str, path: &str) -> Option<hyper::Response<Full<Bytes>>> {
    let (content_type, body) = match (method, path) {
        ("GET", "/api/docs" | "/api/docs/") => ("text/html; charset=utf-8", PAGE),
        ("GET", "/api/docs/redoc.standalone.js") => ("text/javascript; charset=utf-8", SCRIPT),
        _ => return None,
    };
    let response = hyper::Response::builder()
        .status(200)
        .header("content-type", content_type)
        .header("cache-control", "public, max-age=300")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("valid response");
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_the_vendored_script_and_the_served_document() {
        assert!(serve("GET", "/api/docs").is_some() && serve("GET", "/api/docs/redoc.standalone.js").is_some());
        assert!(PAGE.contains("/api/v1/openapi.json") && PAGE.contains("/api/docs/redoc.standalone.js"));
        assert!(serve("POST", "/api/docs").is_none() && serve("GET", "/api/docs/other.js").is_none());
    }
}
