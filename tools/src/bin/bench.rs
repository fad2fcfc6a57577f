//! `make bench`: what each operation costs in DynamoDB calls, write requests and capacity
//! units at 1k, 10k (and 100k) contacts, how long loading takes and how much memory the
//! emulator holds, and a naive Scan-based listing beside ours; then, without the emulator,
//! the CPU a webhook call and a capture decision take, and the memory and speed of
//! writing exports. Prints the tables and writes bench/results.json; docs/benchmarks.md
//! explains each figure.
//!
//! Every size runs on a fresh emulator (moto) started here, so the Scan baseline reads
//! only that size's workspace and the emulator's memory is that size's.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_sdk_sqs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sqs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sqs::error::BoxError;
use chrono::Datelike;
use chrono::{Duration, Utc};
use contacts_functions::bot_cache::BotCache;
use contacts_functions::capture_queue::{batch_entries, CaptureQueue};
use contacts_functions::config::TimeBudget;
use contacts_functions::crm_sync::fanout::{self, Fanout};
use contacts_functions::crm_sync::message::SyncQueue;
use contacts_functions::webhooks::{self, accept, Webhooks};
use contacts_functions::{contact_purger, retention_job, stream_counters};
use contacts_tools::coldstart::{self, ARM64, X86_64};
use contacts_tools::export_bench::{self, BenchWorker};
use contacts_tools::figures::{git_commit, proc_kb, replace_between, rss_kb};
use contacts_tools::import_bench;
use contacts_tools::streams::Recorder;
use contacts_tools::{bootstrap, demo, local, stack, template};
use lambda_http::http::{HeaderMap, HeaderName};
use model::bot::{Bot, BotId, ChannelSettings, MetaSettings, Secret, TelegramSettings, WidgetSettings};
use model::channels::{self, CaptureEvent, CaptureKind, MessageRole, ProfileHints};
use model::contact::{Change, Contact, ContactPatch};
use model::domain::{Channel, ContactId, Name, WorkspaceId};
use model::export::ExportFormat;
use model::listing::ListRequest;
use model::retention::{RetentionAction, RetentionPolicy};
use model::usecases::capture::{capture, CaptureSettings};
use model::usecases::contacts;
use model::usecases::merge;
use model::workspace::Workspace;
use model::{capture as decision, conversation, lead};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;
use store::meter::{self, metered, Usage};
use store::Store;

