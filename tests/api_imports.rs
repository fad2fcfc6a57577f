//! Imports end to end: created over HTTP, the file PUT through the presigned link like a
//! browser would (no API key), started, imported by the import worker from the emulator's
//! SQS queue and S3 bucket, and the report of failed rows downloaded through its link.

use contacts_functions::import_worker::ImportMessage;
use contacts_functions::work_queue::WorkQueue;
use contacts_tests::{eventually, eventually_within, spawn_app, spawn_app_with, TestApp};
use model::contact::Contact;
use model::domain::{Email, Phone};
use model::gdpr::Subject;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/imports/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

/// A new import with `bytes` uploaded through its link; its id.
async fn uploaded(app: &TestApp, bytes: Vec<u8>) -> String {
    let r = app.send(Method::POST, "/api/v1/imports", Some(&app.key), None, &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "awaiting_upload");
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location"), Some(format!("/api/v1/imports/{id}").as_str()));
    let url = r.body["upload_url"].as_str().expect("an upload link");
    let expires: u32 = query_param(url, "X-Amz-Expires").parse().unwrap();
    assert!(expires <= 15 * 60, "a short-lived link: {expires} s");
    let put = reqwest::Client::new().put(url).body(bytes).send().await.unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    id
}

fn query_param(url: &str, name: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
}

async fn start(app: &TestApp, id: &str, body: Value) -> contacts_tests::Reply {
    app.send(Method::POST, &format!("/api/v1/imports/{id}/start"), Some(&app.key), Some(body), &[]).await
}

async fn started(app: &TestApp, id: &str, body: Value) {
    let r = start(app, id, body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "queued");
}

