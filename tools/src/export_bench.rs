//! `make bench EXPORT=N`: an export of every contact of a workspace of N (e.g. 1,000,000),
//! end to end: read from the emulator's DynamoDB by the export worker's handler, written to
//! its S3 in one multipart upload, through as many invocations as the worker's time budget
//! asks, each handed on through the queue as on Lambda. Checks that the file holds every
//! row; reports the rows a second, the invocations and the peak memory of the process that
//! runs the worker.
//!
//! The workspace holds the contacts' profiles alone (`Store::load_profiles_only`): moto
//! takes about 8 KB a profile and would take ten times that for every item of a contact.
//! An export reads nothing else.

use crate::figures::{cpu_seconds, peak_kb, reset_peak_memory, rss_kb};
use crate::{bootstrap, demo, local, template};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::Utc;
use contacts_functions::bucket::Bucket;
use contacts_functions::config::TimeBudget;
use contacts_functions::export_worker::{self, ExportWorker};
use contacts_functions::work_queue::WorkQueue;
use model::domain::WorkspaceId;
use model::export::{Export, ExportFilters, ExportFormat};
use model::workspace::Workspace;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;
use store::Store;

const TABLE: &str = "ai-bot-contacts-export-bench";
/// An export that is not done after this many invocations has stopped making progress.
const MAX_INVOCATIONS: u32 = 10_000;

/// Where the bench's exports are written.
const BUCKET: &str = "bench-exports";

/// The export worker against the emulator: the exports bucket, and the queue it hands its
/// continuations on to.
pub struct BenchWorker {
    pub worker: ExportWorker,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    queue: String,
}

impl BenchWorker {
    /// Creates the bucket and the queue, and the worker with `budget`.
    pub async fn start(sdk: &aws_config::SdkConfig, store: &Store, budget: TimeBudget) -> Result<Self, String> {
        let s3 = contacts_functions::bucket::client(sdk);
        s3.create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(e).to_string())?;
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let queue = sqs
            .create_queue()
            .queue_name("bench-export-continuations")
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?
            .queue_url
            .unwrap_or_default();
        let worker = ExportWorker {
            store: store.clone(),
            bucket: Bucket::new(s3.clone(), BUCKET),
            queue: WorkQueue::new(sqs.clone(), &queue),
            budget,
        };
        Ok(BenchWorker { worker, s3, sqs, queue })
    }

    /// Records an export of every contact of `ws` in `format`; its first queue message.
    pub async fn export_every_contact(
        &self,
        ws: &WorkspaceId,
        format: ExportFormat,
    ) -> Result<(Export, String), String> {
        let now = Utc::now();
        let filters = ExportFilters::parse(ws, BTreeMap::new(), now).map_err(|e| format!("{e:?}"))?;
        let export = Export::new(ws, format, filters, "bench", now);
        let store = &self.worker.store;
        store.put_export(ws, &export, now + chrono::Duration::days(8)).await.map_err(|e| e.to_string())?;
        let first = json!({ "workspace": ws.to_string(), "export_id": export.id }).to_string();
        Ok((export, first))
    }

    /// Hands `first` (an export's queue message) to the worker as its queue would, then each
    /// continuation it hands on, until it hands on none, each invocation given `timeout`.
    /// Returns the invocations.
    pub async fn until_done(&self, first: String, timeout: chrono::Duration) -> Result<u32, String> {
        let (sqs, queue) = (&self.sqs, &self.queue);
        let mut body = first;
        for invocation in 1..=MAX_INVOCATIONS {
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("bench-export-{invocation}"));
            message.body = Some(body);
            let mut event = SqsEvent::default();
            event.records = vec![message];
            let response = export_worker::handle(&self.worker, event, Utc::now() + timeout).await;
            if !response.batch_item_failures.is_empty() {
                return Err(format!("invocation {invocation} failed"));
            }
            let received = sqs.receive_message().queue_url(queue).wait_time_seconds(1).send().await;
            let received = received.map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
            match received.messages.unwrap_or_default().pop() {
                Some(next) => {
                    let receipt = next.receipt_handle.clone().unwrap_or_default();
                    let deleted = sqs.delete_message().queue_url(queue).receipt_handle(receipt).send().await;
                    deleted.map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
                    body = next.body.unwrap_or_default();
                }
                None => return Ok(invocation),
            }
        }
        Err(format!("not done after {MAX_INVOCATIONS} invocations"))
    }
}

