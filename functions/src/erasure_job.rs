//! Erasing a person, for the API and the dashboard: the receipt is written first (the
//! person's identities suppressed, status `pending`), then as much of the purge as fits in
//! the request; what is left goes on the jobs queue as a unit that the jobs worker carries
//! on, a time budget at a time, until the receipt is `done`.

use crate::bucket::Bucket;
use crate::capture_queue::QueueError;
use crate::http::Problem;
use crate::jobs::{GdprJobs, JobError, JobUnit};
use chrono::{DateTime, Utc};
use model::domain::WorkspaceId;
use model::gdpr::{ErasureReceipt, ErasureStatus, Subject};
use model::usecases::gdpr::{self, EraseError};
use store::Store;

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    /// Nothing was recorded, or the receipt is `pending` and the request can be repeated.
    #[error(transparent)]
    Erase(#[from] EraseError),
    /// The receipt is `pending` and could not be handed on: the request can be repeated.
    #[error("erasure not queued: {0}")]
    Queue(#[from] QueueError),
}

impl From<ErasureError> for Problem {
    fn from(e: ErasureError) -> Self {
        match e {
            ErasureError::Erase(e) => e.into(),
            ErasureError::Queue(e) => {
                tracing::error!(error = %e, "erasure not handed to the jobs queue");
                Problem::unavailable("the erasure could not be queued; repeat the request")
            }
        }
    }
}

/// Erases the person `subject` names: the receipt, `done` or `pending` (then the jobs worker
/// finishes it).
pub async fn erase(
    store: &Store,
    files: &Bucket,
    jobs: &GdprJobs,
    ws: &WorkspaceId,
    subject: &Subject,
    requested_by: &str,
) -> Result<ErasureReceipt, ErasureError> {
    let receipt = gdpr::begin_erasure(store, ws, subject, requested_by).await?;
    let stop_at = Utc::now() + jobs.erasure_inline;
    let receipt = match gdpr::continue_erasure(store, files, ws, receipt.clone(), stop_at).await {
        Ok(done) if done.status == ErasureStatus::Done => return Ok(done),
        Ok(pending) => pending,
        // The jobs worker repeats what failed here (and SQS repeats the worker).
        Err(e) => {
            tracing::warn!(workspace = %ws, receipt = %receipt.id, error = %e, "erasure handed on after a failure");
            receipt
        }
    };
    let unit = JobUnit::Erasure { workspace: ws.to_string(), receipt: receipt.id.clone() };
    jobs.queue.send(&[unit]).await?;
    tracing::info!(workspace = %ws, receipt = %receipt.id, "erasure continues in the jobs worker");
    Ok(receipt)
}

/// One run of a pending erasure within `stop_at`; a summary and, while it is unfinished,
/// the unit that continues it.
pub async fn work(
    store: &Store,
    files: &Bucket,
    workspace: &str,
    receipt: &str,
    stop_at: DateTime<Utc>,
) -> Result<(String, Option<JobUnit>), JobError> {
    let ws = WorkspaceId::parse(workspace).map_err(|e| JobError::Malformed(e.to_string()))?;
    let Some(pending) = store.get_erasure(&ws, receipt).await? else {
        return Err(JobError::Malformed(format!("no erasure receipt {receipt} in {ws}")));
    };
    let receipt = gdpr::continue_erasure(store, files, &ws, pending, stop_at).await?;
    Ok(match receipt.status {
        ErasureStatus::Done => (format!("erasure {} done", receipt.id), None),
        ErasureStatus::Pending => (
            format!("erasure {} continues ({} conversations removed)", receipt.id, receipt.conversations_removed),
            Some(JobUnit::Erasure { workspace: workspace.to_string(), receipt: receipt.id }),
        ),
    })
}
