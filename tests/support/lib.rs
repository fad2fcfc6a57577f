//! Test harness: each test gets its own table on the emulator, its own workspace and
//! API keys, and the local server (routes from the SAM template) on a free port.

pub mod browser;
pub mod contract;
pub mod faults;
pub use contacts_tools::vendors;

use aws_lambda_events::event::dynamodb::EventRecord;
use contacts_functions::stream_counters;
use contacts_tools::stack::{self, Stack, StackOptions};
use contacts_tools::streams::{self, Mapping, Progress, Recorder, StreamHandler};
use contacts_tools::{bootstrap, local, provision, server, template};
use model::auth::{ApiKeyRecord, Scope};
use model::domain::WorkspaceId;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Debug;
use std::ops::AsyncFnMut;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};
use store::Store;

pub fn unique(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("randomness");
    format!("{prefix}-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// How long [`eventually`] waits before it fails the test. Generous, because a passing test
/// stops waiting as soon as the condition holds: the slowest wait is a poison message, received
/// five times a second apart before the queue moves it to its dead-letter queue, on a busy machine.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// How long [`eventually`] pauses between two looks.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Runs `probe` until `done` accepts what it returned, and returns that. The queue workers apply
/// their messages asynchronously, so a test waits for their effect instead of sleeping.
/// After [`DEADLINE`] the test fails, naming `what` it awaited and showing the last value seen.
pub async fn eventually<T: Debug>(what: &str, probe: impl AsyncFnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    eventually_within(DEADLINE, what, probe, done).await
}

/// [`eventually`] with its own deadline, for work that takes the emulator long (hundreds of events).
pub async fn eventually_within<T: Debug>(
    within: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        let seen = probe().await;
        if done(&seen) {
            return seen;
        }
        assert!(Instant::now() < deadline, "waited {within:?} for {what}; last seen: {seen:?}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// How many contacts a list page holds.
pub fn count(list: &Value) -> usize {
    list["contacts"].as_array().map_or(0, Vec::len)
}

/// Sends this test binary's logs, JSON lines at `TEST_LOG` (default: `debug` for the
/// project's crates, more than the deployed functions log, `warn` for the rest), to `target/test-logs/<binary>-<pid>.jsonl`, where
/// `scripts/scan-logs.py` looks for keys, secrets and personal data after `make test`.
fn log_to_file() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-logs");
        std::fs::create_dir_all(&dir).expect("target/test-logs");
        let binary = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "tests".into());
        let path = dir.join(format!("{binary}-{}.jsonl", std::process::id()));
        let file = std::fs::File::create(&path).expect("a log file");
        let filter = std::env::var("TEST_LOG").unwrap_or_else(|_| {
            "warn,model=debug,store=debug,contacts_functions=debug,contacts_tools=debug,contacts_tests=debug".into()
        });
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    });
}

/// The emulator the test script started.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: run the tests with `make test`, which starts the emulator")
}

