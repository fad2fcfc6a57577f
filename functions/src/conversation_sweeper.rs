//! The scheduled sweep that closes conversations gone idle.

use chrono::{Duration, Utc};
use contacts::store::meter::metered;
use contacts::store::Store;

pub async fn handle(store: &Store, idle: Duration) -> Result<u32, String> {
    let (result, usage) = metered(async {
        let closed = store.close_idle_conversations(Utc::now(), idle).await?;
        store.recount_open_conversations().await?;
        Ok::<_, contacts::store::StoreError>(closed)
    })
    .await;
    let closed = result.map_err(|e| e.to_string())?;
    tracing::info!(closed, idle_minutes = idle.num_minutes(), ddb_calls = usage.calls, "idle conversations closed");
    Ok(closed)
}
