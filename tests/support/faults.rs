//! A fault-injecting proxy in front of the emulator. The stack's AWS clients talk to it, and
//! it fails a chosen share of DynamoDB, SQS and S3 calls the way AWS does: throttling
//! (`ThrottlingException`, `ProvisionedThroughputExceededException`, S3 `SlowDown`), `500`s,
//! transactions cancelled for a `TransactionConflict`, connections dropped before the call
//! reaches the service, and answers lost after it ran; and it delays another share. Only
//! the product's own calls get faults: DynamoDB Streams reads and SQS receives, deletes and
//! visibility changes pass untouched, because the local stream follower and queue pollers
//! stand in for Lambda's event source mappings, which are AWS's, not ours.
//!
//! DynamoDB answers a `TransactWriteItems` sent again with the same `ClientRequestToken`
//! (within 10 minutes) as it answered the first; moto does not. So for the transactions
//! whose answer the proxy lost, it keeps the answer and gives it to the resend, as DynamoDB
//! would.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to a call it picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// DynamoDB `ThrottlingException`, SQS `ThrottlingException`, S3 `503 SlowDown`.
    Throttling,
    /// DynamoDB `ProvisionedThroughputExceededException` (other services: throttling).
    ThroughputExceeded,
    /// A `500` from the service.
    ServerError,
    /// A DynamoDB transaction cancelled for a conflict with another one (other calls: `500`).
    TransactionConflict,
    /// The connection closes before the call reaches the service.
    Dropped,
    /// The call runs, and its answer is lost on the way back.
    LostAnswer,
}

pub const EVERY_FAULT: [Fault; 6] = [
    Fault::Throttling,
    Fault::ThroughputExceeded,
    Fault::ServerError,
    Fault::TransactionConflict,
    Fault::Dropped,
    Fault::LostAnswer,
];

/// Which calls fail and how: `share` of the calls get one of `faults` (picked at random),
/// and as many again are delayed by up to `latency`. With `operations`, only the calls of
/// those operations (the `X-Amz-Target`'s action, e.g. `BatchWriteItem`) are touched.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    pub share: f64,
    pub faults: Vec<Fault>,
    pub latency: Duration,
    pub operations: Option<Vec<&'static str>>,
}

impl FaultPlan {
    /// Every kind of fault on `share` of the calls, and up to 200 ms of latency on as many.
    pub fn all(share: f64) -> Self {
        FaultPlan { share, faults: EVERY_FAULT.to_vec(), latency: Duration::from_millis(200), operations: None }
    }

    /// `fault` on every call of one operation, the others untouched.
    pub fn every(operation: &'static str, fault: Fault) -> Self {
        FaultPlan { share: 1.0, faults: vec![fault], latency: Duration::ZERO, operations: Some(vec![operation]) }
    }

    fn touches(&self, target: &str) -> bool {
        let action = target.split_once('.').map_or("", |(_, action)| action);
        self.operations.as_ref().is_none_or(|ops| ops.contains(&action))
    }
}

/// The running proxy: its endpoint, a switch, and what it injected.
pub struct FaultProxy {
    pub endpoint: String,
    state: Arc<State>,
}

struct State {
    upstream: String,
    plan: FaultPlan,
    /// The share in millionths, 0 while off.
    share: AtomicU64,
    injected: AtomicU64,
    calls: AtomicU64,
    http: reqwest::Client,
    /// Answers lost on the way back, by the transaction's `ClientRequestToken`.
    lost: Mutex<HashMap<String, Answer>>,
}

/// A response as it came from the emulator.
#[derive(Clone)]
struct Answer {
    status: http::StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Answer {
    fn response(&self) -> Response<Full<Bytes>> {
        let mut response = Response::builder().status(self.status);
        for (name, value) in &self.headers {
            if name != http::header::TRANSFER_ENCODING && name != http::header::CONTENT_LENGTH {
                response = response.header(name, value);
            }
        }
        response.body(Full::new(self.body.clone())).expect("a response")
    }
}

impl FaultProxy {
    /// Starts the proxy on a free loopback port, forwarding to `upstream`; faults start off.
    pub async fn start(upstream: &str, plan: FaultPlan) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            plan,
            share: AtomicU64::new(0),
            injected: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            http: reqwest::Client::builder().pool_max_idle_per_host(32).build().expect("client"),
            lost: Mutex::new(HashMap::new()),
        });
        let served = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = served.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let state = state.clone();
                        async move { state.handle(request).await }
                    });
                    // A dropped connection ends here with an error: that is the point.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        FaultProxy { endpoint, state }
    }

    /// Starts injecting the plan's faults.
    pub fn on(&self) {
        self.state.share.store((self.state.plan.share * 1e6) as u64, Ordering::SeqCst);
    }

    /// Stops injecting: every call passes.
    pub fn off(&self) {
        self.state.share.store(0, Ordering::SeqCst);
    }

    /// How many calls went through, and how many of them got a fault.
    pub fn counts(&self) -> (u64, u64) {
        (self.state.calls.load(Ordering::SeqCst), self.state.injected.load(Ordering::SeqCst))
    }
}

