//! A local Lambda Runtime API (version 2018-06-01), enough to start a function binary as
//! Lambda does and watch it: the runtime asks for work with `GET /runtime/invocation/next`
//! and answers with `POST /runtime/invocation/{id}/response` or `.../error`, or reports a
//! failed start with `POST /runtime/init/error`
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>). Every request the
//! function makes is reported on a channel with the time it arrived, which is what the
//! cold-start bench measures.
//!
//! The same listener answers any other request as an AWS service would answer with
//! nothing to return (`{}` plus empty `Items`, `Responses`, …): pointed at it with
//! `AWS_ENDPOINT_URL`, a function cannot reach the network, and a job whose first step is a
//! DynamoDB call gets empty results instead of waiting for a connection.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};

const PREFIX: &str = "/2018-06-01/runtime/";

/// What the function did, in the order it happened.
#[derive(Debug, Clone)]
pub enum Observed {
    /// `GET /runtime/invocation/next` arrived: the runtime is ready for work.
    Next { at: Instant },
    /// An event was handed to the runtime in the answer to a `next`.
    Handed { request_id: String, at: Instant },
    /// `POST /runtime/invocation/{id}/response`.
    Response { request_id: String, at: Instant, body: Bytes },
    /// `POST /runtime/invocation/{id}/error`, with `Lambda-Runtime-Function-Error-Type`.
    Error { request_id: String, at: Instant, error_type: Option<String>, body: Bytes },
    /// `POST /runtime/init/error`: the function could not start.
    InitError { at: Instant, error_type: Option<String>, body: Bytes },
    /// A call to an AWS service (any path outside the Runtime API), with its `X-Amz-Target`.
    Aws { at: Instant, target: String },
}

/// The answer an AWS call gets: empty results in every shape the functions' first calls
/// read (Query, Scan, BatchGetItem, BatchWriteItem, SQS batches).
const EMPTY_AWS_ANSWER: &str = r#"{"Count":0,"ScannedCount":0,"Items":[],"Responses":{},"UnprocessedItems":{},"UnprocessedKeys":{},"Successful":[],"Failed":[]}"#;

struct Shared {
    events: Mutex<mpsc::UnboundedReceiver<(String, Bytes)>>,
    observed: mpsc::UnboundedSender<Observed>,
    function_arn: String,
    timeout: Duration,
}

/// A running Runtime API on 127.0.0.1. Dropping it stops the listener.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: mpsc::UnboundedSender<(String, Bytes)>,
    next_id: AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Listens on a free port; `function_arn` and `timeout` (the deadline handed with each
    /// event) are what Lambda would send. Returns the API and what it observes.
    pub async fn start(
        function_arn: &str,
        timeout: Duration,
    ) -> std::io::Result<(RuntimeApi, mpsc::UnboundedReceiver<Observed>)> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (events, queued) = mpsc::unbounded_channel();
        let (observed, watch) = mpsc::unbounded_channel();
        let shared =
            Arc::new(Shared { events: Mutex::new(queued), observed, function_arn: function_arn.to_string(), timeout });
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, std::convert::Infallible>(answer(&shared, req).await) }
                    });
                    // A connection ends when the function exits; nothing to report then.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok((RuntimeApi { addr, events, next_id: AtomicU64::new(1), server }, watch))
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// `http://host:port`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues an event for the next `next`; returns its request id.
    pub fn invoke(&self, event: impl Into<Bytes>) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("{:08x}-0000-4000-8000-{n:012x}", std::process::id());
        // The receiver lives as long as the server task, which lives as long as `self`.
        let _ = self.events.send((request_id.clone(), event.into()));
        request_id
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(body.into()))
        .expect("a response of fixed parts")
}

fn accepted() -> Response<Full<Bytes>> {
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn answer(shared: &Shared, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let error_type = header("lambda-runtime-function-error-type");
    let target = header("x-amz-target");
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return reply(StatusCode::BAD_REQUEST, r#"{"errorMessage":"unreadable body"}"#),
    };
    let Some(resource) = path.strip_prefix(PREFIX) else {
        let _ =
            shared.observed.send(Observed::Aws { at, target: target.unwrap_or_else(|| format!("{method} {path}")) });
        return Response::builder()
            .header("content-type", "application/x-amz-json-1.0")
            .body(Full::new(Bytes::from_static(EMPTY_AWS_ANSWER.as_bytes())))
            .expect("a response of fixed parts");
    };
    let parts: Vec<&str> = resource.split('/').collect();
    match (&method, parts.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => {
            let _ = shared.observed.send(Observed::Next { at });
            // Waits for an event as long as the function waits (Lambda freezes it meanwhile).
            let Some((request_id, event)) = shared.events.lock().await.recv().await else {
                return reply(StatusCode::INTERNAL_SERVER_ERROR, r#"{"errorMessage":"the runtime API stopped"}"#);
            };
            let deadline = now_ms() + shared.timeout.as_millis();
            let trace = format!("Root=1-{:08x}-{:0>24};Parent={:0>16};Sampled=0", now_ms() / 1000, "0", "0");
            let response = Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("lambda-runtime-aws-request-id", &request_id)
                .header("lambda-runtime-deadline-ms", deadline.to_string())
                .header("lambda-runtime-invoked-function-arn", &shared.function_arn)
                .header("lambda-runtime-trace-id", trace)
                .body(Full::new(event))
                .expect("a response of valid headers");
            let _ = shared.observed.send(Observed::Handed { request_id, at: Instant::now() });
            response
        }
        (&Method::POST, ["invocation", id, "response"]) => {
            let _ = shared.observed.send(Observed::Response { request_id: id.to_string(), at, body });
            accepted()
        }
        (&Method::POST, ["invocation", id, "error"]) => {
            let _ = shared.observed.send(Observed::Error { request_id: id.to_string(), at, error_type, body });
            accepted()
        }
        (&Method::POST, ["init", "error"]) => {
            let _ = shared.observed.send(Observed::InitError { at, error_type, body });
            accepted()
        }
        _ => reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"no such resource of the runtime API"}"#),
    }
}
