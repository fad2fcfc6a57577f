//! `make bench IMPORT=N`: a CSV of N rows (1% bad emails, 5% duplicates of an earlier row)
//! imported through the whole local stack as a team would: `POST /api/v1/imports`, the
//! file PUT through its link, `start` with the duplicate rule `skip`, the import worker
//! from the imports queue, polled until done. Checks the exact counts and the report of
//! the bad rows; reports the time, the rows a second and the peak memory of the process
//! that runs the worker (reset before the import, so the file's size shows in it only
//! through what the worker holds).

use crate::figures::{peak_kb, reset_peak_memory, rss_kb};
use crate::{local, provision, server, stack, template};
use model::auth::{ApiKeyRecord, Scope};
use model::domain::WorkspaceId;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Every 100th row's email is broken (row numbers ≡ 3).
fn bad(i: u64) -> bool {
    i % 100 == 3
}

/// Every 20th row repeats the email of the row 7 before it, in capitals (≡ 7).
fn duplicate(i: u64) -> bool {
    i % 20 == 7
}

/// The file: a header and `rows` rows.
pub fn csv(rows: u64) -> String {
    let mut out = String::with_capacity(rows as usize * 60);
    out.push_str("Full name,E-mail,Labels\n");
    for i in 0..rows {
        let email = match i {
            i if bad(i) => format!("person{i}-at-example.com"),
            i if duplicate(i) => format!("PERSON{}@EXAMPLE.COM", i - 7),
            i => format!("person{i}@example.com"),
        };
        out.push_str(&format!("Person {i},{email},batch-{}\n", i % 10));
    }
    out
}

/// What the file must give: created, skipped, failed.
pub fn expected(rows: u64) -> (u64, u64, u64) {
    let failed = (0..rows).filter(|&i| bad(i)).count() as u64;
    let skipped = (0..rows).filter(|&i| duplicate(i)).count() as u64;
    (rows - failed - skipped, skipped, failed)
}

/// Runs the import of `rows` rows on a fresh emulator; the figures.
pub async fn run(moto: &std::path::Path, port: u16, rows: u64) -> Result<Value, String> {
    let emulator = local::start_emulator(moto, port).await?;
    let emulator_pid = emulator.id().ok_or("the emulator has no pid")?;
    let sdk = local::aws_config(&format!("http://127.0.0.1:{port}")).await;
    let template = template::Template::load(&template::default_path()).map_err(|e| e.to_string())?;
    let options = stack::StackOptions {
        table: "contacts-bench-import".into(),
        queue_prefix: "bench-import".into(),
        expose_usage: false,
        overrides: Default::default(),
        retry_after: Duration::from_secs(1),
    };
    let stack = std::sync::Arc::new(stack::start(&sdk, &template, options).await.map_err(|e| e.to_string())?);
    let ws = WorkspaceId::parse("bench-import").map_err(|e| e.to_string())?;
    let admin = ApiKeyRecord { workspace_id: ws.clone(), name: "bench".into(), scopes: Scope::ALL.to_vec() };
    let pepper = stack::local_key_pepper();
    let key = provision::workspace_with_key(&stack.store, &pepper, "Import bench", None, &admin, None)
        .await
        .map_err(|e| e.to_string())?;
    let key = key.expose_secret().to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let base = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(server::serve(listener, stack.router.clone(), std::future::pending()));
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str| http.request(method, format!("{base}{path}")).bearer_auth(&key);

    let file = csv(rows);
    let file_bytes = file.len();
    let created: Value =
        call(reqwest::Method::POST, "/api/v1/imports").send().await.map_err(err)?.json().await.map_err(err)?;
    let id = created["id"].as_str().ok_or(format!("no import: {created}"))?.to_string();
    let upload = created["upload_url"].as_str().ok_or("no upload link")?;
    let put = http.put(upload).body(file).send().await.map_err(err)?;
    if !put.status().is_success() {
        return Err(format!("upload: {}", put.status()));
    }
    reset_peak_memory();
    let rss_before = rss_kb("self");
    let started = Instant::now();
    let body = json!({"mapping": {"Full name": "name", "E-mail": "email", "Labels": "tags"},
        "default_channel": "frame", "duplicates": "skip", "dry_run": false});
    let start = call(reqwest::Method::POST, &format!("/api/v1/imports/{id}/start")).json(&body).send().await;
    let start = start.map_err(err)?;
    if start.status() != 202 {
        return Err(format!("start: {} {}", start.status(), start.text().await.unwrap_or_default()));
    }
    let import = loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let import: Value = call(reqwest::Method::GET, &format!("/api/v1/imports/{id}"))
            .send()
            .await
            .map_err(err)?
            .json()
            .await
            .map_err(err)?;
        if matches!(import["status"].as_str(), Some("done" | "failed")) {
            break import;
        }
        eprintln!(
            "bench: import {} of {rows} rows after {:.0} s",
            import["rows_done"],
            started.elapsed().as_secs_f64()
        );
    };
    let seconds = started.elapsed().as_secs_f64();
    let peak_kb = peak_kb();
    let emulator_kb = rss_kb(&emulator_pid.to_string());
    if import["status"] != "done" {
        return Err(format!("the import did not finish: {import}"));
    }
    let c = &import["counts"];
    let counts = ["created", "updated", "skipped", "failed"].map(|k| c[k].as_u64().unwrap_or(u64::MAX));
    let (created, skipped, failed) = expected(rows);
    if counts != [created, 0, skipped, failed] {
        return Err(format!("counts {counts:?}, expected {:?}", [created, 0, skipped, failed]));
    }
    let report = import["report_url"].as_str().ok_or("no report of the bad rows")?;
    let report = http.get(report).send().await.map_err(err)?.text().await.map_err(err)?;
    let report_rows = report.split("\r\n").filter(|l| !l.is_empty()).count() as u64 - 1;
    if report_rows != failed {
        return Err(format!("the report lists {report_rows} rows, not {failed}"));
    }
    drop(emulator);
    Ok(json!({
        "rows": rows,
        "file_bytes": file_bytes,
        "counts": {"created": created, "updated": 0, "skipped": skipped, "failed": failed},
        "report_rows": report_rows,
        "seconds": seconds,
        "rows_per_second": rows as f64 / seconds,
        "worker_process_rss_kb_before": rss_before,
        "worker_process_peak_kb": peak_kb,
        "emulator_rss_kb_after": emulator_kb,
    }))
}

fn err(e: reqwest::Error) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_has_one_percent_bad_rows_and_five_percent_duplicates() {
        assert_eq!(expected(100_000), (94_000, 5_000, 1_000));
        let file = csv(30);
        let lines: Vec<&str> = file.lines().collect();
        assert_eq!(lines.len(), 31);
        assert_eq!(lines[4], "Person 3,person3-at-example.com,batch-3");
        assert_eq!(lines[28], "Person 27,PERSON20@EXAMPLE.COM,batch-7");
    }
}
