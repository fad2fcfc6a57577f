//! The export worker: each SQS message names one export, whose rows are read page by page
//! through the same listing as the API (`Store::list_contacts`, a Query on the filter's
//! index, never a Scan) and streamed to the exports bucket as a multipart upload, so
//! memory stays flat whatever the number of contacts.
//!
//! A CSV or JSON export outgrows one run: the worker saves a checkpoint on the export's
//! record whenever a part is uploaded, and before its time budget runs out it saves the
//! bytes written after the last part (the carry), checkpoints, and sends the export's
//! message again for the next run to continue. A retried or redelivered message resumes
//! from the last checkpoint. An XLSX file (a zip) is written in one run. An export erased
//! meanwhile stops the worker and its parts are dropped.

use crate::bucket::{Bucket, StorageError, Upload};
use crate::config::TimeBudget;
use crate::work_queue::{each_message, WorkQueue};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use model::domain::WorkspaceId;
use model::export::{Export, ExportCheckpoint, ExportFilters, ExportRow, ExportUpdate, Parts, RowWriter};
use model::export::{ExportFormat, MAX_EXPORT_ATTEMPTS};
use serde::{Deserialize, Serialize};
use store::{Store, StoreError};

/// Contacts read per list page.
const PAGE_SIZE: u32 = 400;
/// Progress of an XLSX export is recorded at least this often.
const PROGRESS_EVERY_ROWS: u64 = 5_000;

/// What travels on the exports queue: the first run's message and each continuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportMessage {
    pub workspace: String,
    pub export_id: String,
}

#[derive(Debug)]
pub struct ExportWorker {
    pub store: Store,
    pub bucket: Bucket,
    /// Where a run hands on the rest of an export.
    pub queue: WorkQueue,
    pub budget: TimeBudget,
}

/// Handles a batch; `lambda_deadline` is when Lambda stops the invocation.
pub async fn handle(worker: &ExportWorker, event: SqsEvent, lambda_deadline: DateTime<Utc>) -> SqsBatchResponse {
    each_message(&event, "export", |record| process(worker, record, lambda_deadline)).await
}

/// How a run ended well.
enum Done {
    Ready(u64),
    /// The rest is on the queue.
    HandedOn(u64),
}

/// Why writing stopped before the file was complete.
enum Stop {
    /// The export was erased or finished elsewhere: nothing more to do.
    Gone,
    /// Another run of the same export saved a checkpoint first: it goes on, this one stops.
    Superseded,
    /// Will not work on a retry either.
    Fail(String),
    /// May work on a retry (S3 or DynamoDB trouble); the last checkpoint stays valid.
    Retry(String),
}

fn retry(e: impl std::fmt::Display) -> Stop {
    Stop::Retry(e.to_string())
}

fn fail(e: impl std::fmt::Display) -> Stop {
    Stop::Fail(e.to_string())
}

/// Why an attempt did not finish; the message is received again.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("not an export message: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Writing stopped on a fault a retry may not have.
    #[error("{0}")]
    Interrupted(String),
}

async fn process(
    worker: &ExportWorker,
    record: &SqsMessage,
    lambda_deadline: DateTime<Utc>,
) -> Result<&'static str, AttemptError> {
    let message: ExportMessage = serde_json::from_str(record.body.as_deref().unwrap_or(""))
        .map_err(|e| AttemptError::Malformed(e.to_string()))?;
    let ws = WorkspaceId::parse(&message.workspace).map_err(|e| AttemptError::Malformed(e.to_string()))?;
    let store = &worker.store;
    let export = match store.claim_export(&ws, &message.export_id, Utc::now()).await? {
        ExportUpdate::Done(e) => *e,
        ExportUpdate::Gone => {
            // Finished, erased, or out of attempts: a redelivery or a retry past the limit.
            let unfinished = store.get_export(&ws, &message.export_id).await?.filter(|e| !e.status.is_finished());
            if let Some(export) = unfinished {
                drop_upload(worker, &export).await;
                let reason = format!("gave up after {MAX_EXPORT_ATTEMPTS} attempts without progress");
                store.fail_export(&ws, &message.export_id, &reason, Utc::now()).await?;
            }
            return Ok("skipped");
        }
    };
    let result = if export.format.resumable() {
        continue_file(worker, &ws, &export, message, worker.budget.stop_at(lambda_deadline)).await
    } else {
        // An XLSX file is written in one run, with all of the invocation's time.
        whole_file(worker, &ws, &export, TimeBudget::default().stop_at(lambda_deadline)).await
    };
    match result {
        Ok(Done::Ready(rows)) => {
            tracing::info!(workspace = %ws, export = %export.id, rows, format = export.format.extension(), continuations = export.continuations, "export ready");
            Ok("ready")
        }
        Ok(Done::HandedOn(rows)) => {
            tracing::info!(workspace = %ws, export = %export.id, rows, "export continues in the next run");
            Ok("handed on")
        }
        Err(Stop::Superseded) => Ok("superseded by another run"),
        Err(Stop::Gone) => {
            drop_upload(worker, &export).await;
            Ok("removed while running")
        }
        Err(Stop::Retry(e)) if export.attempts < MAX_EXPORT_ATTEMPTS => Err(AttemptError::Interrupted(e)),
        Err(Stop::Fail(e) | Stop::Retry(e)) => {
            // The upload as recorded now: this run may have started a new one.
            if let Some(current) = store.get_export(&ws, &export.id).await? {
                drop_upload(worker, &current).await;
            }
            store.fail_export(&ws, &export.id, &e, Utc::now()).await?;
            Ok("failed")
        }
    }
}

