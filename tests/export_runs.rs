//! Exports larger than one run of the export worker: with a budget of a second or two, a
//! CSV or JSON export goes on through continuation messages from checkpoints on its record,
//! and ends as one file holding every contact once, even when runs are cut short or their
//! messages delivered twice.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use contacts_functions::bucket::Bucket;
use contacts_functions::config::TimeBudget;
use contacts_functions::export_worker::{self, ExportMessage, ExportWorker};
use contacts_functions::work_queue::WorkQueue;
use contacts_tests::{eventually_within, spawn_app_with, unique, TestApp};
use model::domain::Channel;
use model::export::{Export, ExportFilters, ExportFormat, ExportStatus};
use model::new_contact::NewContact;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

async fn app_with_budget(seconds: u32) -> TestApp {
    spawn_app_with(HashMap::from([("JOB_TIME_BUDGET_SECONDS".to_string(), seconds.to_string())])).await
}

/// `count` contacts through the bulk loader the bench uses, bare (a profile item each) so
/// that the emulator takes them fast.
async fn load(app: &TestApp, count: u64) {
    let now = chrono::Utc::now();
    let mut loaded = 0;
    while loaded < count {
        let n = 1_000.min(count - loaded);
        let ids = app.store.allocate_contact_ids(&app.workspace, n).await.unwrap();
        let contacts = ids
            .into_iter()
            .map(|id| {
                let mut new = NewContact::on(Channel::Telegram);
                new.created_at = Some(now - chrono::Duration::seconds(id.0 as i64));
                new.into_contact(id, now)
            })
            .collect();
        app.store.import_contacts(&app.workspace, contacts).await.unwrap();
        loaded += n;
    }
}

fn bucket(app: &TestApp) -> Bucket {
    Bucket::new(app.stack.s3.clone(), app.stack.buckets["ExportsBucket"].clone())
}

/// The ids in a file, checked to appear once each.
fn ids_once(format: ExportFormat, bytes: &[u8]) -> BTreeSet<u64> {
    let ids: Vec<u64> = match format {
        ExportFormat::Csv => {
            let text = String::from_utf8(bytes.to_vec()).unwrap();
            let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
            assert!(lines.next().unwrap().starts_with("id,name,"), "one header, first");
            lines.map(|l| l.split(',').next().unwrap().parse().unwrap_or_else(|_| panic!("a row: {l}"))).collect()
        }
        ExportFormat::Json => {
            let rows: Value = serde_json::from_slice(bytes).expect("one JSON array");
            rows.as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect()
        }
        ExportFormat::Xlsx => unreachable!("an XLSX file is written in one run"),
    };
    let unique: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{format:?}: no row twice");
    unique
}

#[tokio::test]
async fn twenty_thousand_contacts_export_through_several_runs_into_one_csv_and_one_json_file() {
    let app = app_with_budget(2).await;
    load(&app, 20_000).await;
    let mut ids = Vec::new();
    // XLSX is written in one run (docs/exports.md); tests/api_exports.rs covers it.
    for format in ["csv", "json"] {
        let r = app.send(Method::POST, "/api/v1/exports", Some(&app.key), Some(json!({"format": format})), &[]).await;
        assert_eq!(r.status, 202, "{}", r.body);
        ids.push((format, r.body["id"].as_str().unwrap().to_string()));
    }
    let mut files = Vec::new();
    for (format, id) in &ids {
        let read = async || app.get(&format!("/api/v1/exports/{id}")).await.body;
        let done = |e: &Value| matches!(e["status"].as_str(), Some("ready" | "failed"));
        let export = eventually_within(Duration::from_secs(2400), "the export to finish", read, done).await;
        assert!(export["started_at"].is_string(), "{export}");
        assert_eq!(export["status"], "ready", "{export}");
        assert_eq!(export["row_count"], 20_000, "{export}");
        assert_eq!(export["rows_written"], 20_000, "{export}");
        let record = app.store.get_export(&app.workspace, id).await.unwrap().unwrap();
        let format = ExportFormat::parse(format).unwrap();
        assert!(record.continuations >= 2, "{format:?} went on through several runs: {}", record.continuations);
        assert!(record.checkpoint.is_none() && record.upload_id.is_none(), "nothing left to resume");
        let bytes = bucket(&app).get(&record.object_key).await.unwrap();
        assert_eq!(bytes.len() as u64, export["size_bytes"].as_u64().unwrap());
        files.push(ids_once(format, &bytes));
    }
    assert_eq!(files[0].len(), 20_000);
    assert_eq!(files[0], files[1], "both formats hold the same contacts");
}

