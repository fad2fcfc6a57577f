//! The table's stream consumer: brings the search words and tag links of the profiles a batch
//! changed up to date (`Store::update_list_links`, idempotent), then folds the batch into each
//! workspace's counters, tag counts and daily activity (`store::Tally`), exactly once per
//! change however often Lambda delivers the batch.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use model::domain::WorkspaceId;
use std::collections::HashMap;
use store::meter::metered;
use store::{Change, Store, StoreError};

/// Applies the batch; an error makes Lambda deliver the same batch again, and the
/// workspaces already applied are then skipped by their checkpoints.
pub async fn handle(store: &Store, event: Event) -> Result<(), StoreError> {
    let records = event.records.len();
    let changes = event.records.into_iter().map(change_of).collect::<Result<Vec<_>, _>>()?;
    let (result, usage) = metered(async {
        // Links first: the counters' checkpoints are the batch's commit, so a failure here
        // is retried with the whole batch.
        store.update_list_links(&changes).await?;
        let mut by_workspace: HashMap<WorkspaceId, Vec<Change>> = HashMap::new();
        for change in changes {
            if let Some(ws) = change.workspace() {
                by_workspace.entry(ws).or_default().push(change);
            }
        }
        let mut first_error = None;
        for (ws, changes) in &by_workspace {
            // One workspace's failure does not hold back the others of the batch.
            if let Err(e) = store.apply_changes(ws, changes).await {
                tracing::error!(workspace = %ws, error = %e, "counters not applied; the batch will be retried");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    })
    .await;
    tracing::info!(records, ddb_calls = usage.calls, wcu = usage.write_units, "stream batch indexed and counted");
    result
}

fn change_of(record: EventRecord) -> Result<Change, StoreError> {
    let sequence = record
        .change
        .sequence_number
        .ok_or_else(|| StoreError::Corrupt(format!("stream record {} has no sequence number", record.event_id)))?;
    let image = |item: serde_dynamo::Item| (!item.is_empty()).then(|| item.into());
    Ok(Change { sequence, old: image(record.change.old_image), new: image(record.change.new_image) })
}
