//! The scheduled sweep that closes conversations gone idle.

use chrono::{Duration, Utc};
use store::meter::metered;
use store::{Store, StoreError};

/// What the sweep needs: the table, and when a conversation counts as idle.
#[derive(Debug, Clone)]
pub struct Sweeper {
    pub store: Store,
    pub idle: Duration,
}

pub async fn handle(store: &Store, idle: Duration) -> Result<u32, StoreError> {
    let (result, usage) = metered(store.close_idle_conversations(Utc::now(), idle)).await;
    let closed = result?;
    tracing::info!(closed, idle_minutes = idle.num_minutes(), ddb_calls = usage.calls, "idle conversations closed");
    Ok(closed)
}
