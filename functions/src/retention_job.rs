//! The scheduled retention job: for each workspace with retention enabled, resumes an
//! unfinished run or starts the day's run, working until shortly before the Lambda timeout.

use chrono::{DateTime, Duration, Utc};
use model::retention::RunStatus;
use store::meter::metered;
use store::{Store, StoreError};

/// When a run must stop: a minute before the Lambda's deadline (epoch milliseconds), so
/// the checkpoint lets the next invocation go on. Local runtimes (cargo lambda watch, the
/// local server) have no deadline or report one in the past: then allow 4 minutes.
pub fn stop_by(lambda_deadline_ms: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(lambda_deadline_ms as i64 - 60_000)
        .filter(|d| *d > Utc::now())
        .unwrap_or_else(|| Utc::now() + Duration::minutes(4))
}

pub async fn handle(store: &Store, deadline: DateTime<Utc>) -> Result<String, StoreError> {
    let (result, usage) = metered(async {
        let (mut started, mut finished) = (0, 0);
        for ws in store.list_workspaces().await? {
            let policy = store.retention_policy(&ws).await?;
            if !policy.enabled {
                continue;
            }
            let recent = store.list_retention_runs(&ws, 20).await?;
            let mut work: Vec<_> = recent.iter().filter(|r| r.status == RunStatus::Running).cloned().collect();
            if recent.first().is_none_or(|r| Utc::now() - r.started_at >= Duration::hours(20)) {
                started += 1;
                work.push(store.start_retention_run(&ws, policy, false, Utc::now()).await?);
            }
            for run in work {
                // One workspace's failure is recorded on its run and does not stop the others.
                match store.continue_retention_run(&ws, run, deadline).await {
                    Ok(run) if run.status == RunStatus::Done => finished += 1,
                    Ok(_) => {}
                    Err(e) => tracing::error!(workspace = %ws, error = %e, "retention run failed"),
                }
            }
        }
        Ok::<_, StoreError>((started, finished))
    })
    .await;
    let (started, finished) = result?;
    tracing::info!(started, finished, ddb_calls = usage.calls, "retention");
    Ok(format!("{started} retention runs started, {finished} finished"))
}
