//! Exports end to end: requested over HTTP, written by the export worker from the
//! emulator's SQS queue into the emulator's S3 bucket, and downloaded through the
//! presigned link like a browser would (no API key).

use contacts_functions::bucket::Bucket;
use contacts_tests::{eventually, spawn_app, TestApp};
use model::export::{Parts, PART_SIZE};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

async fn request_export(app: &TestApp, body: Value) -> String {
    let r = app.send(Method::POST, "/api/v1/exports", Some(&app.key), Some(body), &[]).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "queued");
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location"), Some(format!("/api/v1/exports/{id}").as_str()));
    id
}

/// Polls the export until it is finished.
async fn finished(app: &TestApp, id: &str) -> Value {
    let read = async || {
        let r = app.get(&format!("/api/v1/exports/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    };
    eventually("the export to finish", read, |e| matches!(e["status"].as_str(), Some("ready" | "failed"))).await
}

/// Downloads through the presigned link, without any credentials.
async fn download(export: &Value) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let url = export["download_url"].as_str().expect("a ready export has a link");
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let headers = r.headers().clone();
    (headers, r.bytes().await.unwrap().to_vec())
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn seed(app: &TestApp) -> (BTreeSet<u64>, BTreeSet<u64>) {
    let mut telegram = BTreeSet::new();
    let mut follow_up_vip = BTreeSet::new();
    for i in 0..12 {
        let channel = if i % 3 == 0 { "telegram" } else { "frame" };
        let status = if i % 2 == 0 { "follow_up" } else { "new" };
        let tags = if i % 4 == 0 { json!(["vip"]) } else { json!(["pricing"]) };
        let id = app.create(json!({"channel": channel, "name": format!("Person {i}"), "email": format!("p{i}@example.com"), "status": status, "tags": tags})).await;
        if channel == "telegram" {
            telegram.insert(id);
        }
        if status == "follow_up" && i % 4 == 0 {
            follow_up_vip.insert(id);
        }
    }
    let injected = app.create(json!({"channel": "telegram", "name": "Mallory Mallory", "email": "mallory@example.com", "phone": "+1 415 555 2671", "notes": "x"})).await;
    assert_eq!(app.patch(injected, json!({"name": "=2+5"}), &[]).await.status, 200);
    telegram.insert(injected);
    (telegram, follow_up_vip)
}

#[tokio::test]
async fn a_filtered_list_exports_in_each_format_and_downloads_through_the_signed_link() {
    let app = spawn_app().await;
    let (telegram, follow_up_vip) = seed(&app).await;

    // CSV: the list's own filter, downloaded by link.
    let id = request_export(&app, json!({"format": "csv", "filters": {"channel": "telegram"}})).await;
    let export = finished(&app, &id).await;
    assert_eq!(export["status"], "ready", "{export}");
    assert_eq!(export["row_count"], telegram.len());
    assert_eq!(export["rows_written"], telegram.len());
    assert_eq!(export["filters"], json!({"channel": "telegram"}));
    let (headers, body) = download(&export).await;
    let filename = export["filename"].as_str().unwrap();
    assert!(filename.starts_with(&format!("contacts-{}-", app.workspace)) && filename.ends_with(".csv"), "{filename}");
    let disposition = headers.get("content-disposition").unwrap().to_str().unwrap();
    assert_eq!(disposition, format!("attachment; filename=\"{filename}\""));
    let text = String::from_utf8(body).unwrap();
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("id,name,email,phone,channel,created_at,phone_e164,status,score,tags,last_activity_at,consent,opted_out")
    );
    let ids: BTreeSet<u64> =
        lines.clone().filter(|l| !l.is_empty()).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert_eq!(ids, telegram);
    let mallory = lines.find(|l| l.contains("mallory@")).unwrap();
    assert!(mallory.contains(",'=2+5,"), "a leading = is neutralized: {mallory}");
    assert!(
        mallory.contains(",'+1 415-555-2671,telegram,"),
        "international format, a leading + neutralized: {mallory}"
    );
    assert!(mallory.contains(",'+14155552671,new,"), "E.164 and the status after the dates: {mallory}");

    // The link expires after the configured 15 minutes (the emulator does not enforce it).
    let url = export["download_url"].as_str().unwrap();
    assert_eq!(query_param(url, "X-Amz-Expires").as_deref(), Some("900"));
    let signed = chrono::NaiveDateTime::parse_from_str(&query_param(url, "X-Amz-Date").unwrap(), "%Y%m%dT%H%M%SZ")
        .unwrap()
        .and_utc();
    assert!((chrono::Utc::now() - signed).num_seconds().abs() < 60);
    let expires_at: chrono::DateTime<chrono::Utc> =
        export["download_url_expires_at"].as_str().unwrap().parse().unwrap();
    assert!((expires_at - signed - chrono::Duration::minutes(15)).num_seconds().abs() < 60);

    // JSON: two filters, one array.
    let id = request_export(&app, json!({"format": "json", "filters": {"status": "follow_up", "tag": "VIP"}})).await;
    let export = finished(&app, &id).await;
    assert_eq!(export["status"], "ready", "{export}");
    let (headers, body) = download(&export).await;
    assert!(headers.get("content-disposition").unwrap().to_str().unwrap().ends_with(".json\""));
    let rows: Value = serde_json::from_slice(&body).unwrap();
    let ids: BTreeSet<u64> = rows.as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, follow_up_vip);
    assert_eq!(rows[0]["tags"], json!(["vip"]));
    assert_eq!(rows[0]["status"], "follow_up");

    // XLSX: a real workbook; its sheet holds every contact.
    let id = request_export(&app, json!({"format": "xlsx"})).await;
    let export = finished(&app, &id).await;
    assert_eq!(export["row_count"], 13);
    let (_, body) = download(&export).await;
    let sheet = xlsx_sheet(&body);
    assert!(sheet.contains(">=2+5</t>"), "strings stay strings, never formulas: {sheet}");
    assert!(!sheet.contains("<f>"), "no formulas in the sheet");
    assert_eq!(sheet.matches("<row ").count(), 14, "header and 13 contacts");

    // Newest first in the list of exports.
    let list = app.get("/api/v1/exports").await;
    let formats: Vec<&str> =
        list.body["exports"].as_array().unwrap().iter().map(|e| e["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["xlsx", "json", "csv"]);
    assert!(list.body["exports"][0].get("download_url").is_none(), "links are made per export, on its GET");
}

/// The worksheet XML of a workbook, read with Python's standard zipfile module.
fn xlsx_sheet(bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("{}.xlsx", contacts_tests::unique("export")));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; sys.stdout.write(z.read('xl/worksheets/sheet1.xml').decode())"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).ok();
    assert!(out.status.success(), "not a valid zip: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn export_requests_are_validated_like_the_list() {
    let app = spawn_app().await;
    let post = |body: Value, key: String| {
        let app = &app;
        async move { app.send(Method::POST, "/api/v1/exports", Some(&key), Some(body), &[]).await }
    };
    let cases = [
        (json!({"format": "pdf"}), "format"),
        (json!({"format": "csv", "filters": {"channel": "fax"}}), "filters.channel"),
        (json!({"format": "csv", "filters": {"per_page": "10"}}), "filters.per_page"),
        (
            json!({"format": "csv", "filters": {"range": "7d", "created_after": "2025-01-01T00:00:00Z"}}),
            "filters.range",
        ),
        (json!({"format": "csv", "colour": "red"}), "colour"),
        (json!({"format": "csv", "segment": "sg0000000000"}), "segment"),
    ];
    for (body, field) in cases {
        let r = post(body.clone(), app.key.clone()).await;
        assert_eq!(r.problem(400)["errors"][0]["field"], field, "{body}");
    }
    post(json!({"format": "csv"}), app.read_only_key.clone()).await.problem(403);
    app.get("/api/v1/exports/ex0000000000000deadbeef").await.problem(404);
    assert_eq!(app.get("/api/v1/exports/..%2F..%2Fetc").await.problem(400)["errors"][0]["field"], "id");
    assert!(
        app.get("/api/v1/exports").await.body["exports"].as_array().unwrap().is_empty(),
        "a refused request records nothing"
    );
}

#[tokio::test]
async fn an_export_segment_that_is_no_segment_id_is_refused_before_any_read() {
    let app = spawn_app().await;
    // DynamoDB refuses keys over 2048 bytes (a 500 once); the emulator does not, so the
    // answer's detail shows that the id was checked before the read.
    for segment in ["".to_string(), "sg#00000000#".into(), "x".repeat(3000)] {
        let r = app
            .send(
                Method::POST,
                "/api/v1/exports",
                Some(&app.key),
                Some(json!({"format": "csv", "segment": segment})),
                &[],
            )
            .await;
        let problem = r.problem(400);
        assert_eq!(problem["errors"][0]["field"], "segment");
        assert!(problem["detail"].as_str().unwrap().contains("is not a segment id"), "{problem}");
        assert!(r.raw.len() < 1000, "the refused value is not echoed whole");
    }
}

#[tokio::test]
async fn range_filters_are_resolved_when_the_export_is_requested() {
    let app = spawn_app().await;
    let today = app.create(json!({"channel": "frame", "name": "Today Person"})).await;
    let id = request_export(&app, json!({"format": "json", "filters": {"range": "today"}})).await;
    let export = finished(&app, &id).await;
    assert_eq!(export["filters"], json!({"range": "today"}));
    let (_, body) = download(&export).await;
    let rows: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(rows.as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect::<Vec<_>>(), [today]);
}

/// Files larger than a part go up as several parts of at least 5 MiB (moto enforces the
/// minimum too) and download whole through the link.
#[tokio::test]
async fn large_files_upload_in_parts() {
    let app = spawn_app().await;
    let bucket = Bucket::new(app.stack.s3.clone(), app.stack.buckets["ExportsBucket"].clone());
    let key = "exports/test/parts.csv";
    let upload = bucket.start_upload(key, "text/csv", "attachment; filename=\"parts.csv\"").await.unwrap();
    let mut parts = Parts::new(upload);
    let line = b"1,Olivia Bennett,olivia@lumoco.dev,,frame,2025-08-22T05:02:29Z,new,,2025-08-22T05:02:29Z,false\r\n";
    let mut written = 0u64;
    while written < (2 * PART_SIZE + PART_SIZE / 2) as u64 {
        parts.push(&line.repeat(1000)).await.unwrap();
        written += line.len() as u64 * 1000;
    }
    let (upload, size, count) = parts.finish().await.unwrap();
    assert_eq!((size, count), (written, 3));
    upload.complete().await.unwrap();
    let url = bucket.download_url(key, "attachment; filename=\"parts.csv\"", Duration::from_secs(60)).await.unwrap();
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len() as u64, written);
    assert!(body.starts_with(line) && body.ends_with(line));
}

#[tokio::test]
async fn a_segment_is_usable_as_export_filter() {
    let app = spawn_app().await;
    app.create(json!({"channel": "frame", "email": "in@example.com", "consent": "granted"})).await;
    app.create(json!({"channel": "frame", "email": "out@example.com", "consent": "withdrawn"})).await;
    let segment = app
        .send(
            Method::POST,
            "/api/v1/segments",
            Some(&app.key),
            Some(json!({"name": "Opted in", "filters": {"consent": "granted", "has_email": true}})),
            &[],
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let both = app
        .send(
            Method::POST,
            "/api/v1/exports",
            Some(&app.key),
            Some(json!({"format": "csv", "segment": segment, "filters": {"channel": "frame"}})),
            &[],
        )
        .await;
    assert_eq!(both.problem(400)["errors"][0]["field"], "segment");
    let id = request_export(&app, json!({"format": "csv", "segment": segment})).await;
    let export = finished(&app, &id).await;
    assert_eq!(export["row_count"], 1, "{export}");
    let (_, body) = download(&export).await;
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("in@example.com") && !text.contains("out@example.com"), "{text}");
}

#[tokio::test]
async fn a_fourth_running_export_of_a_workspace_waits_with_429() {
    use model::export::{Export, ExportFilters, ExportFormat, ExportStatus};
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    // Three exports still running (their worker busy elsewhere), recorded as the API records them.
    for _ in 0..3 {
        let filters = ExportFilters::parse(&app.workspace, Default::default(), now).unwrap();
        let export = Export {
            status: ExportStatus::Running,
            ..Export::new(&app.workspace, ExportFormat::Csv, filters, "t", now)
        };
        app.store.put_export(&app.workspace, &export, now + chrono::Duration::days(1)).await.unwrap();
    }
    let r = app.send(Method::POST, "/api/v1/exports", Some(&app.key), Some(json!({"format": "csv"})), &[]).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.header("retry-after"), Some("60"));
    assert!(r.body["detail"].as_str().unwrap().contains("at most 3"), "{}", r.body);
}
