//! The daily rollup, fanned out. Every hour the dispatcher enqueues one unit per workspace;
//! the jobs worker writes the workspace's snapshots of every day since its newest one
//! (yesterday once midnight has passed; days a failed or missed run left out are
//! back-filled, up to [`MAX_BACKFILL_DAYS`]), then re-ages lead scores and statuses that
//! change with time alone, a page of the activity index at a time, enqueuing the rest when
//! its budget runs out. A workspace whose yesterday is written costs one Query. Both steps
//! are idempotent. Days are UTC days.

use crate::jobs::{self, Dispatcher, JobError, JobUnit};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use model::domain::WorkspaceId;
use store::{ReageCursor, Store};

/// How far back a workspace without recent snapshots is filled in.
pub const MAX_BACKFILL_DAYS: i64 = 31;

/// Activity entries re-aged per page.
const REAGE_PAGE: i32 = 200;

pub async fn dispatch(dispatcher: &Dispatcher) -> Result<String, JobError> {
    let queued =
        jobs::for_every_workspace(dispatcher, |ws| JobUnit::Rollup { workspace: ws.to_string(), reage: None }).await?;
    tracing::info!(queued, "rollup dispatched");
    Ok(format!("{queued} workspaces queued for the rollup"))
}

/// One workspace's rollup within `stop_at`; `reage` continues an unfinished re-aging.
pub async fn work(
    store: &Store,
    workspace: &str,
    reage: Option<ReageCursor>,
    stop_at: DateTime<Utc>,
) -> Result<(String, Option<JobUnit>), JobError> {
    let ws = WorkspaceId::parse(workspace).map_err(|e| JobError::Malformed(e.to_string()))?;
    let now = Utc::now();
    let settings = store.get_workspace(&ws).await?;
    // Snapshots close the workspace's own days.
    let today = now.with_timezone(&settings.as_ref().map_or(chrono_tz::Tz::UTC, |w| w.time_zone)).date_naive();
    let (snapshots, mut cursor) = match reage {
        Some(cursor) => (0, cursor),
        None => {
            let days = days_to_write(store.last_snapshot_day(&ws).await?, today);
            if days.is_empty() {
                return Ok(("up to date".into(), None));
            }
            let mut written = 0;
            for day in days {
                written += u32::from(store.write_snapshot(&ws, day).await?);
            }
            (written, ReageCursor::default())
        }
    };
    let policy = settings.map(|w| w.lead_rules.policy).unwrap_or_default();
    let mut reaged = 0;
    loop {
        let (changed, next) = store.reage_page(&ws, now, policy, cursor, REAGE_PAGE).await?;
        reaged += changed;
        let summary = format!("{snapshots} snapshots written, {reaged} contacts re-aged");
        match next {
            None => {
                tracing::info!(workspace, snapshots, reaged, "rollup done");
                return Ok((summary, None));
            }
            Some(next) if Utc::now() >= stop_at => {
                return Ok((summary, Some(JobUnit::Rollup { workspace: workspace.to_string(), reage: Some(next) })))
            }
            Some(next) => cursor = next,
        }
    }
}

/// The days to snapshot, oldest first: those after the newest written, through yesterday.
fn days_to_write(newest: Option<NaiveDate>, today: NaiveDate) -> Vec<NaiveDate> {
    let yesterday = today - Duration::days(1);
    let first = match newest {
        Some(day) => (day + Duration::days(1)).max(today - Duration::days(MAX_BACKFILL_DAYS)),
        // A new workspace has no history to fill in.
        None => yesterday,
    };
    first.iter_days().take_while(|d| *d <= yesterday).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn writes_yesterday_once_and_fills_in_missed_days() {
        let today = day("2026-11-29");
        assert_eq!(days_to_write(Some(day("2026-11-28")), today), Vec::<NaiveDate>::new());
        assert_eq!(days_to_write(Some(day("2026-11-27")), today), [day("2026-11-28")]);
        assert_eq!(
            days_to_write(Some(day("2026-11-25")), today),
            [day("2026-11-26"), day("2026-11-27"), day("2026-11-28")]
        );
        assert_eq!(days_to_write(None, today), [day("2026-11-28")]);
    }

    #[test]
    fn a_long_gap_is_filled_in_for_a_month_at_most() {
        let days = days_to_write(Some(day("2025-01-01")), day("2026-11-29"));
        assert_eq!((days.len(), days[0], *days.last().unwrap()), (31, day("2026-10-29"), day("2026-11-28")));
    }
}
