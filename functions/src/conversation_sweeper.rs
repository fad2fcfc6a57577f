//! The scheduled sweep that closes conversations gone idle.

use chrono::{Duration, Utc};
use contacts::store::meter::metered;
use contacts::store::Store;

pub async fn handle(store: &Store, idle: Duration) -> Result<u32, String> {
    let (closed, usage) = metered(store.close_idle_conversations(Utc::now(), idle)).await;
    let closed = closed.map_err(|e| e.to_string())?;
    tracing::info!(closed, idle_minutes = idle.num_minutes(), ddb_calls = usage.calls, "idle conversations closed");
    Ok(closed)
}
