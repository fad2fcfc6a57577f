//! The local HTTP server: serves every route of the template by turning each request
//! into the API Gateway (HTTP API, payload 2.0) event the Lambda would receive, and
//! calling the same handler code in process.

use crate::function::{HttpHandler, JobHandler};
use crate::template::{Route, Template};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::{Body, Response};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Lambda's synchronous invocation payload limit.
const MAX_EVENT_BODY: usize = 6 * 1024 * 1024;

/// A template route whose function has no local handler: the local stack must serve every route.
#[derive(Debug, thiserror::Error)]
#[error("{function} ({binary}) has no local handler for {route}")]
pub struct MissingHandler {
    pub function: String,
    pub binary: String,
    pub route: String,
}

/// Routes from the template, each bound to its function's handler.
pub struct Router {
    routes: Vec<(Route, HttpHandler)>,
    /// Scheduled jobs by binary name, run at once by `POST /_local/jobs/{name}` (local only).
    jobs: HashMap<String, JobHandler>,
}

impl Router {
    /// Binds every template route to the handler registered for its function's binary.
    /// A route without a handler is an error: the local stack must serve all of them.
    pub fn from_template(template: &Template, handlers: &HashMap<String, HttpHandler>) -> Result<Self, MissingHandler> {
        let mut routes = Vec::new();
        for (function, route) in template.routes() {
            let handler = handlers.get(&function.binary).ok_or_else(|| MissingHandler {
                function: function.logical_id.clone(),
                binary: function.binary.clone(),
                route: route.key(),
            })?;
            routes.push((route.clone(), handler.clone()));
        }
        Ok(Router { routes, jobs: HashMap::new() })
    }

    pub fn with_jobs(mut self, jobs: HashMap<String, JobHandler>) -> Self {
        self.jobs = jobs;
        self
    }

    pub fn route_keys(&self) -> Vec<String> {
        self.routes.iter().map(|(r, _)| r.key()).collect()
    }

    /// The route for a method and path, with its path parameters; or the methods the path allows.
    fn find(&self, method: &str, path: &str) -> Result<Matched<'_>, Vec<String>> {
        // Like API Gateway, the most specific route wins: the one with the fewest parameters.
        let mut allowed = Vec::new();
        let mut best: Option<Matched<'_>> = None;
        for (route, handler) in &self.routes {
            if let Some(params) = match_path(&route.path, path) {
                if route.method != method && route.method != "ANY" {
                    allowed.push(route.method.clone());
                } else if best.as_ref().is_none_or(|(_, _, p)| params.len() < p.len()) {
                    best = Some((route, handler, params));
                }
            }
        }
        best.ok_or(allowed)
    }
}

/// A matched route, its handler and its path parameters.
type Matched<'a> = (&'a Route, &'a HttpHandler, HashMap<String, String>);

/// Matches `/api/v1/contacts/{id}` against a concrete path; `{name+}` takes the rest.
fn match_path(template: &str, path: &str) -> Option<HashMap<String, String>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut params = HashMap::new();
    for (i, seg) in t.iter().enumerate() {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if let Some(greedy) = name.strip_suffix('+') {
                let rest = p.get(i..)?.join("/");
                params.insert(greedy.to_string(), percent_decode(&rest));
                return Some(params);
            }
            let value = p.get(i).filter(|v| !v.is_empty())?;
            params.insert(name.to_string(), percent_decode(value));
        } else if p.get(i) != Some(seg) {
            return None;
        }
    }
    (t.len() == p.len()).then_some(params)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves until `shutdown` resolves.
pub async fn serve(listener: TcpListener, router: Arc<Router>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
            },
            () = &mut shutdown => return,
        };
        let router = router.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let router = router.clone();
                async move { Ok::<_, std::convert::Infallible>(respond(&router, req, peer).await) }
            });
            if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(error = %e, "connection closed");
            }
        });
    }
}

