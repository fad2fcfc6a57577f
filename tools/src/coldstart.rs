//! The cold-start part of `make bench`: every function built `--release` for arm64 and
//! x86_64 with cargo-lambda, its binary and zip sizes, and init and first-invoke times
//! against the local Runtime API (`runtime_api`), beside the `hello-lambda` baseline: the
//! x86_64 builds run natively, the arm64 ones under qemu's user-mode emulator when it is
//! installed (their times are the emulator's; only their ratios to the baseline, emulated
//! alike, say something of Graviton). docs/benchmarks.md explains the figures.

use crate::runtime_api::{Observed, RuntimeApi};
use crate::template::{Function, Template};
use crate::{handlers, stack};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// The baseline: lambda_runtime's loop around an echo, nothing of ours (`crates/hello-lambda`).
pub const HELLO: &str = "hello-lambda";
/// How long a start or an answer may take before the sample counts as failed.
const PATIENCE: Duration = Duration::from_secs(20);
/// The memory the template gives every function (its `Globals`).
const MEMORY_MB: &str = "256";

/// A Lambda architecture: its name, cargo-lambda's flag, and the rust target.
#[derive(Debug, Clone, Copy)]
pub struct Arch {
    pub name: &'static str,
    pub flag: &'static str,
    pub triple: &'static str,
}

pub const X86_64: Arch = Arch { name: "x86_64", flag: "--x86-64", triple: "x86_64-unknown-linux-gnu" };
pub const ARM64: Arch = Arch { name: "arm64", flag: "--arm64", triple: "aarch64-unknown-linux-gnu" };

/// Where an architecture's bootstraps go: `target/lambda/<arch>/<function>/bootstrap(.zip)`.
pub fn lambda_dir(arch: Arch) -> PathBuf {
    PathBuf::from("target/lambda").join(arch.name)
}

/// cargo-lambda: the project's virtualenv's (`make bench` installs it there), else the PATH's.
pub fn cargo_lambda() -> Option<PathBuf> {
    let venv = PathBuf::from(".venv/bin/cargo-lambda");
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("cargo-lambda")).find(|p| p.is_file())
}

/// Whether rustup has the architecture's standard library (arm64 is a cross build here).
pub fn target_installed(arch: Arch) -> bool {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output();
    let Ok(out) = out else { return false };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    sysroot.join("lib/rustlib").join(arch.triple).is_dir()
}

