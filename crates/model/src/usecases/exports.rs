//! Requesting an export of the (filtered) contact list: recorded, then queued for the
//! export worker, which streams the file to storage.

use crate::domain::WorkspaceId;
use crate::export::{Export, ExportFilters, ExportFormat, MAX_XLSX_ROWS};
use crate::listing::TotalCounter;
use crate::ports::StoreError;
use chrono::{DateTime, Duration, Utc};
use std::future::Future;

pub trait ExportRecords: Sync {
    /// Stores a new export record, kept until `expires_at` (with its file).
    fn put_export(
        &self,
        ws: &WorkspaceId,
        export: &Export,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// How many contacts a counted filter holds (the workspace's counters).
    fn count(&self, ws: &WorkspaceId, counter: &TotalCounter) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The workspace's newest exports, newest first.
    fn recent_exports(
        &self,
        ws: &WorkspaceId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Export>, StoreError>> + Send;
    /// Ends an export as failed with a reason a person can act on.
    fn fail_export(
        &self,
        ws: &WorkspaceId,
        id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The export worker's queue.
pub trait ExportJobs: Sync {
    fn enqueue(&self, ws: &WorkspaceId, export_id: &str) -> impl Future<Output = Result<(), QueueError>> + Send;
}

#[derive(Debug, thiserror::Error)]
#[error("the queue refused the message: {0}")]
pub struct QueueError(pub String);

/// Exports one workspace may have queued or running at once by default
/// (`MAX_RUNNING_EXPORTS`), so that one workspace cannot hold the export worker's
/// concurrency for everyone.
pub const MAX_RUNNING_EXPORTS: usize = 3;

/// An export whose worker has shown no progress for this long (no run started or saved a
/// checkpoint) is stuck, its message lost, not running: it no longer counts against the limit.
const STUCK_AFTER_HOURS: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum RequestExportError {
    /// The workspace already has as many exports queued or running as it may.
    #[error("{running} exports of this workspace are still queued or running (at most {limit}); request this one when one of them has finished")]
    TooMany { running: usize, limit: usize },
    /// Recorded as failed: the worker will never see it.
    /// An XLSX worksheet cannot hold this many contacts.
    #[error("{count} contacts match, more than an XLSX worksheet holds ({MAX_XLSX_ROWS}); export them as CSV or JSON")]
    TooLargeForXlsx { count: u64 },
    #[error("the export could not be queued")]
    NotQueued(#[source] QueueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records an export and queues it; a record that could not be queued is marked failed
/// so that nobody waits on it.
pub async fn request_export(
    records: &impl ExportRecords,
    jobs: &impl ExportJobs,
    ws: &WorkspaceId,
    request: ExportRequest<'_>,
) -> Result<Export, RequestExportError> {
    let now = Utc::now();
    let limit = request.max_running;
    let running = records
        .recent_exports(ws, 2 * limit as u32)
        .await?
        .iter()
        .filter(|e| {
            let alive = e.progress_at.unwrap_or(e.created_at);
            !e.status.is_finished() && alive > now - Duration::hours(STUCK_AFTER_HOURS)
        })
        .count();
    if running >= limit {
        return Err(RequestExportError::TooMany { running, limit });
    }
    if request.format == ExportFormat::Xlsx {
        // Known up front when the filter has a counter; otherwise the worker stops at the limit.
        let counter =
            ExportFilters::list_request(&request.filters.resolved, ws, 1).ok().and_then(|r| r.filter.counted_total());
        if let Some(counter) = counter {
            let count = records.count(ws, &counter).await?;
            if count > MAX_XLSX_ROWS {
                return Err(RequestExportError::TooLargeForXlsx { count });
            }
        }
    }
    let export = Export::new(ws, request.format, request.filters, request.requested_by, now);
    records.put_export(ws, &export, now + Duration::days(request.keep_days + 1)).await?;
    if let Err(e) = jobs.enqueue(ws, &export.id).await {
        records.fail_export(ws, &export.id, "could not be queued; request it again", now).await?;
        return Err(RequestExportError::NotQueued(e));
    }
    tracing::info!(workspace = %ws, export = %export.id, format = request.format.extension(), key = %request.requested_by, "export requested");
    Ok(export)
}

/// What a person asks to export.
#[derive(Debug, Clone)]
pub struct ExportRequest<'a> {
    pub format: ExportFormat,
    pub filters: ExportFilters,
    pub requested_by: &'a str,
    /// How long the file is kept (the bucket's lifecycle rule); the record outlives it by a day.
    pub keep_days: i64,
    /// How many exports the workspace may have queued or running at once.
    pub max_running: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::ExportStatus;
    use crate::usecases::memory::{MemoryQueue, MemoryStore};

    fn request() -> ExportRequest<'static> {
        ExportRequest {
            format: ExportFormat::Csv,
            filters: ExportFilters::parse(&WorkspaceId::parse("acme").unwrap(), Default::default(), Utc::now())
                .unwrap(),
            requested_by: "ops",
            keep_days: 7,
            max_running: MAX_RUNNING_EXPORTS,
        }
    }

    #[tokio::test]
    async fn a_requested_export_is_recorded_and_queued_once() {
        let (store, queue) = (MemoryStore::default(), MemoryQueue::default());
        let ws = WorkspaceId::parse("acme").unwrap();
        let export = request_export(&store, &queue, &ws, request()).await.unwrap();
        assert_eq!(export.status, ExportStatus::Queued);
        assert_eq!(queue.sent(), vec![(ws.clone(), export.id.clone())]);
        assert_eq!(store.export(&ws, &export.id).unwrap().status, ExportStatus::Queued);
    }

    #[tokio::test]
    async fn a_workspace_runs_at_most_three_exports_at_once() {
        let (store, queue) = (MemoryStore::default(), MemoryQueue::default());
        let ws = WorkspaceId::parse("acme").unwrap();
        let other = WorkspaceId::parse("other").unwrap();
        for _ in 0..MAX_RUNNING_EXPORTS {
            request_export(&store, &queue, &ws, request()).await.unwrap();
        }
        assert!(matches!(
            request_export(&store, &queue, &ws, request()).await,
            Err(RequestExportError::TooMany { running: 3, limit: 3 })
        ));
        request_export(&store, &queue, &other, request()).await.expect("another workspace is not held back");
        let first = store.exports(&ws)[0].id.clone();
        store.fail_export(&ws, &first, "done with", Utc::now()).await.unwrap();
        request_export(&store, &queue, &ws, request()).await.expect("a finished export frees its place");
    }

    #[tokio::test]
    async fn an_xlsx_export_too_large_for_a_worksheet_is_refused_up_front() {
        let (store, queue) = (MemoryStore::default(), MemoryQueue::default());
        let ws = WorkspaceId::parse("acme").unwrap();
        store.set_total(MAX_XLSX_ROWS + 1);
        let xlsx = ExportRequest { format: ExportFormat::Xlsx, ..request() };
        assert!(matches!(
            request_export(&store, &queue, &ws, xlsx).await,
            Err(RequestExportError::TooLargeForXlsx { count }) if count == MAX_XLSX_ROWS + 1
        ));
        assert!(store.exports(&ws).is_empty() && queue.sent().is_empty(), "nothing recorded or queued");
        request_export(&store, &queue, &ws, request()).await.expect("CSV has no such limit");
    }

    #[tokio::test]
    async fn an_export_that_cannot_be_queued_ends_failed_with_a_reason() {
        let (store, queue) = (MemoryStore::default(), MemoryQueue::refusing());
        let ws = WorkspaceId::parse("acme").unwrap();
        assert!(matches!(request_export(&store, &queue, &ws, request()).await, Err(RequestExportError::NotQueued(_))));
        let recorded = store.exports(&ws);
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].status, ExportStatus::Failed);
        assert!(recorded[0].error.as_deref().unwrap().contains("request it again"));
    }
}