/// The exports of every contact of a workspace of `contacts`, one per format, on a fresh
/// emulator; the figures.
pub async fn run(moto: &Path, port: u16, contacts: u64, formats: &[ExportFormat]) -> Result<Value, String> {
    let emulator = local::start_emulator(moto, port).await?;
    let emulator_pid = emulator.id().ok_or("the emulator has no pid")?.to_string();
    let sdk = local::aws_config(&format!("http://127.0.0.1:{port}")).await;
    let template = template::Template::load(&template::default_path()).map_err(|e| e.to_string())?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    // The template's table without its stream: nothing here reads it, and moto keeps what
    // no one reads, a second copy of every profile.
    let mut table = template.tables.first().ok_or("no table in the template")?.clone();
    table.stream_view = None;
    bootstrap::create_table(&dynamodb, &table, TABLE).await?;
    // Unmetered: the meter's reads of each written item are not the worker's.
    let store = Store::new(dynamodb, TABLE).billing_from_items(false);
    let ws = WorkspaceId::parse("bench-export").map_err(|e| e.to_string())?;
    store.put_workspace(&Workspace::with_defaults(ws.clone())).await.map_err(|e| e.to_string())?;

    let started = Instant::now();
    demo::load_profiles_only(&store, &ws, contacts).await.map_err(|e| e.to_string())?;
    let load_seconds = started.elapsed().as_secs_f64();
    let emulator_kb = rss_kb(&emulator_pid);
    eprintln!("bench: {contacts} profiles loaded in {load_seconds:.0} s; the emulator holds {} MB", emulator_kb / 1024);

    // The worker as deployed: the template's timeout, and no budget of its own but that.
    let function = template.functions.iter().find(|f| f.binary == "export-worker").ok_or("no export worker")?;
    let timeout = chrono::Duration::seconds(function.timeout as i64);
    let bench = BenchWorker::start(&sdk, &store, TimeBudget::default()).await?;

    let mut runs = Vec::new();
    for &format in formats {
        let (export, first) = bench.export_every_contact(&ws, format).await?;
        reset_peak_memory();
        let rss_before = rss_kb("self");
        let (started, cpu_before) = (Instant::now(), cpu_seconds());
        let invocations = bench.until_done(first, timeout).await?;
        let (seconds, worker_cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu_before);
        let peak_kb = peak_kb();
        let done = store.get_export(&ws, &export.id).await.map_err(|e| e.to_string())?.ok_or("the export vanished")?;
        if done.row_count != Some(contacts) {
            return Err(format!(
                "{format:?}: {:?} rows of {contacts} ({:?}, {:?})",
                done.row_count, done.status, done.error
            ));
        }
        let (bytes, rows_in_file) = read_file(&bench.s3, &done.object_key, format).await?;
        if rows_in_file.is_some_and(|rows| rows != contacts) {
            return Err(format!("{format:?}: the file holds {rows_in_file:?} rows, not {contacts}"));
        }
        eprintln!(
            "bench: {format:?} export of {contacts} rows in {seconds:.0} s ({worker_cpu:.0} s of the worker's CPU), {invocations} invocations"
        );
        runs.push(json!({
            "format": format,
            "rows": contacts,
            "seconds": seconds,
            "rows_per_second": contacts as f64 / seconds,
            "invocations": invocations,
            // The rest of the time is the emulator's: the worker waits on each page.
            "worker_cpu_seconds": worker_cpu,
            "file_bytes": bytes,
            "rows_counted_in_file": rows_in_file,
            "worker_process_rss_kb_before": rss_before,
            "worker_process_peak_kb": peak_kb,
        }));
    }
    let emulator_after_kb = rss_kb(&emulator_pid);
    drop(emulator);
    Ok(json!({
        "contacts": contacts,
        "load": { "seconds": load_seconds, "items": "profiles only", "emulator_rss_kb": emulator_kb },
        "worker": { "timeout_seconds": function.timeout, "time_budget": "the timeout's" },
        "exports": runs,
        "emulator_rss_kb_after": emulator_after_kb,
    }))
}

/// The file's size and, for CSV and JSON (one row a line), its rows, read as a stream.
async fn read_file(s3: &aws_sdk_s3::Client, key: &str, format: ExportFormat) -> Result<(u64, Option<u64>), String> {
    let object = s3.get_object().bucket(BUCKET).key(key).send().await;
    let mut body = object.map_err(|e| aws_sdk_s3::error::DisplayErrorContext(e).to_string())?.body;
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = body.try_next().await.map_err(|e| e.to_string())? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
    }
    // CSV: a header line; JSON: `[` and `]` on lines of their own around the rows.
    let rows = match format {
        ExportFormat::Csv => lines.checked_sub(1),
        ExportFormat::Json => lines.checked_sub(2),
        ExportFormat::Xlsx => None,
    };
    Ok((bytes, rows))
}