const TABLE: &str = "ai-bot-contacts-bench";
/// The largest workspace the naive Scan runs on: the emulator walks its whole table for
/// every Scan call, so a Scan of N pages costs O(N²) there (about 30 s at 1,000 contacts,
/// close to an hour at 10,000), while DynamoDB's bill for it grows linearly with the table.
const NAIVE_MAX_CONTACTS: u64 = 1_000;
/// Repetitions of each measured operation; the median wall time is kept.
const REPEAT: usize = 5;
/// The stream consumer's batch size, as in the template.
const STREAM_BATCH: usize = 100;
/// CPU figures: calls timed per round after [`CPU_WARMUP`] untimed ones; the median of
/// [`CPU_ROUNDS`] rounds is kept.
const CPU_ITERATIONS: u32 = 20_000;
const CPU_WARMUP: u32 = 2_000;
const CPU_ROUNDS: usize = 5;
/// The channel secret of the bench's bot: webhook bodies are signed with it as the channels do.
const SECRET: &str = "bench-channel-secret-1";
/// Cold starts timed per function (after one untimed start); the median is kept.
const COLD_STARTS: usize = 5;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `--coldstart`: only the cold-start part, figures left under target/; with
    // `--lambda-dir=DIR`, of the x86_64 bootstraps already in DIR, built by nothing here;
    // with `--arch=arm64` or `--arch=x86_64`, of that architecture alone.
    if args.iter().any(|a| a == "--coldstart") {
        let dir = args.iter().find_map(|a| a.strip_prefix("--lambda-dir=")).map(PathBuf::from);
        let arches: Vec<coldstart::Arch> = match args.iter().find_map(|a| a.strip_prefix("--arch=")) {
            Some(name) => [X86_64, ARM64].into_iter().filter(|a| a.name == name).collect(),
            None => vec![X86_64, ARM64],
        };
        if let Err(e) = coldstart_only(dir, &arches).await {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    // `--import=N`: a CSV of N rows imported through the whole stack, figures left under target/.
    if let Some(rows) = args.iter().find_map(|a| a.strip_prefix("--import=")?.parse::<u64>().ok()) {
        if let Err(e) = import_only(rows).await {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    // `--export=N`: exports of a workspace of N contacts, figures left under target/.
    if let Some(contacts) = args.iter().find_map(|a| a.strip_prefix("--export=")?.parse::<u64>().ok()) {
        let formats = args.iter().find_map(|a| a.strip_prefix("--formats=")).unwrap_or("csv,xlsx,json");
        if let Err(e) = export_only(contacts, formats).await {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    // `--contacts=N`: one workspace of N contacts (e.g. 100,000), figures left under target/.
    let contacts: Option<u64> = args.iter().find_map(|a| a.strip_prefix("--contacts=")?.parse().ok());
    let quick = args.iter().any(|a| a == "--quick") || contacts.is_some();
    // A full run's figures go into the repository; a quick or sized run's stay under target/.
    let path = PathBuf::from(match contacts {
        Some(n) => format!("target/bench/results-{n}.json"),
        None if quick => "target/bench/results-quick.json".to_string(),
        None => "bench/results.json".to_string(),
    });
    if let Err(e) = bench(quick, contacts, &path, args.iter().any(|a| a == "--docs-only")).await {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

/// `make bench IMPORT=N`: target/bench/results-import-N.json.
async fn import_only(rows: u64) -> Result<(), String> {
    let moto = PathBuf::from(env_or("MOTO_SERVER", ".venv/bin/moto_server"));
    let result = import_bench::run(&moto, free_port()?, rows).await?;
    let path = PathBuf::from(format!("target/bench/results-import-{rows}.json"));
    let result = json!({ "commit": git_commit(), "date": Utc::now().to_rfc3339(), "import": result });
    std::fs::create_dir_all("target/bench").map_err(|e| e.to_string())?;
    std::fs::write(&path, serde_json::to_string_pretty(&result).expect("json") + "\n").map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    eprintln!("bench: wrote {}", path.display());
    Ok(())
}

/// `make bench EXPORT=N`: target/bench/results-export-N.json.
async fn export_only(contacts: u64, formats: &str) -> Result<(), String> {
    let formats = formats
        .split(',')
        .map(|f| ExportFormat::parse(f.trim()).map_err(|e| format!("{e:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    let moto = PathBuf::from(env_or("MOTO_SERVER", ".venv/bin/moto_server"));
    let result = export_bench::run(&moto, free_port()?, contacts, &formats).await?;
    let path = PathBuf::from(format!("target/bench/results-export-{contacts}.json"));
    let result = json!({
        "commit": git_commit(),
        "date": Utc::now().to_rfc3339(),
        "machine": { "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()), "memory_kb": mem_total_kb() },
        "export": result,
    });
    std::fs::create_dir_all("target/bench").map_err(|e| e.to_string())?;
    std::fs::write(&path, serde_json::to_string_pretty(&result).expect("json") + "\n").map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    eprintln!("bench: wrote {}", path.display());
    Ok(())
}

/// `make bench COLDSTART=1`: builds, sizes and cold starts only; target/bench/results-coldstart.json.
async fn coldstart_only(lambda_dir: Option<PathBuf>, arches: &[coldstart::Arch]) -> Result<(), String> {
    if arches.is_empty() {
        return Err("--arch is x86_64 or arm64".into());
    }
    let started = Instant::now();
    let results = json!({
        "commit": git_commit(),
        "date": Utc::now().to_rfc3339(),
        "machine": { "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()), "memory_kb": mem_total_kb() },
        "coldstart": measure_coldstart(lambda_dir, arches).await?,
    });
    let path = PathBuf::from("target/bench/results-coldstart.json");
    std::fs::create_dir_all("target/bench").map_err(|e| format!("target/bench: {e}"))?;
    std::fs::write(&path, serde_json::to_string_pretty(&results).expect("json") + "\n")
        .map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("bench: wrote {} in {:.0} s", path.display(), started.elapsed().as_secs_f64());
    println!("\n{}", coldstart_table(&results["coldstart"]));
    Ok(())
}

/// Measures (unless `docs_only`: re-renders the tables of the last full run), writes the
/// results, prints the tables, and puts them into docs/benchmarks.md after a full run.
async fn bench(quick: bool, contacts: Option<u64>, path: &std::path::Path, docs_only: bool) -> Result<(), String> {
    let results: Value = if docs_only {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        let sizes: Vec<u64> = match contacts {
            Some(n) => vec![n],
            None if quick => vec![1_000],
            None => vec![1_000, 10_000],
        };
        let started = Instant::now();
        // The CPU and export figures first, while no emulator runs beside them.
        let cpu = measure_cpu()?;
        let export = measure_export(quick)?;
        // A quick run has no time for a release build of every function.
        let coldstart = if quick { Value::Null } else { measure_coldstart(None, &[X86_64, ARM64]).await? };
        let mut runs = Vec::new();
        for &size in &sizes {
            runs.push(run(size).await.map_err(|e| format!("{size} contacts: {e}"))?);
        }
        let results = json!({
            "commit": git_commit(),
            "date": Utc::now().to_rfc3339(),
            "quick": quick,
            "machine": { "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()), "memory_kb": mem_total_kb() },
            "seconds": started.elapsed().as_secs_f64(),
            "runs": runs,
            "cpu": cpu,
            "export": export,
            "coldstart": coldstart,
        });
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&results).expect("json") + "\n";
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("bench: wrote {} in {:.0} s", path.display(), started.elapsed().as_secs_f64());
        results
    };
    let tables = tables(&results);
    println!("\n{tables}");
    if !quick {
        update_docs(&results, &tables)?;
    }
    Ok(())
}

/// A purge deadline no measured delete reaches: each is purged whole, as it is billed.
fn far() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::minutes(10)
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string())
}

/// One size: a fresh emulator, the workspace loaded, every operation measured.
async fn run(size: u64) -> Result<Value, String> {
    let port = free_port()?;
    let moto = PathBuf::from(env_or("MOTO_SERVER", ".venv/bin/moto_server"));
    let emulator = local::start_emulator(&moto, port).await?;
    let pid = emulator.id().ok_or("the emulator has no pid")?;
    let sdk = local::aws_config(&format!("http://127.0.0.1:{port}")).await;
    let template = template::Template::load(&template::default_path()).map_err(|e| e.to_string())?;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    bootstrap::create_table(&client, template.tables.first().ok_or("no table in the template")?, TABLE).await?;
    let kms_keys = bootstrap::create_kms_keys(&aws_sdk_kms::Client::new(&sdk), &template.kms_keys, "bench").await?;
    let secrets =
        stack::local_secrets(&sdk, kms_keys.get(stack::SECRETS_KMS_KEY).ok_or("no secrets key in the template")?);
    // Loading is not metered: it bills nothing we report, and the meter's reads would slow it.
    let loader = Store::new(client.clone(), TABLE).billing_from_items(false).sealing_secrets(secrets.clone());
    let store = Store::new(client.clone(), TABLE).billing_from_items(true).sealing_secrets(secrets);
    let ws = WorkspaceId::parse("bench").map_err(|e| e.to_string())?;
    let mut workspace = Workspace::with_defaults(ws.clone());
    workspace.deletion_grace_days = 0;
    loader.put_workspace(&workspace).await.map_err(|e| e.to_string())?;

    let rss_before = rss_kb(&pid.to_string());
    let t = Instant::now();
    demo::load_if_empty(&loader, &ws, size).await.map_err(|e| e.to_string())?;
    let load_seconds = t.elapsed().as_secs_f64();
    let rss_after = rss_kb(&pid.to_string());
    eprintln!("bench: {size} contacts loaded in {load_seconds:.1} s");

    // The stream consumer's share: every change the measured operations make, recorded here
    // and counted at the end as Lambda would hand it over.
    let recorder = Recorder::start(&sdk, &client, TABLE, true).await?;
    let mut ops = Vec::new();
    // Capture's store keeps workspace settings, as the capture worker's does.
    let capturing = store.clone().caching_settings(std::time::Duration::from_secs(60));
    measure_capture(&capturing, &ws, &mut ops).await?;
    measure_listing(&store, &ws, &mut ops).await?;
    measure_contacts(&store, &workspace, &mut ops).await?;
    let changes = recorder.finish().await;
    measure_sync_fanout(&store, aws_sdk_sqs::Client::new(&sdk), changes.clone(), &mut ops).await?;
    measure_stream_counters(&store, changes, &mut ops).await?;
    // After the stream's share is counted: these change many contacts (their counters'
    // share is not part of the row above).
    measure_handoff(&sdk, &store, &ws, &template, &mut ops).await?;
    measure_care(&store, &workspace, &mut ops).await?;
    // The whole-workspace jobs at every size up to BULK_MAX_CONTACTS: beyond, the emulator
    // is too slow for them (at 100k an export read under 90 rows/s: 72,000 rows in 14
    // minutes); their cost per 1,000 does not depend on the size.
    if size <= BULK_MAX_CONTACTS {
        measure_bulk(&sdk, &store, &ws, &mut ops).await?;
    }
    let ours = ops
        .iter()
        .find(|o| o["operation"] == "list: no filter")
        .map_or(0.0, |o| o["read_units"].as_f64().unwrap_or(0.0));
    let naive = if size <= NAIVE_MAX_CONTACTS {
        let b = naive_list(&client, &ws, size).await?;
        json!({
            "calls": b.calls,
            "read_units": b.read_units,
            "items_read": b.items,
            "ms": b.ms,
            "ratio_to_ours": if ours > 0.0 { b.read_units / ours } else { 0.0 },
        })
    } else {
        Value::Null
    };
    drop(emulator);
    Ok(json!({
        "contacts": size,
        "load": { "seconds": load_seconds, "emulator_rss_kb_before": rss_before, "emulator_rss_kb_after": rss_after },
        "operations": ops,
        "naive_list": naive,
    }))
}

/// Runs `op` [`REPEAT`] times (`make` builds each run's input); keeps the first run's usage
/// (later ones may find work done) and the median wall time.
async fn measure<T, F, Fut, M>(ops: &mut Vec<Value>, name: &str, mut make: M, op: F) -> Result<(), String>
where
    M: FnMut(usize) -> T,
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut times = Vec::new();
    let mut first: Option<Usage> = None;
    for i in 0..REPEAT {
        let input = make(i);
        let t = Instant::now();
        let (out, usage) = metered(op(input)).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        out.map_err(|e| format!("{name}: {e}"))?;
        first.get_or_insert(usage);
    }
    times.sort_by(f64::total_cmp);
    let u = first.unwrap_or_default();
    ops.push(json!({
        "operation": name,
        "calls": u.calls,
        "calls_by_operation": u.operations,
        "write_requests": u.write_requests,
        "read_units": u.read_units,
        "write_units": u.write_units,
        "reported_units": u.reported_units,
        "median_ms": times[times.len() / 2],
    }));
    Ok(())
}

fn event(n: &str, visitor: &str, kind: CaptureKind) -> CaptureEvent {
    CaptureEvent {
        event_id: format!("bench:{n}"),
        channel: Channel::Frame,
        external_id: visitor.to_string(),
        occurred_at: Utc::now(),
        profile: ProfileHints { name: Some("Bench Visitor".into()), ..Default::default() },
        kind,
        sequence: None,
    }
}

fn message(reference: Option<String>) -> CaptureKind {
    CaptureKind::Message {
        role: MessageRole::User,
        text: Some("Hi! What do your plans cost?".into()),
        message_type: "text".into(),
        conversation_ref: reference,
    }
}

async fn measure_capture(store: &Store, ws: &WorkspaceId, ops: &mut Vec<Value>) -> Result<(), String> {
    let bot = demo::bot_if_missing(store, ws).await.map_err(|e| e.to_string())?;
    let bot = store.get_bot(&bot).await.map_err(|e| e.to_string())?.ok_or("bot missing")?;
    let settings = CaptureSettings { idle: Duration::minutes(30) };
    let run = |e: CaptureEvent| {
        let (bot, settings) = (&bot, &settings);
        async move { capture(store, &(), bot, &e, settings).await.map(|_| ()).map_err(|e| e.to_string()) }
    };
    measure(
        ops,
        "capture: first message of a new visitor",
        |i| event(&format!("new{i}"), &format!("new-{i}"), message(None)),
        run,
    )
    .await?;
    for i in 0..REPEAT {
        run(event(&format!("known-setup{i}"), &format!("known-{i}"), message(Some(format!("k{i}"))))).await?;
    }
    measure(
        ops,
        "capture: next message of a known visitor",
        |i| event(&format!("known{i}"), &format!("known-{i}"), message(Some(format!("k{i}")))),
        run,
    )
    .await?;
    measure(
        ops,
        "capture: message opening a conversation",
        |i| {
            event(
                &format!("open{i}"),
                &format!("known-{i}"),
                CaptureKind::ConversationStarted { conversation_ref: Some(format!("o{i}")) },
            )
        },
        run,
    )
    .await
}

/// What the table's second stream consumer, the sync fan-out, spends on the same changes in
/// a workspace without integrations (what every workspace pays: a Query of its integrations
/// per batch, and each changed contact's change-feed item). With integrations it also
/// queues one SQS message per change and integration (not billed by DynamoDB).
async fn measure_sync_fanout(
    store: &Store,
    sqs: aws_sdk_sqs::Client,
    changes: Vec<EventRecord>,
    ops: &mut Vec<Value>,
) -> Result<(), String> {
    let n = changes.len();
    // No integration, so no message: the queue is never called.
    let fanout = Fanout { store: store.clone(), queue: SyncQueue::new(sqs, "no-integrations") };
    let t = Instant::now();
    let (out, usage) = metered(async {
        for batch in changes.chunks(STREAM_BATCH) {
            let mut event = Event::default();
            event.records = batch.to_vec();
            fanout::handle(&fanout, event).await?;
        }
        Ok::<_, fanout::FanoutError>(())
    })
    .await;
    out.map_err(|e| format!("sync fan-out: {e}"))?;
    let per = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    ops.push(json!({
        "operation": format!("sync fan-out (no integrations): the {n} changes above, in batches of {STREAM_BATCH}"),
        "calls": usage.calls,
        "calls_by_operation": usage.operations,
        "write_requests": usage.write_requests,
        "read_units": usage.read_units,
        "write_units": usage.write_units,
        "reported_units": usage.reported_units,
        "median_ms": t.elapsed().as_secs_f64() * 1000.0,
        "changes": n,
        "write_units_per_change": per(usage.write_units),
    }));
    Ok(())
}

/// What the stream consumer spends counting the measured operations' changes, in the
/// template's batches: the whole, and per change.
async fn measure_stream_counters(store: &Store, changes: Vec<EventRecord>, ops: &mut Vec<Value>) -> Result<(), String> {
    let n = changes.len();
    let t = Instant::now();
    let (out, usage) = metered(async {
        for batch in changes.chunks(STREAM_BATCH) {
            let mut event = Event::default();
            event.records = batch.to_vec();
            stream_counters::handle(store, event).await?;
        }
        Ok::<_, store::StoreError>(())
    })
    .await;
    out.map_err(|e| format!("stream counters: {e}"))?;
    let per = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    ops.push(json!({
        "operation": format!("stream counters: the {n} changes above, in batches of {STREAM_BATCH}"),
        "calls": usage.calls,
        "calls_by_operation": usage.operations,
        "write_requests": usage.write_requests,
        "read_units": usage.read_units,
        "write_units": usage.write_units,
        "reported_units": usage.reported_units,
        "median_ms": t.elapsed().as_secs_f64() * 1000.0,
        "changes": n,
        "write_units_per_change": per(usage.write_units),
    }));
    Ok(())
}

async fn measure_listing(store: &Store, ws: &WorkspaceId, ops: &mut Vec<Value>) -> Result<(), String> {
    let cases: [(&str, &[(&str, &str)]); 6] = [
        ("list: no filter", &[]),
        ("list: channel", &[("channel", "telegram")]),
        ("list: status", &[("status", "follow_up")]),
        ("list: tag", &[("tag", "vip")]),
        ("list: search", &[("q", "oli")]),
        ("list: page=3 without cursor", &[("page", "3")]),
    ];
    for (name, params) in cases {
        let mut params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        params.push(("per_page".into(), "25".into()));
        let request = ListRequest::parse_filters(ws, &params, Utc::now()).map_err(|e| format!("{name}: {e:?}"))?;
        let list = |r: &ListRequest| {
            let r = r.clone();
            async move { store.list_contacts(ws, &r).await.map(|_| ()).map_err(|e| e.to_string()) }
        };
        measure(ops, name, |_| &request, list).await?;
    }
    Ok(())
}

async fn measure_contacts(store: &Store, workspace: &Workspace, ops: &mut Vec<Value>) -> Result<(), String> {
    let ws = &workspace.id;
    measure(
        ops,
        "contact detail (get)",
        |i| ContactId(1 + i as u64),
        |id| async move { store.get_contact(ws, id).await.map(|_| ()).map_err(|e| e.to_string()) },
    )
    .await?;
    let now = Utc::now();
    let created = std::sync::Mutex::new(Vec::new());
    measure(
        ops,
        "create",
        |i| {
            // Demo phones repeat every 10,000 contacts: this one is of a form they never take.
            let mut new = demo::contact(900_000 + i as u64, 1, now);
            new.phone = model::domain::Phone::parse(&format!("+81 3 5555 {i:04}"), None).ok();
            new
        },
        |new| {
            let created = &created;
            async move {
                let c = contacts::create(store, workspace, new).await.map_err(|e| e.to_string())?;
                created.lock().expect("not poisoned").push(c.id);
                Ok(())
            }
        },
    )
    .await?;
    let ids = created.into_inner().expect("not poisoned");
    measure(
        ops,
        "edit (name)",
        |i| {
            (
                ids[i],
                ContactPatch {
                    name: Change::Set(Name::parse(&format!("Edited {i}")).expect("valid")),
                    ..Default::default()
                },
            )
        },
        |(id, patch)| async move {
            contacts::edit(store, workspace, id, patch, None).await.map(|_| ()).map_err(|e| e.to_string())
        },
    )
    .await?;
    measure(
        ops,
        "delete (no grace period: purged)",
        |i| ids[i],
        |id| async move { contacts::delete(store, workspace, id, None, far()).await.map(|_| ()).map_err(|e| e.to_string()) },
    )
    .await
}

/// Counts the requests a client sends (the meter sees only DynamoDB's).
#[derive(Debug)]
struct CountRequests(Arc<AtomicU32>);

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// One run of `op`, metered, as a row like [`measure`]'s plus `extra`.
async fn once<T>(
    ops: &mut Vec<Value>,
    name: &str,
    op: impl std::future::Future<Output = Result<T, String>>,
) -> Result<(T, Usage, f64), String> {
    let t = Instant::now();
    let (out, usage) = metered(op).await;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let out = out.map_err(|e| format!("{name}: {e}"))?;
    ops.push(json!({
        "operation": name,
        "calls": usage.calls,
        "calls_by_operation": usage.operations,
        "write_requests": usage.write_requests,
        "read_units": usage.read_units,
        "write_units": usage.write_units,
        "reported_units": usage.reported_units,
        "median_ms": ms,
    }));
    Ok((out, usage, ms))
}

/// The webhook's hand-off of a Telegram update through `webhooks::handle`: the bot read
/// (once per instance, then from its cache) and the capture queue's SQS batch, counted
/// by an interceptor on the SQS client.
async fn measure_handoff(
    sdk: &aws_config::SdkConfig,
    store: &Store,
    ws: &WorkspaceId,
    template: &template::Template,
    ops: &mut Vec<Value>,
) -> Result<(), String> {
    let sent = Arc::new(AtomicU32::new(0));
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(sdk).interceptor(CountRequests(sent.clone())).build(),
    );
    let urls = bootstrap::create_queues(&sqs, &template.queues, "bench-").await?;
    let url = urls.get("CaptureQueue").ok_or("the template has no CaptureQueue")?.clone();
    let bot = demo::bot_if_missing(store, ws).await.map_err(|e| e.to_string())?;
    // The sample event, addressed to this workspace's bot (the signature covers only the body).
    let path = "events/webhooks/telegram-message.json";
    let event =
        std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?.replace("demo.k3j9x2m4q8", &bot.to_string());
    let event = &event;
    let hooks = || Webhooks { bots: BotCache::new(store.clone()), queue: CaptureQueue::new(sqs.clone(), url.clone()) };
    let mut rows = Vec::new();
    let before = sent.load(Ordering::Relaxed);
    measure(
        &mut rows,
        "webhook hand-off: a Telegram update, the instance's first (bot read)",
        |_| hooks(),
        |hooks| async move { hand_off(&hooks, event).await },
    )
    .await?;
    // An instance that has read the bot already.
    let warm = &hooks();
    hand_off(warm, event).await?;
    measure(&mut rows, "webhook hand-off: a Telegram update, the bot cached", |_| (), |_| hand_off(warm, event))
        .await?;
    // Every update above (2 × REPEAT, and one more) sent one SQS batch of its one event.
    let per_update = f64::from(sent.load(Ordering::Relaxed) - before) / (2 * REPEAT + 1) as f64;
    for mut row in rows {
        row["sqs_calls"] = json!(per_update);
        row["operation"] =
            json!(format!("{} + {per_update:.0} SQS SendMessageBatch", row["operation"].as_str().unwrap_or("?")));
        ops.push(row);
    }
    Ok(())
}

/// One update through the webhook function's handler; it must be queued (`200`).
async fn hand_off(hooks: &Webhooks, event: &str) -> Result<(), String> {
    let request = lambda_http::request::from_str(event).map_err(|e| format!("the webhook event: {e}"))?;
    let response = webhooks::handle(hooks, request).await.unwrap_or_else(|never| match never {});
    match response.status().as_u16() {
        200 => Ok(()),
        status => Err(format!("the webhook answered {status}")),
    }
}

/// Contact care beyond create, edit and delete: a delete with a grace period (the contact
/// hidden), the purge that follows it, a merge, and the analytics page's reads.
async fn measure_care(store: &Store, workspace: &Workspace, ops: &mut Vec<Value>) -> Result<(), String> {
    let ws = &workspace.id;
    // Demo contacts 201 onwards: none of the operations above touched them.
    let mut graced = workspace.clone();
    graced.deletion_grace_days = 30;
    let graced = &graced;
    measure(
        ops,
        "delete (grace period of 30 days: hidden)",
        |i| ContactId(201 + i as u64),
        |id| async move { contacts::delete(store, graced, id, None, far()).await.map(|_| ()).map_err(|e| e.to_string()) },
    )
    .await?;
    // Five contacts whose grace period has ended, then one run of the purger.
    let due = 5;
    for id in 211..211 + due {
        store.soft_delete_contact(ws, ContactId(id), None, Duration::zero()).await.map_err(|e| e.to_string())?;
    }
    let name = format!("purge: the purger's units (4 shards), {due} contacts whose grace period ended");
    let deadline = Utc::now() + Duration::minutes(15);
    once(ops, &name, async {
        for shard in 0..store::keys::PURGE_SHARDS {
            contact_purger::work(store, shard, None, deadline).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .await?;
    for id in 211..211 + due {
        if store.get_contact(ws, ContactId(id)).await.map_err(|e| e.to_string())?.is_some() {
            return Err(format!("{name}: contact {id} not purged"));
        }
    }
    measure(
        ops,
        "merge (two contacts, the other's values fill the survivor's gaps)",
        |i| (ContactId(221 + 2 * i as u64), ContactId(222 + 2 * i as u64)),
        |(survivor, other)| async move {
            merge::merge(store, workspace, survivor, other, &BTreeMap::new(), false)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
    )
    .await?;
    // The reads of `GET /api/v1/analytics` (contacts_functions::api::analytics), the last 30 days.
    measure(
        ops,
        "analytics read (30 days)",
        |_| (),
        |_| async move {
            let today = Utc::now().date_naive();
            let from = today - Duration::days(29);
            let month_start = today.with_day(1).expect("the 1st exists");
            let counters = store.counters(ws).await.map_err(|e| e.to_string())?;
            let days = store.day_stats(ws, from.min(month_start), today).await.map_err(|e| e.to_string())?;
            let snapshots = store.snapshots(ws, from, today).await.map_err(|e| e.to_string())?;
            black_box(model::analytics::report(&counters, &days, &snapshots, from, today, month_start));
            Ok(())
        },
    )
    .await
}

/// The export worker's time budget in the bench: a large workspace's export goes on
/// through continuations, as on Lambda.
const EXPORT_BUDGET_SECONDS: u32 = 120;
const BULK_MAX_CONTACTS: u64 = 10_000;

/// Scales a row's usage to `per` of `count` (e.g. per 1,000 rows of an export).
fn scale(row: &mut Value, count: u64, per: u64) {
    let k = per as f64 / count.max(1) as f64;
    for key in ["calls", "write_requests", "read_units", "write_units", "median_ms"] {
        row[key] = json!(row[key].as_f64().unwrap_or(0.0) * k);
    }
    row["count"] = json!(count);
}

/// Work over the whole workspace, per 1,000: an export of every contact (the export
/// worker's `handle`, as its queue delivers the message; CSV into the emulator's S3), and
/// the retention job's run (flag contacts inactive for 90 days).
async fn measure_bulk(
    sdk: &aws_config::SdkConfig,
    store: &Store,
    ws: &WorkspaceId,
    ops: &mut Vec<Value>,
) -> Result<(), String> {
    // The measured operations before created, deleted, purged and merged contacts: the export
    // must hold every one left, no more, no fewer.
    let size = live_contacts(&aws_sdk_dynamodb::Client::new(sdk), ws).await?;
    // The export worker as deployed: a run hands the rest on to its queue before its budget
    // runs out, and each continuation is a new invocation, until the file is complete.
    let bench = BenchWorker::start(sdk, store, TimeBudget::seconds(EXPORT_BUDGET_SECONDS)).await?;
    let (export, first) = bench.export_every_contact(ws, ExportFormat::Csv).await?;
    let name = "export: every contact as CSV, per 1,000 rows";
    let timeout = Duration::minutes(15);
    let (invocations, _, ms) = once(ops, name, bench.until_done(first, timeout)).await?;
    let done = store.get_export(ws, &export.id).await.map_err(|e| e.to_string())?.ok_or("the export vanished")?;
    if done.row_count != Some(size) {
        return Err(format!("{name}: {:?} rows of {size} ({:?}, {:?})", done.row_count, done.status, done.error));
    }
    let row = ops.last_mut().expect("a row");
    row["invocations"] = json!(invocations);
    row["rows_per_second"] = json!(size as f64 / (ms / 1000.0));
    scale(ops.last_mut().expect("a row"), done.rows_written, 1_000);

    let policy = RetentionPolicy { enabled: true, inactive_after_days: 90, action: RetentionAction::Flag };
    store.set_retention_policy(ws, &policy).await.map_err(|e| e.to_string())?;
    let name = "retention: the job's run (flag after 90 days inactive), per 1,000 contacts";
    let deadline = Utc::now() + Duration::minutes(30);
    // The jobs worker's units for the workspace until its run is done.
    let (summary, _, _) = once(ops, name, async {
        loop {
            let (summary, rest) = retention_job::work(store, ws.as_str(), deadline).await.map_err(|e| e.to_string())?;
            if rest.is_none() {
                return Ok(summary);
            }
        }
    })
    .await?;
    let run = store.list_retention_runs(ws, 1).await.map_err(|e| e.to_string())?.into_iter().next();
    let counts = run.map(|r| r.counts).unwrap_or_default();
    let row = ops.last_mut().expect("a row");
    row["summary"] = json!(summary);
    row["counts"] = json!(counts);
    scale(row, size, 1_000);
    Ok(())
}

/// Median nanoseconds per call of `op`, over [`CPU_ROUNDS`] rounds of [`CPU_ITERATIONS`].
fn cpu_ns(mut op: impl FnMut()) -> f64 {
    (0..CPU_WARMUP).for_each(|_| op());
    let mut rounds: Vec<f64> = (0..CPU_ROUNDS)
        .map(|_| {
            let t = Instant::now();
            (0..CPU_ITERATIONS).for_each(|_| op());
            t.elapsed().as_nanos() as f64 / f64::from(CPU_ITERATIONS)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn bench_bot(ws: &WorkspaceId) -> Result<Bot, String> {
    let secret = || Secret::parse(SECRET).map_err(|e| e.to_string());
    let meta = MetaSettings { app_secret: secret()?, verify_token: secret()?, page_access_token: None, app_id: None };
    Ok(Bot {
        id: BotId::generate(ws),
        name: "Bench bot".into(),
        email_collect: true,
        contact_form: true,
        channels: ChannelSettings {
            telegram: Some(TelegramSettings { secret_token: secret()? }),
            messenger: Some(meta.clone()),
            whatsapp: Some(meta),
            frame: Some(WidgetSettings { signing_secret: secret()? }),
            livechat: Some(WidgetSettings { signing_secret: secret()? }),
        },
        created_at: Utc::now(),
        version: 1,
    })
}

/// The headers a channel sends with `body`: its secret token, or its signature of the body.
fn signed_headers(channel: Channel, body: &[u8]) -> HeaderMap {
    let headers: Vec<(&str, String)> = match channel {
        Channel::Telegram => vec![(channels::telegram::SECRET_TOKEN_HEADER, SECRET.to_string())],
        Channel::Messenger | Channel::Whatsapp => {
            vec![(channels::meta::SIGNATURE_HEADER, channels::meta::sign(SECRET, body))]
        }
        Channel::Frame | Channel::Livechat => {
            let now = Utc::now().timestamp();
            vec![
                (channels::widget::TIMESTAMP_HEADER, now.to_string()),
                (channels::widget::SIGNATURE_HEADER, channels::widget::sign(SECRET, now, body)),
            ]
        }
    };
    headers
        .into_iter()
        .map(|(k, v)| (HeaderName::from_bytes(k.as_bytes()).expect("header name"), v.parse().expect("header value")))
        .collect()
}

/// What capture decides for `event` without the store: the contact as it becomes, from the
/// contact as read (`known`) or, for a new visitor, the contact capture creates first.
/// The same steps as `model::usecases::capture::capture` between its reads and its write.
fn decide(bot: &Bot, known: Option<&Contact>, event: &CaptureEvent, rules: &lead::LeadRules) -> Contact {
    let key = model::usecases::capture::event_key(&bot.id, event);
    let (offers, _) = decision::offers(event, bot, None);
    let created;
    let contact = match known {
        Some(c) => c,
        None => {
            let now = Utc::now();
            let mut c = decision::new_contact(event, offers.clone()).into_contact(ContactId(1), now);
            lead::refresh(&mut c, now, rules.policy);
            created = c;
            &created
        }
    };
    let open = contact.open_conversations.iter().find(|o| o.channel == event.channel);
    let step = conversation::step(open, event.channel, &event.kind, event.occurred_at, Duration::minutes(30));
    black_box(key);
    decision::apply(contact, event, offers, &step, rules)
}

/// CPU per webhook call and per capture decision, no emulator: many calls timed together.
fn measure_cpu() -> Result<Value, String> {
    let ws = WorkspaceId::parse("bench").map_err(|e| e.to_string())?;
    let bot = bench_bot(&ws)?;
    let mut ops = Vec::new();
    let webhooks = [
        (Channel::Telegram, "telegram-message.json"),
        (Channel::Messenger, "messenger-message.json"),
        (Channel::Whatsapp, "whatsapp-message.json"),
        (Channel::Frame, "frame-message.json"),
        (Channel::Livechat, "livechat-agent-message.json"),
    ];
    for (channel, fixture) in webhooks {
        let path = format!("tests/fixtures/webhooks/{fixture}");
        let body = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
        let headers = signed_headers(channel, &body);
        let handle = || -> Result<usize, String> {
            let messages =
                accept(&bot, channel, &headers, &body, Utc::now()).map_err(|e| format!("{fixture}: {e:?}"))?;
            let entries: usize = messages.chunks(10).map(|chunk| black_box(batch_entries(chunk)).len()).sum();
            Ok(entries)
        };
        let events = handle()?;
        let ns = cpu_ns(|| {
            black_box(handle().ok());
        });
        eprintln!("bench: webhook {channel}: {ns:.0} ns");
        ops.push(json!({ "operation": format!("webhook: {channel} ({fixture})"), "events": events, "ns": ns }));
    }
    let workspace = model::workspace::Workspace::with_defaults(ws);
    let rules = &workspace.lead_rules;
    let first = event("cpu-first", "cpu-visitor", message(Some("c1".into())));
    let next = event("cpu-next", "cpu-visitor", message(Some("c1".into())));
    let known = decide(&bot, None, &first, rules);
    let new_ns = cpu_ns(|| {
        black_box(decide(&bot, None, &first, rules));
    });
    let known_ns = cpu_ns(|| {
        black_box(decide(&bot, Some(&known), &next, rules));
    });
    eprintln!("bench: capture decisions: {new_ns:.0} ns new, {known_ns:.0} ns known");
    ops.push(json!({ "operation": "capture decision: first message of a new visitor", "events": 1, "ns": new_ns }));
    ops.push(json!({ "operation": "capture decision: next message of a known visitor", "events": 1, "ns": known_ns }));
    Ok(json!({
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        "iterations": CPU_ITERATIONS,
        "rounds": CPU_ROUNDS,
        "operations": ops,
    }))
}

/// The `[profile.release]` lines of Cargo.toml, to name the build the figures are of.
fn release_profile() -> Vec<String> {
    let manifest = std::fs::read_to_string("Cargo.toml").unwrap_or_default();
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[profile.release]")
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter(|l| l.contains('='))
        .map(|l| l.trim().to_string())
        .collect()
}

/// Cold start and size: every function and the hello-world baseline built `--release` for
/// x86_64 and arm64 by cargo-lambda (cargo rebuilds what is not current: a cold build of
/// both takes most of an hour on 2 cores), their sizes, then [`COLD_STARTS`] cold starts of
/// each x86_64 build against the local Runtime API (arm64 cannot run here). With
/// `lambda_dir`, only the x86_64 bootstraps already there, nothing built.
/// Builds `arches` (unless `lambda_dir` names x86_64 bootstraps built elsewhere), sizes
/// them, and times their cold starts: x86_64 natively, arm64 under qemu when installed.
async fn measure_coldstart(lambda_dir: Option<PathBuf>, arches: &[coldstart::Arch]) -> Result<Value, String> {
    let template = template::Template::load(&template::default_path()).map_err(|e| e.to_string())?;
    let mut names = coldstart::binaries(&template);
    let (mut builds, mut sizes) = (serde_json::Map::new(), serde_json::Map::new());
    let native = match lambda_dir {
        Some(dir) => {
            // What was built there (e.g. a few functions under another profile).
            names.retain(|n| dir.join(n).join("bootstrap").is_file());
            sizes.insert(X86_64.name.into(), json!(coldstart::sizes(&dir, &names)));
            Some(dir)
        }
        None => {
            let cargo_lambda = coldstart::cargo_lambda()
                .ok_or("cargo-lambda is missing: `.venv/bin/pip install cargo-lambda` (`make bench` does)")?;
            for &arch in arches {
                if !coldstart::target_installed(arch) {
                    let why = format!("no {} standard library: `rustup target add {}`", arch.triple, arch.triple);
                    eprintln!("bench: {} skipped, {why}", arch.name);
                    builds.insert(arch.name.into(), json!({ "skipped": why }));
                    continue;
                }
                eprintln!("bench: cargo lambda build --release {} (cold: about 30 min on 2 cores)", arch.flag);
                let seconds = coldstart::build(&cargo_lambda, arch)?;
                builds.insert(arch.name.into(), json!({ "seconds": seconds }));
                sizes.insert(arch.name.into(), json!(coldstart::sizes(&coldstart::lambda_dir(arch), &names)));
            }
            arches.iter().any(|a| a.name == X86_64.name).then(|| coldstart::lambda_dir(X86_64))
        }
    };
    let functions = match &native {
        Some(dir) => coldstart::measure(dir, &[], &template, &names, COLD_STARTS).await?,
        None => Vec::new(),
    };
    let arm64_dir = coldstart::lambda_dir(ARM64);
    let arm64 = match coldstart::arm64_runner() {
        _ if sizes.get(ARM64.name).is_none() => Value::Null,
        None => {
            json!({ "skipped": "no qemu-aarch64 with /usr/aarch64-linux-gnu (Debian: qemu-user-static libc6-arm64-cross)" })
        }
        Some(runner) => json!({
            "runner": runner.join(" "),
            "functions": coldstart::measure(&arm64_dir, &runner, &template, &names, COLD_STARTS).await?,
        }),
    };
    Ok(json!({
        "profile": release_profile(),
        "measured": native,
        "cold_starts": COLD_STARTS,
        "builds": builds,
        "sizes": sizes,
        "functions": functions,
        "arm64_emulated": arm64,
    }))
}

/// The cold-start table: sizes per architecture, x86_64 init and first invoke beside the
/// baseline's.
fn coldstart_table(c: &Value) -> String {
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let mb = |v: &Value| if v.is_null() { "–".to_string() } else { format!("{:.1}", f(v) / 1_048_576.0) };
    let size = |arch: &str, name: &str, key: &str| {
        let row = c["sizes"][arch].as_array().and_then(|rows| rows.iter().find(|r| r["function"] == name).cloned());
        row.map_or("–".to_string(), |r| mb(&r[key]))
    };
    // No x86_64 cold starts in an arm64 run: its sizes are in the JSON.
    let rows = c["functions"].as_array().filter(|rows| !rows.is_empty());
    let mut out = if rows.is_some() {
        String::from(
            "| function | first invoke: request → answer | AWS calls | x86_64 MB | zip MB | arm64 MB | zip MB | init ms | × hello | first invoke ms | × hello | peak RSS MB |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        )
    } else {
        String::new()
    };
    for r in rows.into_iter().flatten() {
        let name = r["function"].as_str().unwrap_or("?");
        out.push_str(&format!(
            "| {name} | {} → {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.2} | {:.1} | {:.1} |\n",
            r["request"].as_str().unwrap_or("?"),
            r["answer"].as_str().unwrap_or("?").replace('|', "\\|"),
            r["aws_calls"].as_u64().unwrap_or(0),
            size("x86_64", name, "binary_bytes"),
            size("x86_64", name, "zip_bytes"),
            size("arm64", name, "binary_bytes"),
            size("arm64", name, "zip_bytes"),
            f(&r["init_ms"]),
            f(&r["init_ratio"]),
            f(&r["first_invoke_ms"]),
            f(&r["first_invoke_ratio"]),
            f(&r["peak_rss_kb"]) / 1024.0,
        ));
    }
    let builds: Vec<String> = ["x86_64", "arm64"]
        .iter()
        .map(|a| match c["builds"][*a]["seconds"].as_f64() {
            Some(s) => format!("{a} {s:.0} s"),
            None => format!("{a} {}", c["builds"][*a]["skipped"].as_str().unwrap_or("not built")),
        })
        .collect();
    out.push_str(&format!(
        "\nCold starts: median of {} on x86_64 ({}), after one untimed start. Release profile: `{}`. Builds in this run: {}.\n",
        c["cold_starts"].as_u64().unwrap_or(0),
        c["measured"].as_str().unwrap_or("not measured in this run"),
        c["profile"].as_array().map_or(String::new(), |p| p.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")),
        builds.join(", "),
    ));
    out.push_str(&arm64_table(c));
    out
}

/// The arm64 cold starts, timed under qemu: each function beside the baseline emulated alike.
fn arm64_table(c: &Value) -> String {
    let arm64 = &c["arm64_emulated"];
    let Some(rows) = arm64["functions"].as_array() else {
        return arm64["skipped"]
            .as_str()
            .map_or(String::new(), |why| format!("\narm64 cold starts not measured: {why}.\n"));
    };
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let mut out = String::from(
        "\n| function (arm64 under qemu) | init ms | × hello | first invoke ms | × hello | answer |\n|---|---:|---:|---:|---:|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.2} | {:.1} | {} |\n",
            r["function"].as_str().unwrap_or("?"),
            f(&r["init_ms"]),
            f(&r["init_ratio"]),
            f(&r["first_invoke_ms"]),
            f(&r["first_invoke_ratio"]),
            r["answer"].as_str().unwrap_or("?").replace('|', "\\|"),
        ));
    }
    out.push_str(&format!(
        "\narm64 cold starts: median of {} under `{}` (qemu's user-mode emulator on this x86_64 machine, after one untimed start). \
         The milliseconds are the emulator's, not Graviton's; the ratios compare each function with the baseline emulated alike.\n",
        c["cold_starts"].as_u64().unwrap_or(0),
        arm64["runner"].as_str().unwrap_or("?"),
    ));
    out
}

/// Exports: `crates/model/benches/export_memory.rs` (optimized, as `cargo bench` builds it)
/// writes synthetic contacts in every format, each size in a child process of its own.
fn measure_export(quick: bool) -> Result<Value, String> {
    let sizes: &[&str] = if quick { &["10000"] } else { &["100000", "1000000"] };
    eprintln!("bench: exports of {} rows (cargo bench -p model --bench export_memory)", sizes.join(", "));
    let out = Command::new(env_or("CARGO", "cargo"))
        .args(["bench", "--quiet", "-p", "model", "--bench", "export_memory", "--", "--json"])
        .args(sizes)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo bench: {e}"))?;
    if !out.status.success() {
        return Err(format!("the export bench failed ({})", out.status));
    }
    let runs = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(serde_json::from_str)
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|e| format!("the export bench's output: {e}"))?;
    Ok(json!({ "profile": "release", "runs": runs }))
}

struct Baseline {
    calls: u32,
    read_units: f64,
    items: usize,
    ms: f64,
}

/// The listing a first attempt would write: Scan the table, keep the workspace's
/// profiles, sort them newest first in memory, cut the first 25. The Scan is parallel,
/// in segments of about one page each (the emulator re-walks the table for every page of
/// a plain Scan, which makes it quadratic); DynamoDB bills each page on the bytes it read
/// (eventually consistent) however the table is split, so the units are a plain Scan's.
async fn naive_list(client: &aws_sdk_dynamodb::Client, ws: &WorkspaceId, contacts: u64) -> Result<Baseline, String> {
    let t = Instant::now();
    let prefix = format!("WS#{ws}#C#");
    let segments = (contacts / 200).max(1) as i32;
    let (mut calls, mut units, mut items_read) = (0, 0.0, 0);
    let mut profiles = Vec::new();
    for segment in 0..segments {
        let mut start = None;
        loop {
            let out = client
                .scan()
                .table_name(TABLE)
                .segment(segment)
                .total_segments(segments)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
            calls += 1;
            let items = out.items.unwrap_or_default();
            items_read += items.len();
            units += meter::read_units(items.iter().map(meter::item_size).sum(), false);
            profiles.extend(items.into_iter().filter(|i| {
                let s = |k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                s("pk").starts_with(&prefix) && s("sk") == "PROFILE" && !i.contains_key("deleted_at")
            }));
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
    }
    let created = |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        i.get("created_at").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
    };
    profiles.sort_by_key(|i| std::cmp::Reverse(created(i)));
    profiles.truncate(25);
    Ok(Baseline { calls, read_units: units, items: items_read, ms: t.elapsed().as_secs_f64() * 1000.0 })
}

/// The workspace's contacts that are not deleted, counted with a Scan (the bench's own check;
/// no request path scans).
async fn live_contacts(client: &aws_sdk_dynamodb::Client, ws: &WorkspaceId) -> Result<u64, String> {
    let mut start = None;
    let mut count = 0;
    loop {
        let out = client
            .scan()
            .table_name(TABLE)
            .filter_expression("begins_with(pk, :prefix) AND sk = :profile AND attribute_not_exists(deleted_at)")
            .expression_attribute_values(":prefix", aws_sdk_dynamodb::types::AttributeValue::S(format!("WS#{ws}#C#")))
            .expression_attribute_values(":profile", aws_sdk_dynamodb::types::AttributeValue::S("PROFILE".into()))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
        count += out.count.max(0) as u64;
        match out.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return Ok(count),
        }
    }
}

/// A count as counted, or per 1,000 of something with one decimal.
fn count(v: &Value) -> String {
    match v.as_u64() {
        Some(n) => n.to_string(),
        None => format!("{:.1}", v.as_f64().unwrap_or(0.0)),
    }
}

/// What each operation costs, every size measured, with the naive baseline: in both
/// docs/benchmarks.md and docs/data-model.md.
fn operations_table(results: &Value) -> String {
    let runs = results["runs"].as_array().cloned().unwrap_or_default();
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let mut out = String::new();
    out.push_str("| operation | contacts | calls | write requests | RCU | WCU | median ms |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for run in &runs {
        let size = run["contacts"].as_u64().unwrap_or(0);
        for op in run["operations"].as_array().into_iter().flatten() {
            let mut name = op["operation"].as_str().unwrap_or("?").to_string();
            if let Some(n) = op["invocations"].as_u64() {
                name.push_str(&format!(" ({n} invocations, {:.0} rows/s)", f(&op["rows_per_second"])));
            }
            out.push_str(&format!(
                "| {} | {size} | {} | {} | {:.1} | {:.1} | {:.1} |\n",
                name,
                count(&op["calls"]),
                count(&op["write_requests"]),
                f(&op["read_units"]),
                f(&op["write_units"]),
                f(&op["median_ms"]),
            ));
        }
        let b = &run["naive_list"];
        if b.is_null() {
            continue;
        }
        out.push_str(&format!(
            "| naive list: Scan + filter + sort in memory ({:.0}× our list's RCU) | {size} | {} | 0 | {:.1} | 0.0 | {:.1} |\n",
            f(&b["ratio_to_ours"]),
            b["calls"].as_u64().unwrap_or(0),
            f(&b["read_units"]),
            f(&b["ms"]),
        ));
    }
    out
}

/// The figures as Markdown tables: printed, and put into docs/benchmarks.md by a full run.
fn tables(results: &Value) -> String {
    let runs = results["runs"].as_array().cloned().unwrap_or_default();
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let mut out = operations_table(results);
    out.push('\n');
    out.push_str(&targets_table(results));
    out.push_str("\n| contacts | load s | emulator RSS MB before load | after load |\n|---:|---:|---:|---:|\n");
    for run in &runs {
        let l = &run["load"];
        out.push_str(&format!(
            "| {} | {:.1} | {:.0} | {:.0} |\n",
            run["contacts"].as_u64().unwrap_or(0),
            f(&l["seconds"]),
            f(&l["emulator_rss_kb_before"]) / 1024.0,
            f(&l["emulator_rss_kb_after"]) / 1024.0,
        ));
    }
    let cpu = &results["cpu"];
    if let Some(ops) = cpu["operations"].as_array() {
        out.push_str(&format!(
            "
| CPU per call, emulator excluded ({} build, median of {} rounds of {}) | events | ns per call |
|---|---:|---:|
",
            cpu["profile"].as_str().unwrap_or("?"),
            cpu["rounds"].as_u64().unwrap_or(0),
            cpu["iterations"].as_u64().unwrap_or(0),
        ));
        for op in ops {
            out.push_str(&format!(
                "| {} | {} | {:.0} |
",
                op["operation"].as_str().unwrap_or("?"),
                op["events"].as_u64().unwrap_or(0),
                f(&op["ns"]),
            ));
        }
    }
    let export = &results["export"];
    if let Some(runs) = export["runs"].as_array() {
        out.push_str(&format!(
            "
| export ({} build) | rows | peak RSS MB | rows per second | file MB | parts |
|---|---:|---:|---:|---:|---:|
",
            export["profile"].as_str().unwrap_or("?"),
        ));
        for r in runs {
            out.push_str(&format!(
                "| {} | {} | {:.0} | {:.0} | {:.1} | {} |
",
                r["format"].as_str().unwrap_or("?"),
                r["rows"].as_u64().unwrap_or(0),
                f(&r["peak_rss_kb"]) / 1024.0,
                f(&r["rows_per_second"]),
                f(&r["bytes"]) / 1_048_576.0,
                r["parts"].as_u64().unwrap_or(0),
            ));
        }
    }
    if !results["coldstart"].is_null() {
        out.push('\n');
        out.push_str(&coldstart_table(&results["coldstart"]));
    }
    let m = &results["machine"];
    out.push_str(&format!(
        "\nCommit `{}`, {}, {} cores, {:.1} GB memory.\n",
        results["commit"].as_str().unwrap_or("?").get(..10).unwrap_or("?"),
        results["date"].as_str().unwrap_or("?").get(..10).unwrap_or("?"),
        m["nproc"].as_u64().unwrap_or(0),
        f(&m["memory_kb"]) / 1024.0 / 1024.0,
    ));
    out
}

/// Issue 13's targets: the operation, what it cost before the write path was rebuilt
/// (the measurement), the figure the target is on, and its bound.
const TARGETS: [(&str, f64, &str, f64); 9] = [
    ("capture: next message of a known visitor", 25.0, "write_units", 6.0),
    ("capture: first message of a new visitor", 68.0, "write_units", 20.0),
    ("create", 106.0, "write_units", 30.0),
    ("edit (name)", f64::NAN, "write_units", 8.0),
    ("list: no filter", 3.0, "read_units", 1.5),
    ("list: channel", 3.0, "read_units", 1.5),
    ("list: status", 3.0, "read_units", 1.5),
    ("list: tag", 3.0, "read_units", 1.5),
    ("list: search", 5.0, "read_units", 3.0),
];

/// Each target of the write path against every size measured: the figure, before/now, met.
fn targets_table(results: &Value) -> String {
    let runs = results["runs"].as_array().cloned().unwrap_or_default();
    let mut out = String::from("| operation | contacts | units | target | before | now | before ÷ now | met |\n");
    out.push_str("|---|---:|---|---:|---:|---:|---:|---|\n");
    for (name, before, figure, bound) in TARGETS {
        for run in &runs {
            let Some(op) = run["operations"].as_array().into_iter().flatten().find(|o| o["operation"] == name) else {
                continue;
            };
            let now = op[figure].as_f64().unwrap_or(f64::NAN);
            let units = if figure == "write_units" { "WCU" } else { "RCU" };
            let (before_text, ratio) = if before.is_nan() {
                ("–".to_string(), "–".to_string())
            } else {
                (format!("{before:.1}"), format!("{:.1}×", before / now))
            };
            out.push_str(&format!(
                "| {name} | {} | {units} | ≤ {bound:.1} | {before_text} | {now:.1} | {ratio} | {} |\n",
                run["contacts"].as_u64().unwrap_or(0),
                if now <= bound { "yes" } else { "**no**" },
            ));
        }
    }
    out
}

const DOCS: &str = "docs/benchmarks.md";
const BEGIN: &str = "<!-- bench:begin -->";
const END: &str = "<!-- bench:end -->";
const DATA_MODEL: &str = "docs/data-model.md";
const COSTS_BEGIN: &str = "<!-- bench:costs:begin -->";
const COSTS_END: &str = "<!-- bench:costs:end -->";

/// Puts the tables between the markers of docs/benchmarks.md, and the costs and targets
/// between those of docs/data-model.md.
fn update_docs(results: &Value, tables: &str) -> Result<(), String> {
    replace_between(DOCS, BEGIN, END, tables)?;
    let costs = format!("{}\n{}", operations_table(results), targets_table(results));
    replace_between(DATA_MODEL, COSTS_BEGIN, COSTS_END, &costs)
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn mem_total_kb() -> u64 {
    proc_kb("/proc/meminfo", "MemTotal:")
}