/// A fresh table created from the template, on the emulator.
pub async fn fresh_store() -> Store {
    log_to_file();
    let sdk = local::aws_config(&endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let template = template::Template::load(&template::default_path()).expect("template loads");
    let table = unique("contacts-test");
    bootstrap::create_table(&client, &template.tables[0], &table).await.expect("table created");
    let kms_keys = bootstrap::create_kms_keys(&aws_sdk_kms::Client::new(&sdk), &template.kms_keys, &table)
        .await
        .expect("KMS key created");
    Store::new(client, table).sealing_secrets(stack::local_secrets(&sdk, &kms_keys[stack::SECRETS_KMS_KEY]))
}

pub async fn workspace(store: &Store) -> WorkspaceId {
    let ws = WorkspaceId::parse(&unique("ws")).expect("valid workspace id");
    let record = ApiKeyRecord { workspace_id: ws.clone(), name: "setup".into(), scopes: vec![Scope::Read] };
    provision::workspace_with_key(store, &stack::local_key_pepper(), "Test workspace", None, &record, None)
        .await
        .expect("workspace");
    ws
}

pub struct TestApp {
    pub base: String,
    /// The running stack: queues polled, jobs callable. Dropping it stops the workers.
    /// Shared with the other workspaces spawned on it ([`spawn_app_on`]).
    pub stack: Arc<Stack>,
    pub http: reqwest::Client,
    pub store: Store,
    pub workspace: WorkspaceId,
    /// read, write and admin.
    pub key: String,
    pub read_only_key: String,
}

/// Counts a bare store's changes as the deployed stream consumer does (for tests without
/// a stack), and returns once every change written so far is counted. One follower per
/// table, as one event source mapping per function: a second would count each change again.
pub async fn counted(store: &Store) {
    static FOLLOWED: LazyLock<tokio::sync::Mutex<HashMap<String, Progress>>> = LazyLock::new(Default::default);
    let mut followed = FOLLOWED.lock().await;
    if !followed.contains_key(store.table_name()) {
        let sdk = local::aws_config(&endpoint()).await;
        let counter = Arc::new(store.clone());
        let handler: StreamHandler = Arc::new(move |event| {
            let store = counter.clone();
            Box::pin(async move { stream_counters::handle(&store, event).await.map_err(|e| e.to_string()) })
        });
        let mapping = Mapping {
            from_latest: false,
            batch_size: 100,
            max_retries: 3,
            on_failure: None,
            retry_after: Duration::from_millis(100),
        };
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let (progress, _task) = streams::follow(&sdk, store.client(), sqs, store.table_name(), mapping, handler)
            .await
            .expect("the table has a stream");
        followed.insert(store.table_name().to_string(), progress);
    }
    let progress = followed[store.table_name()].clone();
    drop(followed);
    progress.settled().await;
}

/// The stream records of a store's table so far, as Lambda would hand them to a function.
pub async fn stream_records(store: &Store) -> Vec<EventRecord> {
    let sdk = local::aws_config(&endpoint()).await;
    let recorder =
        Recorder::start(&sdk, store.client(), store.table_name(), false).await.expect("the table has a stream");
    recorder.finish().await
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(HashMap::new()).await
}

/// The whole stack on a fresh table and queues, with environment overrides for its functions.
pub async fn spawn_app_with(overrides: HashMap<String, String>) -> TestApp {
    serve(start_stack(&endpoint(), overrides, true).await).await
}

/// The stack on a fresh table and queues, its AWS clients talking to `endpoint`.
async fn start_stack(endpoint: &str, overrides: HashMap<String, String>, expose_usage: bool) -> Arc<Stack> {
    log_to_file();
    let sdk = local::aws_config(endpoint).await;
    let template = template::Template::load(&template::default_path()).expect("template loads");
    let options = StackOptions {
        table: unique("contacts-test"),
        queue_prefix: unique("q"),
        expose_usage,
        overrides,
        retry_after: Duration::from_secs(1),
    };
    Arc::new(stack::start(&sdk, &template, options).await.expect("stack starts"))
}

/// The whole stack with its AWS clients behind a [`faults::FaultProxy`] (faults off until
/// the test turns them on); the test's own checks use [`clean_store`].
pub async fn spawn_app_with_faults(plan: faults::FaultPlan) -> (TestApp, faults::FaultProxy) {
    let proxy = faults::FaultProxy::start(&endpoint(), plan).await;
    (serve(start_stack(&proxy.endpoint, HashMap::new(), false).await).await, proxy)
}

/// The app's table, reached without the fault proxy.
pub async fn clean_store(app: &TestApp) -> Store {
    let sdk = local::aws_config(&endpoint()).await;
    Store::new(aws_sdk_dynamodb::Client::new(&sdk), app.store.table_name())
        .sealing_secrets(stack::local_secrets(&sdk, &app.stack.secrets_kms_key))
}

/// Another workspace on the same stack (table, queues, consumers) as `app`.
pub async fn spawn_app_on(app: &TestApp) -> TestApp {
    serve(app.stack.clone()).await
}

async fn serve(stack: Arc<Stack>) -> TestApp {
    let store = stack.store.clone();
    let workspace = WorkspaceId::parse(&unique("ws")).expect("valid workspace id");
    let admin =
        ApiKeyRecord { workspace_id: workspace.clone(), name: "test admin".into(), scopes: Scope::ALL.to_vec() };
    let key = provision::workspace_with_key(&store, &stack::local_key_pepper(), "Test workspace", None, &admin, None)
        .await
        .expect("key");
    let reader =
        ApiKeyRecord { workspace_id: workspace.clone(), name: "test reader".into(), scopes: vec![Scope::Read] };
    let read_only = provision::api_key(&store, &stack::local_key_pepper(), &reader, None).await.expect("read key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(server::serve(listener, stack.router.clone(), std::future::pending()));
    TestApp {
        base,
        stack,
        http: reqwest::Client::new(),
        store,
        workspace,
        key: key.expose_secret().to_string(),
        read_only_key: read_only.expose_secret().to_string(),
    }
}

/// Messages in a queue, from its approximate counts (exact on the emulator).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub waiting: u64,
    /// Received by a worker and not yet deleted.
    pub in_flight: u64,
    pub delayed: u64,
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    /// The body as sent, for checks of field order.
    pub raw: String,
}

impl Reply {
    async fn read(r: Response) -> Reply {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        };
        Reply { status, headers, body, raw: text }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// DynamoDB operations the request made, from the `Server-Timing` header.
    pub fn ddb_operations(&self) -> Vec<String> {
        let timing = self.header("server-timing").expect("server-timing header");
        let ops = timing.split("ops=").nth(1).and_then(|s| s.split(' ').next()).unwrap_or("");
        ops.split('+').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    /// Asserts an RFC 9457 problem with this status and returns it.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        &self.body
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request; an API response is held to the OpenAPI document (`contract`).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.request(method.clone(), self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.exchange(method, path, req).await
    }

    /// Sends a body as given (malformed JSON, another content type), with the full key.
    pub async fn send_raw(&self, method: Method, path: &str, content_type: &str, body: &str) -> Reply {
        let req = self
            .http
            .request(method.clone(), self.url(path))
            .bearer_auth(&self.key)
            .header("content-type", content_type)
            .body(body.to_string());
        self.exchange(method, path, req).await
    }

    async fn exchange(&self, method: Method, path: &str, req: reqwest::RequestBuilder) -> Reply {
        let reply = Reply::read(req.send().await.expect("request sent")).await;
        contract::check(method.as_str(), path, reply.status.as_u16(), reply.header("content-type"), &reply.raw);
        reply
    }

    /// A GET; one that reads what the stream consumer keeps (list and segment totals, tags,
    /// analytics, search words: searches and possible duplicates) waits until it has taken in
    /// every write before it.
    pub async fn get(&self, path: &str) -> Reply {
        let counted = ["/api/v1/contacts?", "/api/v1/tags", "/api/v1/analytics"];
        let segment_members = path.starts_with("/api/v1/segments/") && path.contains("/contacts");
        let derived = segment_members || path.ends_with("/duplicates");
        if path == "/api/v1/contacts" || derived || counted.iter().any(|p| path.starts_with(p)) {
            self.stack.settled().await;
        }
        self.send(Method::GET, path, Some(&self.key), None, &[]).await
    }

    pub async fn post_contact(&self, body: Value) -> Reply {
        self.send(Method::POST, "/api/v1/contacts", Some(&self.key), Some(body), &[]).await
    }

    /// Creates a contact and returns its id.
    pub async fn create(&self, body: Value) -> u64 {
        let r = self.post_contact(body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_u64().expect("id")
    }

    pub async fn list(&self, query: &str) -> Reply {
        self.get(&format!("/api/v1/contacts{}{query}", if query.is_empty() { "" } else { "?" })).await
    }

    pub async fn patch(&self, id: u64, body: Value, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::PATCH, &format!("/api/v1/contacts/{id}"), Some(&self.key), Some(body), headers).await
    }

    pub async fn delete(&self, id: u64, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::DELETE, &format!("/api/v1/contacts/{id}"), Some(&self.key), None, headers).await
    }

    /// Posts a website widget or live chat event, signed with `secret` as the widget does.
    pub async fn post_widget_event(&self, channel: &str, bot: &str, secret: &str, event: &Value) -> StatusCode {
        let body = serde_json::to_vec(event).expect("events serialize");
        let ts = chrono::Utc::now().timestamp();
        self.http
            .post(self.url(&format!("/webhooks/{channel}/{bot}")))
            .header("content-type", "application/json")
            .header("x-contacts-timestamp", ts.to_string())
            .header("x-contacts-signature", model::channels::widget::sign(secret, ts, &body))
            .body(body)
            .send()
            .await
            .expect("webhook sent")
            .status()
    }

    /// What a queue of the stack (by logical id, e.g. `CaptureQueue`) holds now.
    pub async fn queue_depth(&self, queue: &str) -> QueueDepth {
        use aws_sdk_sqs::types::QueueAttributeName as Name;
        let out = self
            .stack
            .sqs
            .get_queue_attributes()
            .queue_url(&self.stack.queue_urls[queue])
            .attribute_names(Name::All)
            .send()
            .await
            .expect("queue attributes");
        let attributes = out.attributes().expect("attributes");
        let number = |name: Name| attributes[&name].parse().expect("a count");
        QueueDepth {
            waiting: number(Name::ApproximateNumberOfMessages),
            in_flight: number(Name::ApproximateNumberOfMessagesNotVisible),
            delayed: number(Name::ApproximateNumberOfMessagesDelayed),
        }
    }

    /// Waits until a queue is empty with nothing in flight: its worker deletes a message only
    /// after handling it, so every message sent so far has then been applied (or dead-lettered).
    pub async fn drained(&self, queue: &str) {
        self.drained_within(DEADLINE, queue).await;
    }

    pub async fn drained_within(&self, within: Duration, queue: &str) {
        let what = format!("{queue} to drain");
        eventually_within(within, &what, async || self.queue_depth(queue).await, |d| *d == QueueDepth::default()).await;
    }

    /// Creates a bot (name, channels with their secrets, capture settings) and returns its id.
    pub async fn create_bot(&self, body: Value) -> String {
        let r = self.send(Method::POST, "/api/v1/bots", Some(&self.key), Some(body), &[]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("bot id").to_string()
    }

    /// Posts a Telegram update to a bot's webhook with the secret token Telegram sends.
    pub async fn post_telegram_update(&self, bot: &str, secret: &str, update: &Value) -> StatusCode {
        self.http
            .post(self.url(&format!("/webhooks/telegram/{bot}")))
            .header("x-telegram-bot-api-secret-token", secret)
            .json(update)
            .send()
            .await
            .expect("webhook sent")
            .status()
    }

    /// Ids of a list page, in order.
    pub async fn ids(&self, query: &str) -> Vec<u64> {
        let r = self.list(query).await;
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        r.body["contacts"].as_array().expect("contacts").iter().map(|c| c["id"].as_u64().expect("id")).collect()
    }
}
