//! The export worker: each SQS message names one export, whose rows are read page by page
//! through the same listing as the API (`Store::list_contacts`, a Query on the filter's
//! index, never a Scan) and streamed to the exports bucket as a multipart upload, so
//! memory stays flat whatever the number of contacts. Progress is recorded as parts go
//! up; an export erased meanwhile stops the worker and its parts are dropped.

use crate::bucket::{Bucket, StorageError, Upload};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::Utc;
use model::domain::WorkspaceId;
use model::export::ExportUpdate;
use model::export::MAX_EXPORT_ATTEMPTS;
use model::export::{Export, ExportFilters, ExportRow, Parts, RowWriter};
use serde::{Deserialize, Serialize};
use store::meter::metered;
use store::{Store, StoreError};

/// Contacts read per list page.
const PAGE_SIZE: u32 = 400;
/// Progress is recorded at least this often (and whenever a part is uploaded).
const PROGRESS_EVERY_ROWS: u64 = 5_000;

/// What travels on the exports queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportMessage {
    pub workspace: String,
    pub export_id: String,
}

#[derive(Debug)]
pub struct ExportWorker {
    pub store: Store,
    pub bucket: Bucket,
}

pub async fn handle(worker: &ExportWorker, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let (result, usage) = metered(process(worker, record)).await;
        match result {
            Ok(outcome) => tracing::info!(message = %id, outcome, ddb_calls = usage.calls, "export handled"),
            Err(e) => {
                tracing::error!(message = %id, error = %e, "export attempt failed; it will be retried");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

/// Why writing stopped before the file was complete.
enum Stop {
    /// The export was erased or finished elsewhere: nothing more to do.
    Gone,
    /// Will not work on a retry either.
    Fail(String),
    /// May work on a retry (S3 or DynamoDB trouble).
    Retry(String),
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

async fn process(worker: &ExportWorker, record: &SqsMessage) -> Result<&'static str, AttemptError> {
    let message: ExportMessage = serde_json::from_str(record.body.as_deref().unwrap_or(""))
        .map_err(|e| AttemptError::Malformed(e.to_string()))?;
    let ws = WorkspaceId::parse(&message.workspace).map_err(|e| AttemptError::Malformed(e.to_string()))?;
    let store = &worker.store;
    let export = match store.claim_export(&ws, &message.export_id, Utc::now()).await? {
        ExportUpdate::Done(e) => *e,
        ExportUpdate::Gone => {
            // Finished, erased, or out of attempts: a redelivery or a retry past the limit.
            let unfinished = store.get_export(&ws, &message.export_id).await?.filter(|e| !e.status.is_finished());
            if unfinished.is_some() {
                store
                    .fail_export(
                        &ws,
                        &message.export_id,
                        &format!("gave up after {MAX_EXPORT_ATTEMPTS} attempts"),
                        Utc::now(),
                    )
                    .await?;
            }
            return Ok("skipped");
        }
    };
    if let Some(crashed) = &export.upload_id {
        worker.bucket.abort_upload(&export.object_key, crashed).await?;
    }
    match write(worker, &ws, &export).await {
        Ok(rows) => {
            tracing::info!(workspace = %ws, export = %export.id, rows, format = export.format.extension(), "export ready");
            Ok("ready")
        }
        Err(Stop::Gone) => Ok("removed while running"),
        Err(Stop::Retry(e)) if export.attempts < MAX_EXPORT_ATTEMPTS => Err(AttemptError::Interrupted(e)),
        Err(Stop::Fail(e) | Stop::Retry(e)) => {
            store.fail_export(&ws, &export.id, &e, Utc::now()).await?;
            Ok("failed")
        }
    }
}

/// Writes the whole file; aborts the upload when it stops early.
async fn write(worker: &ExportWorker, ws: &WorkspaceId, export: &Export) -> Result<u64, Stop> {
    let upload = worker
        .bucket
        .start_upload(&export.object_key, export.format.content_type(), &export.content_disposition())
        .await
        .map_err(|e| Stop::Retry(e.to_string()))?;
    let upload_id = upload.upload_id.clone();
    let result = stream(worker, ws, export, upload).await;
    if result.is_err() {
        if let Err(e) = worker.bucket.abort_upload(&export.object_key, &upload_id).await {
            tracing::warn!(error = %e, export = %export.id, "parts of a stopped export left for the bucket's lifecycle rule");
        }
    }
    result
}

async fn stream(worker: &ExportWorker, ws: &WorkspaceId, export: &Export, upload: Upload) -> Result<u64, Stop> {
    let store = &worker.store;
    let upload_id = upload.upload_id.clone();
    let progress = |rows: u64| {
        let upload_id = upload_id.clone();
        async move {
            match store.export_progress(ws, &export.id, rows, &upload_id).await {
                Ok(ExportUpdate::Done(_)) => Ok(()),
                Ok(ExportUpdate::Gone) => Err(Stop::Gone),
                Err(e) => Err(Stop::Retry(e.to_string())),
            }
        }
    };
    progress(0).await?;
    let mut request =
        ExportFilters::list_request(&export.resolved_filters, ws, PAGE_SIZE).map_err(|e| Stop::Fail(e.to_string()))?;
    let mut writer = RowWriter::new(export.format).map_err(|e| Stop::Fail(e.to_string()))?;
    let mut parts = Parts::new(upload);
    let (mut rows, mut reported) = (0u64, 0u64);
    loop {
        let page = store.list_contacts(ws, &request).await.map_err(|e| Stop::Retry(e.to_string()))?;
        for contact in &page.contacts {
            writer.write(&ExportRow::from(contact)).map_err(|e| Stop::Fail(e.to_string()))?;
            rows += 1;
        }
        let uploaded = parts
            .push(&writer.take().map_err(|e| Stop::Fail(e.to_string()))?)
            .await
            .map_err(|e| Stop::Retry(e.to_string()))?;
        if uploaded || rows - reported >= PROGRESS_EVERY_ROWS {
            progress(rows).await?;
            reported = rows;
        }
        match page.next_position {
            Some(position) => request.position = Some(position),
            None => break,
        }
    }
    writer.finish(&mut parts).await.map_err(|e| Stop::Fail(e.to_string()))?;
    let (upload, size, _) = parts.finish().await.map_err(|e| Stop::Retry(e.to_string()))?;
    upload.complete().await.map_err(|e| Stop::Retry(e.to_string()))?;
    match store.finish_export(ws, &export.id, rows, size, Utc::now()).await {
        Ok(ExportUpdate::Done(_)) => Ok(rows),
        Ok(ExportUpdate::Gone) => {
            // Erased while the last part went up: the file must not outlive the record.
            worker.bucket.delete(&export.object_key).await.map_err(|e| Stop::Retry(e.to_string()))?;
            Err(Stop::Gone)
        }
        Err(e) => Err(Stop::Retry(e.to_string())),
    }
}
