//! The scheduled purge: contacts deleted with a grace period are removed for good once it ends.

use chrono::Utc;
use store::meter::metered;
use store::{Store, StoreError};

pub async fn handle(store: &Store) -> Result<u32, StoreError> {
    let (purged, usage) = metered(store.purge_due(Utc::now())).await;
    let purged = purged?;
    tracing::info!(purged, ddb_calls = usage.calls, ddb_write_units = usage.write_units, "deleted contacts purged");
    Ok(purged)
}