/// Polls the import until it is finished.
async fn finished(app: &TestApp, id: &str) -> Value {
    let read = async || {
        let r = app.get(&format!("/api/v1/imports/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    };
    eventually_within(Duration::from_secs(120), "the import to finish", read, |i| {
        matches!(i["status"].as_str(), Some("done" | "failed"))
    })
    .await
}

fn counts(import: &Value) -> [u64; 4] {
    let c = &import["counts"];
    ["created", "updated", "skipped", "failed"].map(|k| c[k].as_u64().unwrap())
}

async fn by_email(app: &TestApp, email: &str) -> Option<Contact> {
    app.store.find_subject(&app.workspace, &Subject::Email(Email::parse(email).unwrap())).await.unwrap()
}

async fn by_phone(app: &TestApp, phone: &str) -> Option<Contact> {
    let phone = Phone::parse(phone, None).unwrap();
    app.store.find_subject(&app.workspace, &Subject::Phone(phone)).await.unwrap()
}

const MIXED_MAPPING: &str =
    r#"{"Full name": "name", "E-mail": "email", "Mobile": "phone", "Labels": "tags", "Comment": "notes"}"#;

fn mixed(duplicates: &str, dry_run: bool) -> Value {
    let mapping: Value = serde_json::from_str(MIXED_MAPPING).unwrap();
    json!({"mapping": mapping, "default_channel": "frame", "duplicates": duplicates, "dry_run": dry_run})
}

#[tokio::test]
async fn good_bad_and_duplicate_rows_import_with_exact_counts_and_a_report_of_the_failed_ones() {
    let app = spawn_app().await;
    let existing =
        app.create(json!({"channel": "telegram", "name": "Existing", "email": "existing@example.com"})).await;
    let id = uploaded(&app, fixture("mixed.csv")).await;
    started(&app, &id, mixed("skip", false)).await;
    let import = finished(&app, &id).await;
    assert_eq!(import["status"], "done", "{import}");
    assert_eq!(import["format"], "csv");
    // Created: Olivia, Mason, Noah. Skipped: the existing contact, Olivia's email in
    // capitals, Noah's phone written otherwise. Failed: a bad email, a broken quote.
    assert_eq!(counts(&import), [3, 0, 3, 2], "{import}");
    assert_eq!((import["rows_done"].as_u64(), import["total_rows"].as_u64()), (Some(8), Some(8)));

    let olivia = by_email(&app, "olivia@lumoco.dev").await.expect("imported");
    assert_eq!(olivia.name.as_ref().unwrap().as_str(), "Olivia Bennett", "the first row with the email");
    assert_eq!(olivia.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["pricing", "vip"]);
    assert_eq!(olivia.notes.as_deref(), Some("met at expo"));
    assert_eq!(olivia.phone.as_ref().unwrap().e164(), Some("+14155552671"));
    assert_eq!(by_phone(&app, "+1 415 555 2672").await.unwrap().name.unwrap().as_str(), "Noah Phone");
    let kept = by_email(&app, "existing@example.com").await.unwrap();
    assert_eq!((kept.id.0, kept.name.unwrap().as_str().to_string()), (existing, "Existing".to_string()));
    assert!(by_email(&app, "broken@example.com").await.is_none());

    let url = import["report_url"].as_str().expect("a report of the failed rows");
    let report = reqwest::get(url).await.unwrap();
    assert_eq!(report.status(), 200);
    let text = report.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "row,reason");
    assert!(lines[1].starts_with("5,email:"), "{text}");
    assert!(lines[2].starts_with("6,broken quoting"), "{text}");
    assert_eq!(lines.len(), 3, "{text}");

    let list = app.get("/api/v1/imports").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["imports"][0]["id"], id.as_str());
}

#[tokio::test]
async fn fill_empty_and_overwrite_change_the_contact_a_row_duplicates_as_they_say() {
    let app = spawn_app().await;
    let file = "email,name,notes,status\nann@example.com,Ann Lee,from the fair,follow_up\n";
    let setup = async |email: &str| {
        let id = app.create(json!({"channel": "frame", "email": email, "notes": "keep me"})).await;
        let id = model::domain::ContactId(id);
        assert!(app.store.get_contact(&app.workspace, id).await.unwrap().is_some());
    };
    setup("ann@example.com").await;
    let mapping = json!({"email": "email", "name": "name", "notes": "notes", "status": "status"});
    let id = uploaded(&app, file.into()).await;
    started(&app, &id, json!({"mapping": mapping, "default_channel": "frame", "duplicates": "fill_empty"})).await;
    assert_eq!(counts(&finished(&app, &id).await), [0, 1, 0, 0]);
    let ann = by_email(&app, "ann@example.com").await.unwrap();
    assert_eq!(ann.name.as_ref().unwrap().as_str(), "Ann Lee", "an empty field filled");
    assert_eq!(ann.notes.as_deref(), Some("keep me"), "a filled one kept");
    assert_eq!(ann.status.as_str(), "new", "the status is never filled");

    let id = uploaded(&app, file.into()).await;
    started(&app, &id, json!({"mapping": mapping, "default_channel": "frame", "duplicates": "overwrite"})).await;
    assert_eq!(counts(&finished(&app, &id).await), [0, 1, 0, 0]);
    let ann = by_email(&app, "ann@example.com").await.unwrap();
    assert_eq!((ann.notes.as_deref(), ann.status.as_str()), (Some("from the fair"), "follow_up"));

    let id = uploaded(&app, file.into()).await;
    started(&app, &id, json!({"mapping": mapping, "default_channel": "frame", "duplicates": "overwrite"})).await;
    assert_eq!(counts(&finished(&app, &id).await), [0, 0, 1, 0], "nothing left to change: skipped");
    let again = by_email(&app, "ann@example.com").await.unwrap();
    assert_eq!(again.version, ann.version, "and not written");
}

#[tokio::test]
async fn a_dry_run_counts_and_writes_no_contact_then_the_same_import_runs_for_real() {
    let app = spawn_app().await;
    app.create(json!({"channel": "telegram", "email": "existing@example.com"})).await;
    let id = uploaded(&app, fixture("mixed.csv")).await;
    started(&app, &id, mixed("skip", true)).await;
    let dry = finished(&app, &id).await;
    assert_eq!((dry["status"].as_str(), dry["dry_run"].as_bool()), (Some("done"), Some(true)));
    assert_eq!(counts(&dry), [3, 0, 3, 2], "the same counts as the real import: {dry}");
    assert!(dry["report_url"].is_string(), "the failed rows are reported");
    for email in ["olivia@lumoco.dev", "mason@northpeak.co"] {
        assert!(by_email(&app, email).await.is_none(), "{email} not written");
    }
    assert!(by_phone(&app, "+1 415 555 2672").await.is_none());

    started(&app, &id, mixed("skip", false)).await;
    let real = finished(&app, &id).await;
    assert_eq!(counts(&real), [3, 0, 3, 2], "{real}");
    assert!(by_email(&app, "olivia@lumoco.dev").await.is_some());
}

#[tokio::test]
async fn xlsx_latin1_and_bom_files_import() {
    let app = spawn_app().await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, header) in ["Name", "Phone", "Email", "Channel"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    sheet.write_string(1, 0, "Liam Walker").unwrap();
    sheet.write_number(1, 1, 14155552673.0).unwrap();
    sheet.write_string(1, 2, "liam@example.com").unwrap();
    sheet.write_string(1, 3, "whatsapp").unwrap();
    sheet.write_string(2, 0, "Emma Stone").unwrap();
    sheet.write_string(2, 2, "emma@example.com").unwrap();
    sheet.write_string(2, 3, "fax").unwrap();
    let id = uploaded(&app, book.save_to_buffer().unwrap()).await;
    let mapping = json!({"Name": "name", "Phone": "phone", "Email": "email", "Channel": "channel"});
    started(&app, &id, json!({"mapping": mapping})).await;
    let import = finished(&app, &id).await;
    assert_eq!((import["format"].as_str(), counts(&import)), (Some("xlsx"), [1, 0, 0, 1]), "{import}");
    let liam = by_email(&app, "liam@example.com").await.unwrap();
    // A number cell reads as the digits a person sees, not `1.4155552673e10`.
    assert_eq!((liam.channel.as_str(), liam.phone.unwrap().raw()), ("whatsapp", "14155552673"));
    let report = reqwest::get(import["report_url"].as_str().unwrap()).await.unwrap().text().await.unwrap();
    assert!(report.contains("3,\"channel: unknown channel `fax`"), "{report}");

    let id = uploaded(&app, fixture("latin1.csv")).await;
    started(
        &app,
        &id,
        json!({"mapping": {"name": "name", "email": "email", "notes": "notes"}, "default_channel": "frame"}),
    )
    .await;
    assert_eq!(counts(&finished(&app, &id).await), [1, 0, 0, 0]);
    let jose = by_email(&app, "jose@example.com").await.unwrap();
    assert_eq!((jose.name.unwrap().as_str(), jose.notes.as_deref()), ("José Müller", Some("Café crème")));

    let id = uploaded(&app, fixture("bom.csv")).await;
    started(&app, &id, json!({"mapping": {"name": "name", "email": "email"}, "default_channel": "livechat"})).await;
    assert_eq!(counts(&finished(&app, &id).await), [1, 0, 0, 0]);
    assert_eq!(by_email(&app, "zoe@example.com").await.unwrap().name.unwrap().as_str(), "Zoë Krämer");
}

/// A run that crashed after writing rows but before its checkpoint was saved: the next
/// run repeats those rows, recognizes each by its marker, and counts it once.
#[tokio::test]
async fn an_import_run_again_from_a_lost_checkpoint_creates_no_duplicates() {
    let app = spawn_app().await;
    app.create(json!({"channel": "telegram", "email": "existing@example.com"})).await;
    let id = uploaded(&app, fixture("mixed.csv")).await;
    started(&app, &id, mixed("fill_empty", false)).await;
    let first = finished(&app, &id).await;
    // fill_empty: Olivia's second row fills nothing new (the name is set), Noah's second
    // row neither; the existing contact gets a name.
    assert_eq!(counts(&first), [3, 1, 2, 2], "{first}");
    let before = app.ids("per_page=100").await;

    // As if the run had crashed before its first checkpoint: queued again at row 0.
    let pk = format!("WS#{}#IMPORT#{id}", app.workspace);
    let zero = json!({"seq": 0, "rows_done": 0, "counts": {"created": 0, "updated": 0, "skipped": 0, "failed": 0}});
    app.store
        .client()
        .update_item()
        .table_name(app.store.table_name())
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("IMPORT".into()))
        .update_expression("SET #status = :queued, checkpoint = :cp, attempts = :zero")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":queued", aws_sdk_dynamodb::types::AttributeValue::S("queued".into()))
        .expression_attribute_values(":cp", serde_dynamo::to_attribute_value(&zero).unwrap())
        .expression_attribute_values(":zero", aws_sdk_dynamodb::types::AttributeValue::N("0".into()))
        .send()
        .await
        .unwrap();
    let queue = WorkQueue::new(app.stack.sqs.clone(), app.stack.queue_urls["ImportsQueue"].clone());
    queue.send(&ImportMessage { workspace: app.workspace.to_string(), import_id: id.clone() }).await.unwrap();
    let again = finished(&app, &id).await;
    assert_eq!(counts(&again), counts(&first), "every row counted once again: {again}");
    let after =
        eventually("the list to settle", async || app.ids("per_page=100").await, |ids| ids.len() >= before.len()).await;
    assert_eq!(after, before, "no contact created twice");
}

