//! The scheduled retention job: for each workspace with retention enabled, resumes an
//! unfinished run or starts the day's run, working until shortly before the Lambda timeout.

use chrono::{DateTime, Duration, Utc};
use contacts::store::meter::metered;
use contacts::store::{RunStatus, Store, StoreError};

pub async fn handle(store: &Store, deadline: DateTime<Utc>) -> Result<String, String> {
    let (result, usage) = metered(async {
        let (mut started, mut finished) = (0, 0);
        for ws in store.list_workspaces().await? {
            let policy = store.retention_policy(&ws).await?;
            if !policy.enabled {
                continue;
            }
            let latest = store.list_retention_runs(&ws, 1).await?.into_iter().next();
            let run = match latest {
                Some(run) if run.status == RunStatus::Running && !run.dry_run => run,
                Some(run) if Utc::now() - run.started_at < Duration::hours(20) => continue,
                _ => {
                    started += 1;
                    store.start_retention_run(&ws, policy, false, Utc::now()).await?
                }
            };
            if store.continue_retention_run(&ws, run, deadline).await?.status == RunStatus::Done {
                finished += 1;
            }
        }
        Ok::<_, StoreError>((started, finished))
    })
    .await;
    let (started, finished) = result.map_err(|e| e.to_string())?;
    tracing::info!(started, finished, ddb_calls = usage.calls, "retention");
    Ok(format!("{started} retention runs started, {finished} finished"))
}