async fn respond(
    router: &Router,
    req: hyper::Request<hyper::body::Incoming>,
    peer: SocketAddr,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    if let Some(name) = path.strip_prefix("/_local/jobs/") {
        return run_job(router, &method, name).await;
    }
    if let Some(page) = crate::reference::serve(&method, &path) {
        return page;
    }
    let (route, handler, params) = match router.find(&method, &path) {
        Ok(found) => found,
        Err(allowed) if allowed.is_empty() => {
            return problem(404, "Not Found", &format!("no route for {method} {path}"), None)
        }
        Err(allowed) => {
            let detail = format!("{path} allows {}", allowed.join(", "));
            return problem(405, "Method Not Allowed", &detail, Some(allowed.join(", ")));
        }
    };
    let body = match Limited::new(body, MAX_EVENT_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return problem(
                413,
                "Content Too Large",
                "request bodies are limited to 6 MiB (Lambda's payload limit)",
                None,
            )
        }
    };
    let event = api_gateway_event(&parts, route, &params, &body, peer);
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(e) => {
            return problem(
                400,
                "Bad Request",
                &format!("the request cannot be represented as an API Gateway event: {e}"),
                None,
            )
        }
    };
    into_hyper(handler(request).await)
}

/// Runs a scheduled job now (the local stand-in for invoking its Lambda by hand).
async fn run_job(router: &Router, method: &str, name: &str) -> hyper::Response<Full<Bytes>> {
    if method != "POST" {
        return problem(405, "Method Not Allowed", "run a job with POST", Some("POST".into()));
    }
    let Some(job) = router.jobs.get(name) else {
        let known: Vec<&str> = router.jobs.keys().map(String::as_str).collect();
        return problem(404, "Not Found", &format!("no scheduled job `{name}`; jobs: {}", known.join(", ")), None);
    };
    match job().await {
        Ok(summary) => {
            let body = serde_json::json!({"job": name, "result": summary}).to_string();
            hyper::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .expect("valid response")
        }
        Err(e) => problem(500, "Internal Server Error", &format!("job `{name}` failed: {e}"), None),
    }
}

/// The HTTP API payload 2.0 event API Gateway would send for this request.
fn api_gateway_event(
    parts: &http::request::Parts,
    route: &Route,
    params: &HashMap<String, String>,
    body: &Bytes,
    peer: SocketAddr,
) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_string()));
            continue;
        }
        let entry =
            headers.entry(name.as_str().to_string()).or_insert_with(|| serde_json::Value::String(String::new()));
        let joined = match entry.as_str() {
            Some("") | None => value,
            Some(prev) => format!("{prev},{value}"),
        };
        *entry = serde_json::Value::String(joined);
    }
    let (body_text, is_base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let now = chrono::Utc::now();
    let mut request_id = [0u8; 8];
    getrandom::fill(&mut request_id).ok();
    let request_id = model::hex::encode(&request_id);
    let user_agent = parts.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": route.key(),
        "rawPath": parts.uri.path(),
        "rawQueryString": parts.uri.query().unwrap_or(""),
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": parts.headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": route.key(),
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": is_base64,
    });
    if !params.is_empty() {
        event["pathParameters"] = serde_json::to_value(params).expect("params serialize");
    }
    if !cookies.is_empty() {
        event["cookies"] = serde_json::to_value(cookies).expect("cookies serialize");
    }
    if !body.is_empty() {
        event["body"] = serde_json::Value::String(body_text);
    }
    event
}

fn into_hyper(response: Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

fn problem(status: u16, title: &str, detail: &str, allow: Option<String>) -> hyper::Response<Full<Bytes>> {
    let body = serde_json::json!({"type": "about:blank", "title": title, "status": status, "detail": detail});
    let mut builder = hyper::Response::builder().status(status).header("content-type", "application/problem+json");
    if let Some(allow) = allow {
        builder = builder.header("allow", allow);
    }
    builder.body(Full::new(Bytes::from(body.to_string()))).expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_parameters_and_literal_segments() {
        let p = match_path("/api/v1/contacts/{id}", "/api/v1/contacts/42").unwrap();
        assert_eq!(p["id"], "42");
        assert!(match_path("/api/v1/contacts/{id}", "/api/v1/contacts").is_none());
        assert!(match_path("/api/v1/contacts/{id}", "/api/v1/contacts/42/notes").is_none());
        assert!(match_path("/api/v1/contacts", "/api/v1/contacts/").is_some());
        assert_eq!(match_path("/files/{path+}", "/files/a/b%20c").unwrap()["path"], "a/b c");
    }
}