#[tokio::test]
async fn a_file_larger_than_one_run_goes_on_in_the_next_runs_with_exact_counts() {
    let app = spawn_app_with(HashMap::from([("JOB_TIME_BUDGET_SECONDS".to_string(), "1".to_string())])).await;
    let mut file = String::from("email,name\n");
    for i in 0..300 {
        match i % 100 {
            7 => file.push_str(&format!("bad-{i},Bad {i}\n")),
            13 => file.push_str(&format!("person{}@example.com,Twice {i}\n", i - 1)),
            _ => file.push_str(&format!("person{i}@example.com,Person {i}\n")),
        }
    }
    let id = uploaded(&app, file.into_bytes()).await;
    started(&app, &id, json!({"mapping": {"email": "email", "name": "name"}, "default_channel": "frame"})).await;
    let import = finished(&app, &id).await;
    assert_eq!(counts(&import), [294, 0, 3, 3], "{import}");
    let record = app.store.get_import(&app.workspace, &id).await.unwrap().unwrap();
    assert!(record.continuations > 0, "handed on at least once: {record:?}");
}

#[tokio::test]
async fn files_and_mappings_that_cannot_be_imported_answer_problems() {
    let app = spawn_app().await;
    let mapping = json!({"mapping": {"name": "name", "email": "email"}, "default_channel": "frame"});
    // Started before anything was uploaded.
    let r = app.send(Method::POST, "/api/v1/imports", Some(&app.key), None, &[]).await;
    let waiting = r.body["id"].as_str().unwrap().to_string();
    start(&app, &waiting, mapping.clone()).await.problem(409);

    for (file, expected) in [("empty.csv", "empty"), ("header-only.csv", "no rows"), ("not-a-table.pdf", "PDF")] {
        let id = uploaded(&app, fixture(file)).await;
        let problem = start(&app, &id, mapping.clone()).await.problem(400).clone();
        assert_eq!(problem["errors"][0]["field"], "file", "{file}: {problem}");
        assert!(problem["errors"][0]["detail"].as_str().unwrap().contains(expected), "{file}: {problem}");
        let import = app.get(&format!("/api/v1/imports/{id}")).await.body;
        assert_eq!(import["status"], "awaiting_upload", "{file}: nothing started");
    }

    let id = uploaded(&app, fixture("latin1.csv")).await;
    let missing = json!({"mapping": {"name": "name", "Mail": "email"}, "default_channel": "frame"});
    let problem = start(&app, &id, missing).await.problem(400).clone();
    assert_eq!(problem["errors"][0]["field"], "mapping.Mail", "{problem}");
    assert!(problem["errors"][0]["detail"].as_str().unwrap().contains("name, email, notes"), "{problem}");
    let unknown = json!({"mapping": {"name": "nickname"}, "default_channel": "frame"});
    assert_eq!(start(&app, &id, unknown).await.problem(400)["errors"][0]["field"], "mapping.name");
    let no_channel = json!({"mapping": {"name": "name"}});
    assert_eq!(start(&app, &id, no_channel).await.problem(400)["errors"][0]["field"], "default_channel");
    let rule = json!({"mapping": {"name": "name"}, "default_channel": "frame", "duplicates": "merge"});
    assert_eq!(start(&app, &id, rule).await.problem(400)["errors"][0]["field"], "duplicates");

    started(&app, &id, mapping.clone()).await;
    // Queued, running or done (the worker may be quick): a started import that was not a
    // dry run is not started again.
    start(&app, &id, mapping.clone()).await.problem(409);
    let reader = app.send(Method::POST, "/api/v1/imports", Some(&app.read_only_key), None, &[]).await;
    reader.problem(403);
    app.get(&format!("/api/v1/imports/im{}", "0".repeat(21))).await.problem(404);
}
