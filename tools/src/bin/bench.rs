//! `make bench`: what each operation costs in DynamoDB calls, write requests and capacity
//! units at 1k, 10k (and 100k) contacts, how long loading takes and how much memory the
//! emulator holds, and a naive Scan-based listing beside ours. Prints one table and
//! writes bench/results.json; docs/benchmarks.md explains each figure.
//!
//! Every size runs on a fresh emulator (moto) started here, so the Scan baseline reads
//! only that size's workspace and the emulator's memory is that size's.

use chrono::{Duration, Utc};
use contacts_tools::{bootstrap, demo, local, template};
use model::channels::{CaptureEvent, CaptureKind, MessageRole, ProfileHints};
use model::contact::{Change, ContactPatch};
use model::domain::{Channel, ContactId, Name, WorkspaceId};
use model::listing::ListRequest;
use model::usecases::capture::{capture, CaptureSettings};
use model::usecases::contacts;
use model::workspace::Workspace;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Instant;
use store::meter::{self, metered, Usage};
use store::Store;

const TABLE: &str = "ai-bot-contacts-bench";
/// Repetitions of each measured operation; the median wall time is kept.
const REPEAT: usize = 5;

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes: &[u64] = if quick { &[1_000] } else { &[1_000, 10_000] };
    let started = Instant::now();
    let mut runs = Vec::new();
    for &size in sizes {
        match run(size).await {
            Ok(r) => runs.push(r),
            Err(e) => {
                eprintln!("bench: {size} contacts: {e}");
                std::process::exit(1);
            }
        }
    }
    print_table(&runs);
    let results = json!({
        "commit": git_commit(),
        "date": Utc::now().to_rfc3339(),
        "quick": quick,
        "machine": { "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()), "memory_kb": mem_total_kb() },
        "seconds": started.elapsed().as_secs_f64(),
        "runs": runs,
    });
    let path = PathBuf::from(env_or("BENCH_RESULTS", "bench/results.json"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    let text = serde_json::to_string_pretty(&results).expect("json") + "\n";
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("bench: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
    eprintln!("bench: wrote {} in {:.0} s", path.display(), started.elapsed().as_secs_f64());
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
    // Loading is not metered: it bills nothing we report, and the meter's reads would slow it.
    let loader = Store::new(client.clone(), TABLE).billing_from_items(false);
    let store = Store::new(client.clone(), TABLE).billing_from_items(true);
    let ws = WorkspaceId::parse("bench").map_err(|e| e.to_string())?;
    let mut workspace = Workspace::with_defaults(ws.clone());
    workspace.deletion_grace_days = 0;
    loader.put_workspace(&workspace).await.map_err(|e| e.to_string())?;

    let rss_before = rss_kb(pid);
    let t = Instant::now();
    demo::load_if_empty(&loader, &ws, size).await.map_err(|e| e.to_string())?;
    let load_seconds = t.elapsed().as_secs_f64();
    let rss_after = rss_kb(pid);
    eprintln!("bench: {size} contacts loaded in {load_seconds:.1} s");

    let mut ops = Vec::new();
    measure_capture(&store, &ws, &mut ops).await?;
    measure_listing(&store, &ws, &mut ops).await?;
    measure_contacts(&store, &workspace, &mut ops).await?;
    let baseline = naive_list(&client, &ws).await?;
    let ours = ops
        .iter()
        .find(|o| o["operation"] == "list: no filter")
        .map_or(0.0, |o| o["read_units"].as_f64().unwrap_or(0.0));
    drop(emulator);
    Ok(json!({
        "contacts": size,
        "load": { "seconds": load_seconds, "emulator_rss_kb_before": rss_before, "emulator_rss_kb_after": rss_after },
        "operations": ops,
        "naive_list": {
            "calls": baseline.calls,
            "read_units": baseline.read_units,
            "items_read": baseline.items,
            "ms": baseline.ms,
            "ratio_to_ours": if ours > 0.0 { baseline.read_units / ours } else { 0.0 },
        },
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
        let request = ListRequest::parse(ws, &params, Utc::now()).map_err(|e| format!("{name}: {e:?}"))?;
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
        |i| demo::contact(900_000 + i as u64, 1, now),
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
        |id| async move { contacts::delete(store, workspace, id, None).await.map(|_| ()).map_err(|e| e.to_string()) },
    )
    .await
}

struct Baseline {
    calls: u32,
    read_units: f64,
    items: usize,
    ms: f64,
}

/// The listing a first attempt would write: Scan the table, keep the workspace's
/// profiles, sort them newest first in memory, cut the first 25. Each Scan page is billed
/// like ours, on the bytes it read (eventually consistent).
async fn naive_list(client: &aws_sdk_dynamodb::Client, ws: &WorkspaceId) -> Result<Baseline, String> {
    let t = Instant::now();
    let prefix = format!("WS#{ws}#C#");
    let (mut calls, mut units, mut items_read) = (0, 0.0, 0);
    let mut profiles = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(TABLE)
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
    let created = |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        i.get("created_at").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
    };
    profiles.sort_by_key(|i| std::cmp::Reverse(created(i)));
    profiles.truncate(25);
    Ok(Baseline { calls, read_units: units, items: items_read, ms: t.elapsed().as_secs_f64() * 1000.0 })
}

fn print_table(runs: &[Value]) {
    println!();
    println!(
        "{:<44} {:>8} {:>6} {:>6} {:>8} {:>8} {:>9}",
        "operation", "contacts", "calls", "writes", "RCU", "WCU", "median ms"
    );
    for run in runs {
        let size = run["contacts"].as_u64().unwrap_or(0);
        for op in run["operations"].as_array().into_iter().flatten() {
            println!(
                "{:<44} {:>8} {:>6} {:>6} {:>8.1} {:>8.1} {:>9.1}",
                op["operation"].as_str().unwrap_or("?"),
                size,
                op["calls"].as_u64().unwrap_or(0),
                op["write_requests"].as_u64().unwrap_or(0),
                op["read_units"].as_f64().unwrap_or(0.0),
                op["write_units"].as_f64().unwrap_or(0.0),
                op["median_ms"].as_f64().unwrap_or(0.0),
            );
        }
        let b = &run["naive_list"];
        println!(
            "{:<44} {:>8} {:>6} {:>6} {:>8.1} {:>8.1} {:>9.1}   ({:.0}x our list's RCU)",
            "naive list: Scan + filter + sort in memory",
            size,
            b["calls"].as_u64().unwrap_or(0),
            0,
            b["read_units"].as_f64().unwrap_or(0.0),
            0.0,
            b["ms"].as_f64().unwrap_or(0.0),
            b["ratio_to_ours"].as_f64().unwrap_or(0.0),
        );
    }
    println!();
    println!("{:<10} {:>10} {:>16} {:>16}", "contacts", "load s", "emulator RSS MB", "(before load)");
    for run in runs {
        let l = &run["load"];
        println!(
            "{:<10} {:>10.1} {:>16.0} {:>16.0}",
            run["contacts"].as_u64().unwrap_or(0),
            l["seconds"].as_f64().unwrap_or(0.0),
            l["emulator_rss_kb_after"].as_f64().unwrap_or(0.0) / 1024.0,
            l["emulator_rss_kb_before"].as_f64().unwrap_or(0.0) / 1024.0,
        );
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Resident memory of a process, from /proc/<pid>/status (VmRSS, in kB).
fn rss_kb(pid: u32) -> u64 {
    proc_kb(&format!("/proc/{pid}/status"), "VmRSS:")
}

fn mem_total_kb() -> u64 {
    proc_kb("/proc/meminfo", "MemTotal:")
}

fn proc_kb(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
