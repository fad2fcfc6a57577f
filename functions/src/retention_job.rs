//! The scheduled retention job. Its dispatcher enqueues one unit per workspace (listed a
//! page at a time from gsi1 `WORKSPACES`); the jobs worker then, for the workspace,
//! resumes its unfinished run or starts the day's, works on it within its budget, and
//! enqueues the workspace again while the run is unfinished. The audit log records each
//! scheduled run's start and end (`job:retention`).

use crate::jobs::{self, Dispatcher, JobError, JobUnit};
use chrono::{DateTime, Duration, Utc};
use model::domain::WorkspaceId;
use model::retention::{RetentionRun, RunStatus};
use store::{Store, StoreError};

/// The job's name in the audit log (`job:retention`).
const JOB: &str = "retention";

/// A new scheduled run starts at most this often per workspace.
const RUN_EVERY_HOURS: i64 = 20;

/// Enqueues a retention unit for every workspace.
pub async fn dispatch(dispatcher: &Dispatcher) -> Result<String, JobError> {
    let queued = jobs::for_every_workspace(dispatcher, |ws| JobUnit::Retention { workspace: ws.to_string() }).await?;
    tracing::info!(queued, "retention dispatched");
    Ok(format!("{queued} workspaces queued for retention"))
}

/// One workspace's retention within `stop_at`; returns a summary and, while the run is
/// unfinished, the unit that continues it.
pub async fn work(
    store: &Store,
    workspace: &str,
    stop_at: DateTime<Utc>,
) -> Result<(String, Option<JobUnit>), JobError> {
    let ws = WorkspaceId::parse(workspace).map_err(|e| JobError::Malformed(e.to_string()))?;
    let policy = store.retention_policy(&ws).await?;
    if !policy.enabled {
        return Ok(("retention disabled".into(), None));
    }
    let recent = store.list_retention_runs(&ws, 20).await?;
    let run = match recent.iter().find(|r| r.status == RunStatus::Running && !r.dry_run) {
        Some(unfinished) => unfinished.clone(),
        None if recent.first().is_some_and(|r| Utc::now() - r.started_at < Duration::hours(RUN_EVERY_HOURS)) => {
            return Ok(("nothing today".into(), None));
        }
        None => {
            // Incremental: the contacts idle before the last finished run's cutoff were
            // looked at by it, as long as it applied the same policy.
            let from = last_finished(&recent).filter(|r| r.policy == policy).map(|r| r.cutoff);
            let run = store.start_retention_run_from(&ws, policy, false, from, Utc::now()).await?;
            crate::audit::record_job(store, &ws, JOB, "retention run started", vec![run.id.clone()]).await;
            run
        }
    };
    match store.continue_retention_run(&ws, run, stop_at).await {
        Ok(run) if run.status == RunStatus::Running => {
            Ok((format!("run {} continues", run.id), Some(JobUnit::Retention { workspace: workspace.to_string() })))
        }
        Ok(run) => {
            let ended = format!("retention run {}", format!("{:?}", run.status).to_lowercase());
            crate::audit::record_job(store, &ws, JOB, &ended, vec![run.id.clone()]).await;
            Ok((format!("run {} {:?}: {:?}", run.id, run.status, run.counts), None))
        }
        // Another worker advanced the run meanwhile: it goes on with it.
        Err(StoreError::VersionMismatch { .. }) => Ok(("run taken over by another worker".into(), None)),
        Err(e) => Err(e.into()),
    }
}

fn last_finished(runs: &[RetentionRun]) -> Option<&RetentionRun> {
    runs.iter().find(|r| r.status == RunStatus::Done && !r.dry_run)
}
