//! The scheduled purge: contacts deleted with a grace period are removed for good once it
//! ends. The dispatcher enqueues one unit per shard of the purge index (gsi3 `PURGE#<n>`);
//! the jobs worker purges a shard's due contacts a page at a time, and a contact that
//! fails is logged and left for the next run without holding up the others.

use crate::jobs::{Dispatcher, JobError, JobUnit};
use chrono::{DateTime, Utc};
use model::listing::Position;
use store::keys::PURGE_SHARDS;
use store::Store;

/// Contacts purged per page.
const PAGE: i32 = 50;

pub async fn dispatch(dispatcher: &Dispatcher) -> Result<String, JobError> {
    let units: Vec<JobUnit> = (0..PURGE_SHARDS).map(|shard| JobUnit::Purge { shard, after: None }).collect();
    dispatcher.queue.send(&units).await?;
    tracing::info!(shards = units.len(), "purge dispatched");
    Ok(format!("{} purge shards queued", units.len()))
}

pub async fn work(
    store: &Store,
    shard: u32,
    mut after: Option<Position>,
    stop_at: DateTime<Utc>,
) -> Result<(String, Option<JobUnit>), JobError> {
    let (mut purged, mut failed) = (0, 0);
    loop {
        let page = store.purge_page(shard, Utc::now(), after, PAGE).await?;
        (purged, failed) = (purged + page.done, failed + page.failed);
        after = page.next;
        let summary = format!("shard {shard}: {purged} contacts purged, {failed} failed");
        match after {
            None => {
                tracing::info!(shard, purged, failed, "deleted contacts purged");
                return Ok((summary, None));
            }
            Some(_) if Utc::now() >= stop_at => return Ok((summary, Some(JobUnit::Purge { shard, after }))),
            Some(_) => {}
        }
    }
}