/// How to run arm64 binaries on this machine: qemu's user-mode emulator with Debian's arm64
/// C library (packages qemu-user-static and libc6-arm64-cross), or None.
pub fn arm64_runner() -> Option<Vec<String>> {
    let sysroot = Path::new("/usr/aarch64-linux-gnu");
    if !sysroot.join("lib/ld-linux-aarch64.so.1").exists() {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    let qemu = ["qemu-aarch64-static", "qemu-aarch64"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())?;
    Some(vec![qemu.display().to_string(), "-L".into(), sysroot.display().to_string()])
}

/// Builds every function and the baseline for `arch`, as a binary and as a zip, with the
/// workspace's release profile; cargo rebuilds only what changed. Returns the seconds taken.
pub fn build(cargo_lambda: &Path, arch: Arch) -> Result<f64, String> {
    let started = Instant::now();
    let dir = lambda_dir(arch);
    // cargo-lambda finds zig as `python3 -m ziglang`: the python beside it (the virtualenv's).
    let bin = cargo_lambda.parent().map(Path::to_path_buf).unwrap_or_default();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path))).map_err(|e| e.to_string())?;
    for format in ["binary", "zip"] {
        let status = Command::new(cargo_lambda)
            .env("PATH", &path)
            .args(["lambda", "build", "--release", arch.flag, "--output-format", format])
            .args(["-p", "contacts-functions", "-p", HELLO, "--lambda-dir"])
            .arg(&dir)
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| format!("{}: {e}", cargo_lambda.display()))?;
        if !status.success() {
            return Err(format!("cargo lambda build {} ({format}) failed: {status}", arch.flag));
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// The functions of the template (their binaries), then the baseline.
pub fn binaries(template: &Template) -> Vec<String> {
    let mut names: Vec<String> = template.functions.iter().map(|f| f.binary.clone()).collect();
    names.sort();
    names.push(HELLO.to_string());
    names
}

fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Binary and zip bytes of each function found under `dir`.
pub fn sizes(dir: &Path, names: &[String]) -> Vec<Value> {
    names
        .iter()
        .filter_map(|name| {
            let binary = file_size(&dir.join(name).join("bootstrap"))?;
            let zip = file_size(&dir.join(name).join("bootstrap.zip"));
            Some(json!({ "function": name, "binary_bytes": binary, "zip_bytes": zip }))
        })
        .collect()
}

/// The variables Lambda gives a function (reserved ones with dummy credentials, the region,
/// the Runtime API) plus the template's for it, their references given placeholder values:
/// nothing a function reads at init needs the network.
pub fn environment(
    template: &Template,
    function: Option<&Function>,
    api: &RuntimeApi,
) -> Result<HashMap<String, String>, String> {
    let mut env: HashMap<String, String> = HashMap::new();
    let name = function.map_or(HELLO, |f| f.binary.as_str());
    if let Some(function) = function {
        let mut resolved: HashMap<String, String> = template.parameters.iter().cloned().collect();
        for q in &template.queues {
            resolved.insert(
                q.logical_id.clone(),
                format!("https://sqs.us-east-1.amazonaws.com/123456789012/{}", q.logical_id),
            );
        }
        for b in &template.buckets {
            resolved.insert(b.logical_id.clone(), b.logical_id.to_lowercase());
        }
        for t in &template.tables {
            resolved.insert(t.logical_id.clone(), t.logical_id.clone());
        }
        // A key's ARN: nothing asks KMS before a secret is sealed or opened.
        for k in &template.kms_keys {
            resolved.insert(k.clone(), format!("arn:aws:kms:us-east-1:123456789012:key/{k}"));
        }
        resolved.entry("CursorKey".into()).or_insert_with(|| stack::LOCAL_CURSOR_KEY.into());
        resolved.entry("KeyPepper".into()).or_insert_with(|| stack::LOCAL_KEY_PEPPER.into());
        env = handlers::environment(function, &resolved, &HashMap::new()).map_err(|e| e.to_string())?;
    }
    let reserved = [
        ("AWS_LAMBDA_RUNTIME_API", api.address()),
        // Every AWS call goes to the Runtime API's listener, which answers with empty results.
        ("AWS_ENDPOINT_URL", api.endpoint()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "bench".into()),
        ("AWS_SECRET_ACCESS_KEY", "bench".into()),
        ("AWS_SESSION_TOKEN", "bench".into()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_MB.into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("_HANDLER", "bootstrap".into()),
        ("TZ", ":UTC".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
    ];
    env.extend(reserved.into_iter().map(|(k, v)| (k.to_string(), v)));
    Ok(env)
}

/// API Gateway's HTTP API event (payload 2.0) for `route` (as the template names it) at
/// `path`, without credentials.
fn http_event(route: &str, path: &str, path_parameters: Value) -> Value {
    let (method, _) = route.split_once(' ').unwrap_or(("GET", ""));
    json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": { "accept": "*/*", "host": "bench.local", "user-agent": "bench" },
        "pathParameters": path_parameters,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.local",
            "domainPrefix": "bench",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench" },
            "requestId": "bench-request",
            "routeKey": route,
            "stage": "$default",
            "time": "29/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_953_600_000u64
        },
        "isBase64Encoded": false
    })
}

/// The first invocation's event and what it asks: a request each function answers without
/// I/O where there is one; the scheduled jobs' first step is a DynamoDB call, answered
/// with empty results by the local listener.
pub fn first_event(function: Option<&Function>) -> (Value, String) {
    let Some(f) = function else {
        return (json!({ "hello": "world" }), "an event, echoed".into());
    };
    match f.binary.as_str() {
        "contacts-api" => {
            (http_event("GET /api/v1/contacts", "/api/v1/contacts", Value::Null), "GET /api/v1/contacts, no key".into())
        }
        "dashboard" => (http_event("GET /login", "/login", Value::Null), "GET /login".into()),
        "webhooks" => (
            http_event(
                "POST /webhooks/telegram/{bot_id}",
                "/webhooks/telegram/not-a-bot",
                json!({ "bot_id": "not-a-bot" }),
            ),
            "POST /webhooks/telegram/{bot_id}, malformed id".into(),
        ),
        _ if !f.queues.is_empty() => (json!({ "Records": [] }), "an empty SQS batch".into()),
        _ if !f.streams.is_empty() => (json!({ "Records": [] }), "an empty stream batch".into()),
        _ if !f.schedules.is_empty() => (
            json!({
                "version": "0",
                "id": "bench",
                "detail-type": "Scheduled Event",
                "source": "aws.scheduler",
                "account": "123456789012",
                "time": "2026-11-29T12:00:00Z",
                "region": "us-east-1",
                "resources": [],
                "detail": {}
            }),
            "scheduled event, DynamoDB answering empty".into(),
        ),
        _ => match f.routes.first() {
            Some(r) => (http_event(&r.key(), &r.path, Value::Null), format!("{}, no credentials", r.key())),
            None => (json!({}), "an empty event".into()),
        },
    }
}

/// One cold start: process start to the first `next` (init), event handed to answer
/// (first invoke), the process's peak memory then, and the answer.
#[derive(Debug, Clone)]
pub struct Sample {
    pub init: Duration,
    pub first_invoke: Duration,
    pub peak_rss_kb: u64,
    pub aws_calls: usize,
    pub answer: String,
}

/// What an answer says in a few words: an HTTP function's status, else the body's start.
fn summarize(ok: bool, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let value: Option<Value> = serde_json::from_slice(body).ok();
    match value.as_ref().and_then(|v| v.get("statusCode")).and_then(Value::as_u64) {
        Some(status) => format!("HTTP {status}"),
        None if ok => text.chars().take(60).collect(),
        None => format!("error: {}", text.chars().take(100).collect::<String>()),
    }
}

async fn next(watch: &mut UnboundedReceiver<Observed>, child: &mut tokio::process::Child) -> Result<Observed, String> {
    tokio::select! {
        o = watch.recv() => o.ok_or_else(|| "the runtime API stopped".to_string()),
        status = child.wait() => Err(format!("the function exited ({})", status.map_or_else(|e| e.to_string(), |s| s.to_string()))),
        _ = tokio::time::sleep(PATIENCE) => Err(format!("nothing from the function in {} s", PATIENCE.as_secs())),
    }
}

/// Starts `binary` as Lambda would (through `runner`, e.g. an emulator, when not empty),
/// hands it `event`, and times its start and first answer.
pub async fn cold_start(
    binary: &Path,
    runner: &[String],
    template: &Template,
    function: Option<&Function>,
    event: &Value,
    log: &Path,
) -> Result<Sample, String> {
    let name = function.map_or(HELLO, |f| f.binary.as_str());
    let (api, mut watch) =
        RuntimeApi::start(&format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"), Duration::from_secs(10))
            .await
            .map_err(|e| format!("runtime API: {e}"))?;
    let env = environment(template, function, &api)?;
    let request_id = api.invoke(serde_json::to_vec(event).expect("json"));
    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let dir = binary.parent().unwrap_or(Path::new("."));
    let started = Instant::now();
    let mut command = match runner.split_first() {
        Some((program, args)) => {
            let mut c = tokio::process::Command::new(program);
            c.args(args).arg(binary);
            c
        }
        None => tokio::process::Command::new(binary),
    };
    let mut child = command
        .env_clear()
        .envs(&env)
        .env("LAMBDA_TASK_ROOT", dir)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let pid = child.id().unwrap_or(0);
    let (mut ready, mut handed, mut aws_calls) = (None, None, 0);
    let sample = loop {
        match next(&mut watch, &mut child).await? {
            Observed::Next { at } => {
                ready.get_or_insert(at);
            }
            Observed::Handed { at, .. } => handed = Some(at),
            Observed::Aws { .. } => aws_calls += 1,
            Observed::InitError { body, .. } => {
                return Err(format!("init error: {}", String::from_utf8_lossy(&body)));
            }
            Observed::Response { request_id: id, at, body } if id == request_id => break (at, summarize(true, &body)),
            Observed::Error { request_id: id, at, body, .. } if id == request_id => {
                break (at, summarize(false, &body))
            }
            Observed::Response { .. } | Observed::Error { .. } => {}
        }
    };
    let peak_rss_kb = peak_rss_kb(pid);
    let _ = child.kill().await;
    let (Some(ready), Some(handed)) = (ready, handed) else {
        return Err("the function answered without asking for the event".into());
    };
    Ok(Sample { init: ready - started, first_invoke: sample.0 - handed, peak_rss_kb, aws_calls, answer: sample.1 })
}

/// The process's peak resident memory so far (`VmHWM` of /proc/<pid>/status, kB).
fn peak_rss_kb(pid: u32) -> u64 {
    crate::figures::proc_kb(&format!("/proc/{pid}/status"), "VmHWM:")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

/// `samples` cold starts of each function under `dir`, through `runner` if not empty (one
/// untimed start first, so the binary is in the page cache as Lambda's is after download):
/// medians, and the ratio of each function's to the baseline's.
pub async fn measure(
    dir: &Path,
    runner: &[String],
    template: &Template,
    names: &[String],
    samples: usize,
) -> Result<Vec<Value>, String> {
    let logs = PathBuf::from("target/bench/coldstart-logs").join(dir.file_name().unwrap_or_default());
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut rows = Vec::new();
    for name in names {
        let binary = std::fs::canonicalize(dir.join(name).join("bootstrap"))
            .map_err(|e| format!("{}/{name}/bootstrap: {e}", dir.display()))?;
        let function = template.functions.iter().find(|f| &f.binary == name);
        let (event, request) = first_event(function);
        let log = logs.join(format!("{name}.log"));
        let mut runs = Vec::new();
        for i in 0..=samples {
            let s = cold_start(&binary, runner, template, function, &event, &log)
                .await
                .map_err(|e| format!("{name}: {e} (its output: {})", log.display()))?;
            if i > 0 {
                runs.push(s);
            }
        }
        let ms = |f: fn(&Sample) -> Duration| median(runs.iter().map(|s| f(s).as_secs_f64() * 1000.0).collect());
        let (init, invoke) = (ms(|s| s.init), ms(|s| s.first_invoke));
        let last = runs.last().cloned().ok_or("no samples")?;
        eprintln!("bench: {name}: init {init:.2} ms, first invoke {invoke:.2} ms ({})", last.answer);
        rows.push(json!({
            "function": name,
            "request": request,
            "answer": last.answer,
            "aws_calls": last.aws_calls,
            "init_ms": init,
            "first_invoke_ms": invoke,
            "init_ms_samples": runs.iter().map(|s| s.init.as_secs_f64() * 1000.0).collect::<Vec<_>>(),
            "first_invoke_ms_samples": runs.iter().map(|s| s.first_invoke.as_secs_f64() * 1000.0).collect::<Vec<_>>(),
            "peak_rss_kb": median(runs.iter().map(|s| s.peak_rss_kb as f64).collect()),
        }));
    }
    let base = rows.iter().find(|r| r["function"] == HELLO).cloned();
    if let Some(base) = base {
        for row in &mut rows {
            for (key, ratio) in [("init_ms", "init_ratio"), ("first_invoke_ms", "first_invoke_ratio")] {
                let b = base[key].as_f64().unwrap_or(0.0);
                row[ratio] = json!(if b > 0.0 { row[key].as_f64().unwrap_or(0.0) / b } else { 0.0 });
            }
        }
    }
    Ok(rows)
}
