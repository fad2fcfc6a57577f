//! The stylesheet and the one small script, compiled into the binary.

use super::PageResult;
use crate::http::request::path_param;
use crate::http::Problem;
use lambda_http::{Body, Request, Response};

pub const STYLE_PATH: &str = "/static/dashboard.css";
pub const SCRIPT_PATH: &str = "/static/dashboard.js";

const FILES: [(&str, &str, &str); 2] = [
    ("dashboard.css", "text/css; charset=utf-8", include_str!("static/dashboard.css")),
    ("dashboard.js", "text/javascript; charset=utf-8", include_str!("static/dashboard.js")),
];

pub fn serve(req: &Request) -> PageResult {
    let name = path_param(req, "file", |f: &str| Ok::<_, std::convert::Infallible>(f.to_string()))?;
    let (_, content_type, body) =
        FILES.iter().find(|(n, _, _)| *n == name).ok_or_else(|| Problem::not_found(format!("no file `{name}`")))?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", *content_type)
        .header("cache-control", "public, max-age=300")
        .header("x-content-type-options", "nosniff")
        .body(Body::Text(body.to_string()))
        .expect("valid response"))
}
