//! The scheduled sweep that closes conversations gone idle. The dispatcher enqueues one
//! unit per shard of the open-conversation index (gsi2 `OPENCONV#<0..31>`), so no run holds
//! every tenant's open conversations; the jobs worker reads a shard a page at a time and
//! closes each idle conversation conditionally on the live state it read.

use crate::jobs::{Dispatcher, JobError, JobUnit};
use chrono::{DateTime, Duration, Utc};
use model::listing::Position;
use store::keys::OPEN_CONVERSATION_SHARDS;
use store::Store;

/// Live states read per page.
const PAGE: i32 = 100;

pub async fn dispatch(dispatcher: &Dispatcher) -> Result<String, JobError> {
    let units: Vec<JobUnit> =
        (0..OPEN_CONVERSATION_SHARDS).map(|shard| JobUnit::Sweep { shard, after: None }).collect();
    dispatcher.queue.send(&units).await?;
    tracing::info!(shards = units.len(), "sweep dispatched");
    Ok(format!("{} sweep shards queued", units.len()))
}

pub async fn work(
    store: &Store,
    idle: Duration,
    shard: u32,
    mut after: Option<Position>,
    stop_at: DateTime<Utc>,
) -> Result<(String, Option<JobUnit>), JobError> {
    let cutoff = Utc::now() - idle;
    let (mut closed, mut failed) = (0, 0);
    loop {
        let page = store.sweep_page(shard, cutoff, after, PAGE).await?;
        (closed, failed) = (closed + page.done, failed + page.failed);
        after = page.next;
        let summary = format!("shard {shard}: {closed} conversations closed, {failed} failed");
        match after {
            None => {
                if closed > 0 || failed > 0 {
                    tracing::info!(
                        shard,
                        closed,
                        failed,
                        idle_minutes = idle.num_minutes(),
                        "idle conversations closed"
                    );
                }
                return Ok((summary, None));
            }
            Some(_) if Utc::now() >= stop_at => return Ok((summary, Some(JobUnit::Sweep { shard, after }))),
            Some(_) => {}
        }
    }
}