/// Drops the parts of an export that will not be completed (as read when the run began;
/// a later upload id is the bucket's lifecycle rule's to clean up).
async fn drop_upload(worker: &ExportWorker, export: &Export) {
    if let Some(upload) = &export.upload_id {
        if let Err(e) = worker.bucket.abort_upload(&export.object_key, upload).await {
            tracing::warn!(error = %e, export = %export.id, "parts of a stopped export left for the bucket's lifecycle rule");
        }
    }
}

/// What a conditional change to a running export came to.
/// The checkpoint after `previous`: the file so far in `parts` (no carry yet), up to `position`.
fn next_checkpoint(
    previous: &ExportCheckpoint,
    position: &Option<model::listing::Position>,
    rows: u64,
    parts: &Parts<Upload>,
) -> ExportCheckpoint {
    ExportCheckpoint {
        seq: previous.seq + 1,
        position: position.clone(),
        rows,
        bytes: parts.bytes(),
        parts: parts.sink().parts(),
        carry: None,
    }
}

async fn still_running(store: &Store, ws: &WorkspaceId, id: &str, update: ExportUpdate) -> Result<(), Stop> {
    match update {
        ExportUpdate::Done(_) => Ok(()),
        ExportUpdate::Gone => match store.get_export(ws, id).await.map_err(retry)? {
            Some(e) if !e.status.is_finished() => Err(Stop::Superseded),
            _ => Err(Stop::Gone),
        },
    }
}

/// Continues a CSV or JSON export from its checkpoint (or starts it) until the list ends
/// or `stop_at` passes, whichever comes first.
async fn continue_file(
    worker: &ExportWorker,
    ws: &WorkspaceId,
    export: &Export,
    message: ExportMessage,
    stop_at: DateTime<Utc>,
) -> Result<Done, Stop> {
    let (store, bucket) = (&worker.store, &worker.bucket);
    let run = model::domain::time_ordered_id("r", Utc::now(), 3);
    let (upload, mut checkpoint, pending, mut writer) = match (&export.checkpoint, &export.upload_id) {
        (Some(checkpoint), Some(upload_id)) => {
            let pending = match &checkpoint.carry {
                Some(key) => bucket.get(key).await.map_err(retry)?,
                None => Vec::new(),
            };
            let upload = bucket.resume_upload(&export.object_key, upload_id, &checkpoint.parts);
            (upload, checkpoint.clone(), pending, RowWriter::resume(export.format, checkpoint.rows).map_err(fail)?)
        }
        _ => {
            // A first run, or a run after one that stopped before its first checkpoint.
            drop_upload(worker, export).await;
            let upload = start(worker, ws, export).await?;
            (upload, ExportCheckpoint::default(), Vec::new(), RowWriter::new(export.format).map_err(fail)?)
        }
    };
    let upload_id = upload.upload_id.clone();
    let mut parts = Parts::resume(upload, checkpoint.parts.len() as i32, checkpoint.bytes, pending);
    let mut request =
        ExportFilters::list_request(&export.resolved_filters, ws, PAGE_SIZE).map_err(|e| Stop::Fail(e.to_string()))?;
    request.position = checkpoint.position.clone();
    let mut rows = checkpoint.rows;
    let mut pages = 0;
    loop {
        // At least one page a run, so that every run makes progress.
        if pages > 0 && Utc::now() >= stop_at {
            checkpoint = next_checkpoint(&checkpoint, &request.position, rows, &parts);
            if !parts.pending().is_empty() {
                let key = export.carry_key(checkpoint.seq, &run);
                bucket.put(&key, parts.pending().to_vec()).await.map_err(retry)?;
                checkpoint.carry = Some(key);
            }
            let previous_carry = export.checkpoint.as_ref().and_then(|c| c.carry.clone());
            let saved = store.checkpoint_export(ws, &export.id, &upload_id, &checkpoint, true, Utc::now()).await;
            still_running(store, ws, &export.id, saved.map_err(retry)?).await?;
            worker.queue.send(&message).await.map_err(retry)?;
            if let Some(key) = previous_carry.filter(|k| Some(k) != checkpoint.carry.as_ref()) {
                delete_carry(bucket, &key).await;
            }
            return Ok(Done::HandedOn(rows));
        }
        let page = store.list_contacts(ws, &request).await.map_err(retry)?;
        pages += 1;
        for contact in &page.contacts {
            writer.write(&ExportRow::from(contact)).map_err(fail)?;
            rows += 1;
        }
        request.position = page.next_position;
        let uploaded = parts.push(&writer.take().map_err(fail)?).await.map_err(retry)?;
        if request.position.is_none() {
            break;
        }
        if uploaded {
            // The file so far is all in parts, up to the end of this page.
            checkpoint = next_checkpoint(&checkpoint, &request.position, rows, &parts);
            let saved = store.checkpoint_export(ws, &export.id, &upload_id, &checkpoint, false, Utc::now()).await;
            still_running(store, ws, &export.id, saved.map_err(retry)?).await?;
        }
    }
    writer.finish(&mut parts).await.map_err(fail)?;
    let (upload, size, _) = parts.finish().await.map_err(retry)?;
    complete(worker, ws, export, upload, rows, size).await?;
    if let Some(key) = export.checkpoint.as_ref().and_then(|c| c.carry.as_deref()) {
        delete_carry(bucket, key).await;
    }
    Ok(Done::Ready(rows))
}

