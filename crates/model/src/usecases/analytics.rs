//! The analytics report for a period, as the API and the dashboard give it: the period
//! checked the same way for both, then three reads (the counters, the daily activity of
//! the period and the current month, the daily snapshots), never a contact.

use crate::analytics::{DayStats, Report};
use crate::domain::WorkspaceId;
use crate::ports::StoreResult;
use crate::workspace::Counters;
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::BTreeMap;
use std::future::Future;

/// A report covers at most this many days.
pub const MAX_DAYS: i64 = 366;

/// The days a report covers, both included, in the workspace's own calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A period refused: the field to blame and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PeriodError {
    pub field: &'static str,
    pub message: String,
}

impl Period {
    /// `from` and `to` as given (a date such as 2025-08-22, or an RFC 3339 time, whose date
    /// counts); without them, the 30 days that end `today`.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<Period, PeriodError> {
        let to = to.map(|raw| date("to", raw)).transpose()?.unwrap_or(today);
        let from = from.map(|raw| date("from", raw)).transpose()?.unwrap_or(to - Duration::days(29));
        if from > to {
            return Err(PeriodError { field: "from", message: "must not be after `to`".into() });
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(PeriodError { field: "from", message: format!("a report covers at most {MAX_DAYS} days") });
        }
        Ok(Period { from, to })
    }
}

fn date(field: &'static str, raw: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(raw).map(|t| t.date_naive()))
        .map_err(|_| PeriodError { field, message: format!("`{raw}` is not a date such as 2025-08-22") })
}

/// What the report reads.
pub trait AnalyticsStore: Sync {
    fn counters(&self, ws: &WorkspaceId) -> impl Future<Output = StoreResult<Counters>> + Send;
    /// The daily activity of `from` to `to`, both included.
    fn day_stats(
        &self,
        ws: &WorkspaceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = StoreResult<Vec<DayStats>>> + Send;
    /// The daily snapshots of `from` to `to`, both included.
    fn snapshots(
        &self,
        ws: &WorkspaceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = StoreResult<BTreeMap<NaiveDate, BTreeMap<String, i64>>>> + Send;
}

/// The report of `period`; "this month" is the month of `today`.
pub async fn report(
    store: &impl AnalyticsStore,
    ws: &WorkspaceId,
    period: Period,
    today: NaiveDate,
) -> StoreResult<Report> {
    let month_start = today.with_day(1).expect("the 1st exists");
    let counters = store.counters(ws).await?;
    let days = store.day_stats(ws, period.from.min(month_start), period.to.max(today)).await?;
    let snapshots = store.snapshots(ws, period.from, period.to).await?;
    Ok(crate::analytics::report(&counters, &days, &snapshots, period.from, period.to, month_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_period_defaults_to_30_days_and_refuses_what_no_report_covers() {
        let today = day("2025-08-22");
        assert_eq!(Period::parse(None, None, today), Ok(Period { from: day("2025-07-24"), to: today }));
        let given = Period::parse(Some("2025-08-01"), Some("2025-08-10T23:30:00Z"), today).unwrap();
        assert_eq!(given, Period { from: day("2025-08-01"), to: day("2025-08-10") });
        assert_eq!(Period::parse(Some("yesterday"), None, today).unwrap_err().field, "from");
        assert_eq!(Period::parse(None, Some("2025-13-01"), today).unwrap_err().field, "to");
        let reversed = Period::parse(Some("2025-08-10"), Some("2025-08-01"), today).unwrap_err();
        assert_eq!(reversed.message, "must not be after `to`");
        let long = Period::parse(Some("2024-08-21"), Some("2025-08-22"), today).unwrap_err();
        assert_eq!(long.message, "a report covers at most 366 days");
        assert!(Period::parse(Some("2024-08-22"), Some("2025-08-22"), today).is_ok(), "366 days exactly");
    }
}
