//! `make load`: a bounded load test against the running `make dev` (127.0.0.1 only).
//!
//! Creates a bot with secrets for the five channels through the API, then sends
//! `LOAD_VISITORS` (200) new visitors' `LOAD_EVENTS_EACH` (10) messages each, spread over
//! Telegram, Messenger, WhatsApp, the widget and live chat, signed as each channel signs
//! them, at `LOAD_CONCURRENCY` (64) requests at a time (a visitor's messages in order, as a
//! channel delivers them; a non-2xx answer is sent again, as channels do). It then waits,
//! at most `LOAD_TIMEOUT_SECONDS` (1800) in all, until the workspace's counts show every
//! visitor as one new contact and every message once, and checks that the capture
//! dead-letter queue is empty. It reports webhook latency (p50, p99) and capture throughput,
//! writes target/bench/load.json and puts the table into docs/benchmarks.md. It stops by
//! itself, failing when a count is off or time runs out.

use chrono::Utc;
use contacts_tools::figures::{git_commit, replace_between};
use model::channels::{meta, widget};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

const CHANNELS: [&str; 5] = ["telegram", "messenger", "whatsapp", "frame", "livechat"];
const DOCS: &str = "docs/benchmarks.md";
const BEGIN: &str = "<!-- load:begin -->";
const END: &str = "<!-- load:end -->";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string())
}

fn env_number(name: &str, default: u64) -> Result<u64, String> {
    env_or(name, &default.to_string()).parse().map_err(|_| format!("{name} must be a number"))
}