fn event(message: &ExportMessage, delivery: usize) -> SqsEvent {
    let mut record = SqsMessage::default();
    record.message_id = Some(format!("m{delivery}"));
    record.body = Some(serde_json::to_string(message).unwrap());
    let mut event = SqsEvent::default();
    event.records = vec![record];
    event
}

/// Runs cut short at any point (a Lambda that timed out or crashed) and messages delivered
/// twice: the worker is driven by hand, its continuations read from a queue of the test's own.
#[tokio::test]
async fn runs_cut_short_or_delivered_twice_resume_without_duplicate_or_missing_rows() {
    let app = app_with_budget(1).await;
    load(&app, 6_000).await;
    let sqs = app.stack.sqs.clone();
    let queue = sqs.create_queue().queue_name(unique("continuations")).send().await.unwrap().queue_url.unwrap();
    let worker = ExportWorker {
        store: app.store.clone(),
        bucket: bucket(&app),
        queue: WorkQueue::new(sqs.clone(), &queue),
        budget: TimeBudget::seconds(1),
    };
    for format in [ExportFormat::Csv, ExportFormat::Json] {
        let now = chrono::Utc::now();
        let filters = ExportFilters::parse(&app.workspace, Default::default(), now).unwrap();
        let export = Export::new(&app.workspace, format, filters, "test", now);
        app.store.put_export(&app.workspace, &export, now + chrono::Duration::days(1)).await.unwrap();
        let message = ExportMessage { workspace: app.workspace.to_string(), export_id: export.id.clone() };
        let mut deliveries = 0;
        let mut pending = vec![message.clone()];
        let cut_after = [300u64, 1_200, 800, 1_500];
        while let Some(next) = pending.pop() {
            deliveries += 1;
            assert!(deliveries < 300, "the export does not end");
            let deadline = chrono::Utc::now() + chrono::Duration::seconds(900);
            if deliveries % 3 == 1 {
                // Cut short somewhere (maybe after a checkpoint, maybe before the hand-on):
                // SQS delivers the message again after its visibility timeout.
                let cut = Duration::from_millis(cut_after[(deliveries / 3) % cut_after.len()]);
                let run = export_worker::handle(&worker, event(&next, deliveries), deadline);
                if tokio::time::timeout(cut, run).await.is_err() {
                    pending.push(next);
                    // What the cut run sent before it stopped is delivered too.
                    pending.extend(receive(&sqs, &queue).await);
                    continue;
                }
            } else {
                let response = export_worker::handle(&worker, event(&next, deliveries), deadline).await;
                assert!(response.batch_item_failures.is_empty(), "{format:?}: a run failed");
                if deliveries % 4 == 0 {
                    // The same message once more (SQS delivers at least once).
                    export_worker::handle(&worker, event(&next, deliveries), deadline).await;
                }
            }
            pending.extend(receive(&sqs, &queue).await);
        }
        let done = app.store.get_export(&app.workspace, &export.id).await.unwrap().unwrap();
        assert_eq!(done.status, ExportStatus::Ready, "{format:?}: {:?}", done.error);
        assert_eq!(done.row_count, Some(6_000));
        assert!(done.continuations >= 3, "{format:?}: {} continuations", done.continuations);
        let bytes = worker.bucket.get(&done.object_key).await.unwrap();
        assert_eq!(ids_once(format, &bytes).len(), 6_000, "{format:?}: every contact once");
    }
}

async fn receive(sqs: &aws_sdk_sqs::Client, queue: &str) -> Vec<ExportMessage> {
    let out = sqs.receive_message().queue_url(queue).max_number_of_messages(10).send().await.unwrap();
    let mut messages = Vec::new();
    for m in out.messages.unwrap_or_default() {
        sqs.delete_message().queue_url(queue).receipt_handle(m.receipt_handle.unwrap()).send().await.unwrap();
        messages.push(serde_json::from_str(&m.body.unwrap()).unwrap());
    }
    messages
}
