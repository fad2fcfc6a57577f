//! The scheduled retention job. Its dispatcher enqueues one unit per workspace (listed a
//! page at a time from gsi1 `WORKSPACES`); the jobs worker then, for the workspace,
//! resumes its unfinished run or starts the day's, works on it within its budget, and
//! enqueues the workspace again while the run is unfinished.

use crate::jobs::{Dispatcher, JobError, JobUnit};
use chrono::{DateTime, Duration, Utc};
use model::domain::WorkspaceId;
use model::retention::{RetentionRun, RunStatus};
use store::meter::metered;
use store::{Store, StoreError};

/// Workspaces listed (and units sent) per page.
const WORKSPACES_PAGE: i32 = 100;

/// A new scheduled run starts at most this often per workspace.
const RUN_EVERY_HOURS: i64 = 20;

/// Enqueues a retention unit for every workspace.
pub async fn dispatch(dispatcher: &Dispatcher) -> Result<String, JobError> {
    let (result, usage) = metered(async {
        let mut queued = 0;
        let mut after = None;
        loop {
            let (workspaces, next) = dispatcher.store.workspaces_page(after, WORKSPACES_PAGE).await?;
            let units: Vec<JobUnit> =
                workspaces.iter().map(|ws| JobUnit::Retention { workspace: ws.to_string() }).collect();
            dispatcher.queue.send(&units).await?;
            queued += units.len();
            match next {
                Some(position) => after = Some(position),
                None => return Ok::<_, JobError>(queued),
            }
        }
    })
    .await;
    let queued = result?;
    tracing::info!(queued, ddb_calls = usage.calls, "retention dispatched");
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
            store.start_retention_run_from(&ws, policy, false, from, Utc::now()).await?
        }
    };
    match store.continue_retention_run(&ws, run, stop_at).await {
        Ok(run) if run.status == RunStatus::Running => {
            Ok((format!("run {} continues", run.id), Some(JobUnit::Retention { workspace: workspace.to_string() })))
        }
        Ok(run) => Ok((format!("run {} {:?}: {:?}", run.id, run.status, run.counts), None)),
        // Another worker advanced the run meanwhile: it goes on with it.
        Err(StoreError::VersionMismatch { .. }) => Ok(("run taken over by another worker".into(), None)),
        Err(e) => Err(e.into()),
    }
}

fn last_finished(runs: &[RetentionRun]) -> Option<&RetentionRun> {
    runs.iter().find(|r| r.status == RunStatus::Done && !r.dry_run)
}