/// A carry no checkpoint names any more; one left behind goes with the bucket's lifecycle rule.
async fn delete_carry(bucket: &Bucket, key: &str) {
    if let Err(e) = bucket.delete(key).await {
        tracing::warn!(error = %e, key, "an export's carry left for the bucket's lifecycle rule");
    }
}

/// Starts the multipart upload and records it (so an erasure can drop its parts).
async fn start(worker: &ExportWorker, ws: &WorkspaceId, export: &Export) -> Result<Upload, Stop> {
    let upload = worker
        .bucket
        .start_upload(&export.object_key, export.format.content_type(), &export.content_disposition())
        .await
        .map_err(retry)?;
    let recorded = worker.store.export_progress(ws, &export.id, 0, &upload.upload_id).await.map_err(retry)?;
    if let Err(stop) = still_running(&worker.store, ws, &export.id, recorded).await {
        let _ = upload.abort().await;
        return Err(stop);
    }
    Ok(upload)
}

/// Completes the upload and marks the export ready (deleting the file if the export was
/// erased while the last part went up: the file must not outlive the record).
async fn complete(
    worker: &ExportWorker,
    ws: &WorkspaceId,
    export: &Export,
    upload: Upload,
    rows: u64,
    size: u64,
) -> Result<(), Stop> {
    upload.complete().await.map_err(retry)?;
    match worker.store.finish_export(ws, &export.id, rows, size, Utc::now()).await.map_err(retry)? {
        ExportUpdate::Done(_) => Ok(()),
        ExportUpdate::Gone => {
            worker.bucket.delete(&export.object_key).await.map_err(retry)?;
            Err(Stop::Gone)
        }
    }
}

/// Writes a whole XLSX file in this run; a retry starts it again.
async fn whole_file(
    worker: &ExportWorker,
    ws: &WorkspaceId,
    export: &Export,
    stop_at: DateTime<Utc>,
) -> Result<Done, Stop> {
    drop_upload(worker, export).await;
    let upload = start(worker, ws, export).await?;
    let upload_id = upload.upload_id.clone();
    let result = xlsx_rows(worker, ws, export, upload, stop_at).await;
    if result.is_err() {
        if let Err(e) = worker.bucket.abort_upload(&export.object_key, &upload_id).await {
            tracing::warn!(error = %e, export = %export.id, "parts of a stopped export left for the bucket's lifecycle rule");
        }
    }
    result
}

async fn xlsx_rows(
    worker: &ExportWorker,
    ws: &WorkspaceId,
    export: &Export,
    upload: Upload,
    stop_at: DateTime<Utc>,
) -> Result<Done, Stop> {
    let store = &worker.store;
    let upload_id = upload.upload_id.clone();
    let mut request = ExportFilters::list_request(&export.resolved_filters, ws, PAGE_SIZE).map_err(fail)?;
    let mut writer = RowWriter::new(ExportFormat::Xlsx).map_err(fail)?;
    let mut parts = Parts::new(upload);
    let (mut rows, mut reported) = (0u64, 0u64);
    loop {
        if Utc::now() >= stop_at {
            return Err(Stop::Fail(
                "an XLSX export must be written within one run of the export worker (15 minutes), and this one was not: export this list as CSV or JSON, which continue across runs".into(),
            ));
        }
        let page = store.list_contacts(ws, &request).await.map_err(retry)?;
        for contact in &page.contacts {
            writer.write(&ExportRow::from(contact)).map_err(fail)?;
            rows += 1;
        }
        if rows - reported >= PROGRESS_EVERY_ROWS {
            let recorded = store.export_progress(ws, &export.id, rows, &upload_id).await.map_err(retry)?;
            still_running(store, ws, &export.id, recorded).await?;
            reported = rows;
        }
        match page.next_position {
            Some(position) => request.position = Some(position),
            None => break,
        }
    }
    writer.finish(&mut parts).await.map_err(fail)?;
    let (upload, size, _) = parts.finish().await.map_err(retry)?;
    complete(worker, ws, export, upload, rows, size).await?;
    Ok(Done::Ready(rows))
}