struct Load {
    base: String,
    key: String,
    http: reqwest::Client,
    bot: String,
    secret: String,
    /// Tells this run's visitors from every earlier run's.
    run: u64,
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("load: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let base = env_or("LOAD_URL", "http://127.0.0.1:3000");
    let host = reqwest::Url::parse(&base).map_err(|e| format!("LOAD_URL: {e}"))?.host_str().unwrap_or("").to_string();
    if !matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!("LOAD_URL must be on this machine (127.0.0.1), not {host}"));
    }
    let visitors = env_number("LOAD_VISITORS", 200)?;
    let each = env_number("LOAD_EVENTS_EACH", 10)?;
    let concurrency = env_number("LOAD_CONCURRENCY", 64)? as usize;
    let deadline = Instant::now() + Duration::from_secs(env_number("LOAD_TIMEOUT_SECONDS", 1800)?);
    let key = env_or("DEV_API_KEY", "abc_dev_local_demo_key_do_not_use_in_prod");
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().map_err(|e| e.to_string())?;
    let secret = format!("load-{}", model::hex::random(8));
    let mut load = Load { base, key, http, bot: String::new(), secret, run: Utc::now().timestamp() as u64 % 100_000 };
    load.bot = load.create_bot().await?;
    let before = load.counts().await?;
    eprintln!("load: {visitors} visitors × {each} messages over {} channels, {concurrency} at a time", CHANNELS.len());

    let started = Instant::now();
    let load = Arc::new(load);
    let permits = Arc::new(Semaphore::new(concurrency));
    let tasks: Vec<_> = (0..visitors)
        .map(|v| {
            let (load, permits) = (load.clone(), permits.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut resent = 0u64;
                for n in 0..each {
                    let _permit = permits.acquire().await.expect("open semaphore");
                    let (ms, tries) = load.deliver(v, n).await?;
                    latencies.push(ms);
                    resent += tries - 1;
                }
                Ok::<_, String>((latencies, resent))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut resent = 0;
    for task in tasks {
        let (l, r) = task.await.map_err(|e| e.to_string())??;
        latencies.extend(l);
        resent += r;
    }
    let sent_in = started.elapsed();
    eprintln!("load: {} events handed off in {:.1} s; waiting for capture", latencies.len(), sent_in.as_secs_f64());

    let per_channel = visitors / CHANNELS.len() as u64;
    let expected_channel = |c: &str, i: usize| {
        per_channel
            + u64::from((i as u64) < visitors % CHANNELS.len() as u64)
            + before.channels.get(c).copied().unwrap_or(0)
    };
    let expected_messages = before.messages + visitors * each;
    let captured_in = loop {
        let now = load.counts().await?;
        let channels_done = CHANNELS
            .iter()
            .enumerate()
            .all(|(i, c)| now.channels.get(*c).copied().unwrap_or(0) >= expected_channel(c, i));
        if channels_done && now.messages >= expected_messages {
            let elapsed = started.elapsed();
            // Counted: nothing may arrive twice afterwards.
            tokio::time::sleep(Duration::from_secs(5)).await;
            let settled = load.counts().await?;
            for (i, c) in CHANNELS.iter().enumerate() {
                let (got, want) = (settled.channels.get(*c).copied().unwrap_or(0), expected_channel(c, i));
                if got != want {
                    return Err(format!("{c}: {got} contacts, expected {want}"));
                }
            }
            if settled.messages != expected_messages {
                return Err(format!("{} messages counted, expected {expected_messages}", settled.messages));
            }
            break elapsed;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "time is up: {:?} contacts per channel and {} messages so far, expected {} messages",
                now.channels, now.messages, expected_messages
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let dead = dead_letters().await?;
    if dead > 0 {
        return Err(format!("{dead} messages in the capture dead-letter queue"));
    }

    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    let events = latencies.len() as f64;
    let results = json!({
        "date": Utc::now().to_rfc3339(),
        "commit": git_commit(),
        "visitors": visitors,
        "events": latencies.len(),
        "concurrency": concurrency,
        "resent": resent,
        "webhook_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0)},
        "handed_off_seconds": sent_in.as_secs_f64(),
        "captured_seconds": captured_in.as_secs_f64(),
        "webhook_events_per_second": events / sent_in.as_secs_f64(),
        "capture_events_per_second": events / captured_in.as_secs_f64(),
        "dead_letters": dead,
    });
    let table = table(&results);
    println!("{table}");
    std::fs::create_dir_all("target/bench").map_err(|e| e.to_string())?;
    std::fs::write("target/bench/load.json", serde_json::to_string_pretty(&results).expect("json") + "\n")
        .map_err(|e| e.to_string())?;
    replace_between(DOCS, BEGIN, END, &table)
}

/// The workspace's contacts per channel and the messages counted today and yesterday.
struct Counts {
    channels: BTreeMap<String, u64>,
    messages: u64,
}

impl Load {
    async fn create_bot(&self) -> Result<String, String> {
        let meta = json!({"app_secret": self.secret, "verify_token": self.secret});
        let body = json!({
            "name": format!("Load test {}", self.run),
            "channels": {"telegram": {"secret_token": self.secret}, "messenger": meta, "whatsapp": meta,
                         "frame": {"signing_secret": self.secret}, "livechat": {"signing_secret": self.secret}}
        });
        let r = self.http.post(format!("{}/api/v1/bots", self.base)).bearer_auth(&self.key).json(&body).send().await;
        let r = r.map_err(|e| format!("is `make dev` running on {}? {e}", self.base))?;
        let status = r.status();
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        match body["id"].as_str() {
            Some(id) if status.is_success() => Ok(id.to_string()),
            _ => Err(format!("creating the load test's bot answered {status}: {body}")),
        }
    }

    async fn counts(&self) -> Result<Counts, String> {
        let today = Utc::now().date_naive();
        let from = today - chrono::Duration::days(1);
        let url = format!("{}/api/v1/analytics?from={from}&to={today}", self.base);
        let r = self.http.get(url).bearer_auth(&self.key).send().await.map_err(|e| e.to_string())?;
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        let channels =
            CHANNELS.iter().map(|c| (c.to_string(), body["channels"][c]["count"].as_u64().unwrap_or(0))).collect();
        let messages =
            body["daily"].as_array().into_iter().flatten().map(|d| d["messages"].as_u64().unwrap_or(0)).sum();
        Ok(Counts { channels, messages })
    }

    /// Sends visitor `v`'s message `n` until it is accepted; its latency in ms and the tries.
    async fn deliver(&self, v: u64, n: u64) -> Result<(f64, u64), String> {
        let channel = CHANNELS[(v % CHANNELS.len() as u64) as usize];
        let (body, headers) = self.event(channel, v, n);
        for tries in 1..=5u64 {
            let mut request = self.http.post(format!("{}/webhooks/{channel}/{}", self.base, self.bot));
            request = request.header("content-type", "application/json").body(body.clone());
            for (name, value) in &headers {
                request = request.header(*name, value);
            }
            let t = Instant::now();
            let answer = request.send().await;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            match answer {
                Ok(r) if r.status().is_success() => return Ok((ms, tries)),
                Ok(r) if r.status().is_client_error() => {
                    return Err(format!(
                        "{channel} event refused: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    ))
                }
                _ => tokio::time::sleep(Duration::from_millis(200 * tries)).await,
            }
        }
        Err(format!("{channel}: visitor {v}'s message {n} was not accepted in 5 tries"))
    }

    /// The channel's webhook body for visitor `v`'s message `n`, and its signature headers.
    fn event(&self, channel: &str, v: u64, n: u64) -> (Vec<u8>, Vec<(&'static str, String)>) {
        let now = Utc::now();
        let text = format!("load {} visitor {v} message {n}", self.run);
        let visitor = self.run * 100_000 + v;
        let body = match channel {
            "telegram" => json!({
                "update_id": visitor * 100 + n,
                "message": {
                    "message_id": n + 1,
                    "from": {"id": 8_000_000_000u64 + visitor, "is_bot": false, "first_name": "Load", "last_name": format!("Visitor {v}")},
                    "chat": {"id": 8_000_000_000u64 + visitor, "type": "private"},
                    "date": now.timestamp(),
                    "text": text
                }
            }),
            "messenger" => json!({
                "object": "page",
                "entry": [{"id": "108842519372210", "time": now.timestamp_millis(), "messaging": [{
                    "sender": {"id": format!("{}", 7_000_000_000_000_000u64 + visitor)},
                    "recipient": {"id": "108842519372210"},
                    "timestamp": now.timestamp_millis(),
                    "message": {"mid": format!("m_load_{visitor}_{n}"), "text": text}
                }]}]
            }),
            "whatsapp" => {
                let wa_id = format!("491590{:07}", visitor % 10_000_000);
                json!({
                    "object": "whatsapp_business_account",
                    "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                        "contacts": [{"profile": {"name": format!("Load Visitor {v}")}, "wa_id": wa_id}],
                        "messages": [{"from": wa_id, "id": format!("wamid.load.{visitor}.{n}"), "timestamp": now.timestamp().to_string(), "type": "text", "text": {"body": text}}]
                    }}]}]
                })
            }
            _ => json!({
                "event_id": format!("evt_load_{visitor}_{n}"),
                "type": "message",
                "visitor_id": format!("v_load_{visitor}"),
                "conversation_id": format!("c_load_{visitor}"),
                "occurred_at": now.to_rfc3339(),
                "role": "user",
                "text": text
            }),
        };
        let body = serde_json::to_vec(&body).expect("json");
        let headers = match channel {
            "telegram" => vec![("x-telegram-bot-api-secret-token", self.secret.clone())],
            "messenger" | "whatsapp" => vec![("x-hub-signature-256", meta::sign(&self.secret, &body))],
            _ => {
                let ts = now.timestamp();
                vec![
                    ("x-contacts-timestamp", ts.to_string()),
                    ("x-contacts-signature", widget::sign(&self.secret, ts, &body)),
                ]
            }
        };
        (body, headers)
    }
}

/// Messages waiting in the local capture dead-letter queue (the emulator of `make dev`).
async fn dead_letters() -> Result<u64, String> {
    let endpoint = env_or("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{}", env_or("EMULATOR_PORT", "4566")));
    let sqs = aws_sdk_sqs::Client::new(&contacts_tools::local::aws_config(&endpoint).await);
    let url = sqs
        .get_queue_url()
        .queue_name("local-CaptureDeadLetterQueue.fifo")
        .send()
        .await
        .map_err(|e| format!("the capture dead-letter queue: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .queue_url
        .unwrap_or_default();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
    Ok(attributes
        .attributes
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages).cloned())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0))
}

fn table(r: &Value) -> String {
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    format!(
        "| events | visitors | concurrency | webhook p50 ms | p90 | p99 | max | handed off per s | captured per s | resent | dead letters |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n\
         | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {:.0} | {} | {} |\n\
         \nCommit `{}`, {}, against `make dev` (moto) on this machine.\n",
        r["events"],
        r["visitors"],
        r["concurrency"],
        f(&r["webhook_ms"]["p50"]),
        f(&r["webhook_ms"]["p90"]),
        f(&r["webhook_ms"]["p99"]),
        f(&r["webhook_ms"]["max"]),
        f(&r["webhook_events_per_second"]),
        f(&r["capture_events_per_second"]),
        r["resent"],
        r["dead_letters"],
        r["commit"].as_str().unwrap_or("?").get(..10).unwrap_or("?"),
        r["date"].as_str().unwrap_or("?").get(..10).unwrap_or("?"),
    )
}