/// Why the proxy closed a connection without an answer.
#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Closed {}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Service {
    DynamoDb,
    /// What Lambda's event source mappings do: read streams, receive and delete messages.
    Mapping,
    /// KMS: unwrapping data keys, once per function instance; not faulted.
    Kms,
    Sqs,
    S3,
}

impl State {
    async fn handle(&self, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Closed> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map_err(|_| Closed)?.to_bytes();
        let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
        let service = match target.split_once('.') {
            Some(("DynamoDB_20120810", _)) => Service::DynamoDb,
            Some(("AmazonSQS", "SendMessage" | "SendMessageBatch")) => Service::Sqs,
            Some(("DynamoDBStreams_20120810" | "AmazonSQS", _)) => Service::Mapping,
            Some(("TrentService", _)) => Service::Kms,
            _ => Service::S3,
        };
        self.calls.fetch_add(1, Ordering::SeqCst);
        let token = (service == Service::DynamoDb && target.ends_with(".TransactWriteItems"))
            .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
            .flatten()
            .and_then(|b| b["ClientRequestToken"].as_str().map(str::to_string));
        if let Some(answer) = token.as_ref().and_then(|t| self.lost.lock().expect("lost answers").get(t).cloned()) {
            return Ok(answer.response());
        }
        let share = self.share.load(Ordering::SeqCst) as f64 / 1e6;
        if !matches!(service, Service::Mapping | Service::Kms) && share > 0.0 && self.plan.touches(target) {
            if chance(share) {
                tokio::time::sleep(self.plan.latency.mul_f64(random())).await;
            }
            if chance(share) {
                let fault = self.plan.faults[(random() * self.plan.faults.len() as f64) as usize];
                self.injected.fetch_add(1, Ordering::SeqCst);
                match fault {
                    Fault::Dropped => return Err(Closed),
                    Fault::LostAnswer => {
                        let answer = self.forward(&parts, body).await?;
                        if let Some(token) = token {
                            self.lost.lock().expect("lost answers").insert(token, answer);
                        }
                        return Err(Closed);
                    }
                    other => return Ok(answer(service, other, target, &body)),
                }
            }
        }
        Ok(self.forward(&parts, body).await?.response())
    }

    async fn forward(&self, parts: &http::request::Parts, body: Bytes) -> Result<Answer, Closed> {
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = self.http.request(parts.method.clone(), format!("{}{path}", self.upstream)).body(body);
        for (name, value) in &parts.headers {
            if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
                request = request.header(name, value);
            }
        }
        let answer = request.send().await.map_err(|_| Closed)?;
        let (status, headers) = (answer.status(), answer.headers().clone());
        let body = answer.bytes().await.map_err(|_| Closed)?;
        Ok(Answer { status, headers, body })
    }
}

/// The service's own answer for a fault, as AWS words it.
fn answer(service: Service, fault: Fault, target: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let (status, content_type, text) = match (service, fault) {
        (Service::DynamoDb, Fault::Throttling) => {
            (400, "application/x-amz-json-1.0", dynamo_error("ThrottlingException", "Rate of requests exceeds the allowed throughput."))
        }
        (Service::DynamoDb, Fault::ThroughputExceeded) => (
            400,
            "application/x-amz-json-1.0",
            dynamo_error(
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
            ),
        ),
        (Service::DynamoDb, Fault::TransactionConflict) if target.ends_with(".TransactWriteItems") => {
            (400, "application/x-amz-json-1.0", conflict(body))
        }
        (Service::DynamoDb, _) => {
            (500, "application/x-amz-json-1.0", dynamo_error("InternalServerError", "Internal server error"))
        }
        (Service::Sqs, Fault::Throttling | Fault::ThroughputExceeded) => (
            400,
            "application/x-amz-json-1.0",
            serde_json::json!({"__type": "com.amazonaws.sqs#ThrottlingException", "message": "Rate exceeded"})
                .to_string(),
        ),
        (Service::Sqs, _) => (
            500,
            "application/x-amz-json-1.0",
            serde_json::json!({"__type": "com.amazonaws.sqs#InternalError", "message": "We encountered an internal error."})
                .to_string(),
        ),
        (_, Fault::Throttling | Fault::ThroughputExceeded) => (503, "application/xml", s3_error("SlowDown", "Please reduce your request rate.")),
        _ => (500, "application/xml", s3_error("InternalError", "We encountered an internal error. Please try again.")),
    };
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .header("x-amzn-requestid", "fault-proxy")
        .body(Full::new(Bytes::from(text)))
        .expect("a response")
}

fn dynamo_error(code: &str, message: &str) -> String {
    serde_json::json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": message}).to_string()
}

/// A transaction cancelled because another one held its first item.
fn conflict(body: &[u8]) -> String {
    let items = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|b| b["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(1)
        .max(1);
    let mut reasons = vec![serde_json::json!({"Code": "None"}); items];
    reasons[0] = serde_json::json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"});
    let codes: Vec<&str> = (0..items).map(|i| if i == 0 { "TransactionConflict" } else { "None" }).collect();
    serde_json::json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")),
        "CancellationReasons": reasons,
    })
    .to_string()
}

fn s3_error(code: &str, message: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>")
}

/// A uniform number in [0, 1).
fn random() -> f64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness");
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

fn chance(share: f64) -> bool {
    random() < share
}
