//! Scheduled jobs fanned out over a queue. Each schedule runs a small dispatcher that
//! enqueues one unit of work per workspace (retention) or per index shard (the purge, the
//! idle-conversation sweep) on `JobsQueue`, as the API and the dashboard do with an erasure
//! that outgrows its request; the jobs worker does one unit within its time budget, a page
//! at a time, and enqueues what is left as a new unit. A unit that fails is retried by SQS
//! and, after 5 receives, dead-lettered (with an alarm), while the other units go on.

use crate::bucket::Bucket;
use crate::capture_queue::{send_in_batches, QueueError};
use crate::config::TimeBudget;
use crate::{access_job, analytics_rollup, contact_purger, conversation_sweeper, erasure_job, retention_job};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use model::domain::WorkspaceId;
use model::listing::Position;
use serde::{Deserialize, Serialize};
use store::meter::metered;
use store::{ReageCursor, Store, StoreError};

/// One unit of a scheduled job's work: what travels on the jobs queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum JobUnit {
    /// Resume the workspace's unfinished retention run, or start the day's.
    Retention { workspace: String },
    /// Purge the contacts of one purge shard whose grace period ended, from `after`.
    Purge {
        shard: u32,
        #[serde(default)]
        after: Option<Position>,
    },
    /// Write the workspace's missing daily snapshots and re-age its leads; `reage` continues
    /// an unfinished re-aging.
    Rollup {
        workspace: String,
        #[serde(default)]
        reage: Option<ReageCursor>,
    },
    /// Close the idle conversations of one open-conversation shard, from `after`.
    Sweep {
        shard: u32,
        #[serde(default)]
        after: Option<Position>,
    },
    /// Carry on the pending erasure whose receipt this is (asked for through the API or the
    /// dashboard, and too long for the request).
    Erasure { workspace: String, receipt: String },
    /// Write the document of the pending access request (asked for through the API or the
    /// dashboard, and too long for the request).
    AccessExport { workspace: String, request: String },
}

/// The jobs queue (standard SQS): units in any order, each safe to run twice.
#[derive(Debug, Clone)]
pub struct JobQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl JobQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        JobQueue { client, url: url.into() }
    }

    /// Sends the units, ten to a call.
    pub async fn send(&self, units: &[JobUnit]) -> Result<(), QueueError> {
        send_in_batches(&self.client, &self.url, units, None).await
    }
}

/// Where the API and the dashboard hand on data-subject requests that outgrow a request.
#[derive(Debug, Clone)]
pub struct GdprJobs {
    pub queue: JobQueue,
    /// How long a request works on an erasure before handing it to the jobs worker
    /// (`ERASURE_INLINE_SECONDS`, default 5; 0 hands every erasure on).
    pub erasure_inline: chrono::Duration,
    /// How long a request assembles an access document before handing it on
    /// (`ACCESS_EXPORT_INLINE_SECONDS`, default 5).
    pub access_inline: chrono::Duration,
}

/// A scheduled function: its dispatcher's state.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    pub store: Store,
    pub queue: JobQueue,
}

/// Workspaces listed (and units sent) per page by a per-workspace dispatcher.
const WORKSPACES_PAGE: i32 = 100;

/// Enqueues a unit for every workspace, listed a page at a time from gsi1 `WORKSPACES`;
/// returns how many.
pub async fn for_every_workspace(
    dispatcher: &Dispatcher,
    unit: impl Fn(&WorkspaceId) -> JobUnit,
) -> Result<usize, JobError> {
    let (result, usage) = metered(async {
        let (mut queued, mut after) = (0, None);
        loop {
            let (workspaces, next) = dispatcher.store.workspaces_page(after, WORKSPACES_PAGE).await?;
            let units: Vec<JobUnit> = workspaces.iter().map(&unit).collect();
            dispatcher.queue.send(&units).await?;
            queued += units.len();
            match next {
                Some(position) => after = Some(position),
                None => return Ok::<_, JobError>(queued),
            }
        }
    })
    .await;
    tracing::debug!(ddb_calls = usage.calls, "workspaces listed");
    result
}

/// Why a dispatcher or a unit did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Erase(#[from] model::usecases::gdpr::EraseError),
    #[error(transparent)]
    Access(#[from] crate::access_job::AccessError),
    #[error("not a job unit: {0}")]
    Malformed(String),
}

/// The jobs worker's state.
#[derive(Debug, Clone)]
pub struct JobsWorker {
    pub store: Store,
    pub queue: JobQueue,
    pub budget: TimeBudget,
    /// When a conversation counts as idle (`CONVERSATION_IDLE_MINUTES`).
    pub idle: chrono::Duration,
    /// Where erasures delete the export files that may hold the person.
    pub exports: Bucket,
}

/// Handles a batch of units; `lambda_deadline` is when Lambda stops the invocation.
pub async fn handle(worker: &JobsWorker, event: SqsEvent, lambda_deadline: DateTime<Utc>) -> SqsBatchResponse {
    let stop_at = worker.budget.stop_at(lambda_deadline);
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let unit = serde_json::from_str::<JobUnit>(record.body.as_deref().unwrap_or(""));
        let (result, usage) = match unit {
            Ok(unit) => metered(work(worker, &unit, stop_at)).await,
            Err(e) => (Err(JobError::Malformed(e.to_string())), Default::default()),
        };
        match result {
            Ok(summary) => tracing::info!(message = %id, %summary, ddb_calls = usage.calls, "job unit done"),
            Err(e) => {
                // Retried by SQS; after 5 receives the unit waits in the dead-letter queue.
                tracing::error!(message = %id, body = record.body.as_deref().unwrap_or(""), error = %e, "job unit failed");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

/// Does one unit until it is done or `stop_at` passes; what is left goes back on the queue.
async fn work(worker: &JobsWorker, unit: &JobUnit, stop_at: DateTime<Utc>) -> Result<String, JobError> {
    let (summary, rest) = match unit {
        JobUnit::Retention { workspace } => retention_job::work(&worker.store, workspace, stop_at).await?,
        JobUnit::Rollup { workspace, reage } => {
            analytics_rollup::work(&worker.store, workspace, reage.clone(), stop_at).await?
        }
        JobUnit::Purge { shard, after } => contact_purger::work(&worker.store, *shard, after.clone(), stop_at).await?,
        JobUnit::Sweep { shard, after } => {
            conversation_sweeper::work(&worker.store, worker.idle, *shard, after.clone(), stop_at).await?
        }
        JobUnit::Erasure { workspace, receipt } => {
            erasure_job::work(&worker.store, &worker.exports, workspace, receipt, stop_at).await?
        }
        JobUnit::AccessExport { workspace, request } => {
            access_job::work(&worker.store, &worker.exports, workspace, request).await?
        }
    };
    if let Some(rest) = rest {
        worker.queue.send(&[rest]).await?;
        return Ok(format!("{summary}; the rest queued"));
    }
    Ok(summary)
}
