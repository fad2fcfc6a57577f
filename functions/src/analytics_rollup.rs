//! The daily rollup: re-ages lead scores and statuses that change with time alone, and
//! writes yesterday's snapshot for every workspace. Both steps are idempotent.

use chrono::{Duration, Utc};
use store::meter::metered;
use store::{Store, StoreError};

pub async fn handle(store: &Store) -> Result<String, StoreError> {
    let now = Utc::now();
    let yesterday = (now - Duration::days(1)).date_naive();
    let (result, usage) = metered(async {
        let mut reaged = 0;
        let mut snapshots = 0;
        for ws in store.list_workspaces().await? {
            let policy = store.get_workspace(&ws).await?.map(|w| w.lead_rules.policy).unwrap_or_default();
            reaged += store.reage_contacts(&ws, now, policy).await?;
            snapshots += u32::from(store.write_snapshot(&ws, yesterday).await?);
        }
        Ok::<_, store::StoreError>((reaged, snapshots))
    })
    .await;
    let (reaged, snapshots) = result?;
    tracing::info!(reaged, snapshots, day = %yesterday, ddb_calls = usage.calls, "analytics rollup");
    Ok(format!("{reaged} contacts re-aged, {snapshots} snapshots written"))
}
