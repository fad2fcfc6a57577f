//! Analytics from counters, not from passes over contacts: the workspace counters item
//! (kept exact by every contact transaction), one activity item per day (atomic counts from
//! capture), and daily snapshots written by the scheduled rollup.

use super::keys::{self, GSI4};
use super::table::{get_n, get_s, key, n, s, Condition, QuerySpec};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use model::analytics::DayStats;
use model::domain::{ContactId, WorkspaceId};
use model::lead::{self, LeadPolicy};
use model::listing::api_time;
use model::listing::Position;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Activity entries read per page by the re-aging.
const REAGE_PAGE: i32 = 200;

/// Where re-aging goes on: a boundary's window of the activity index, from a position in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReageCursor {
    pub boundary: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Position>,
}

impl Store {
    /// Daily activity from `from` to `to` (inclusive), days without activity left out.
    pub async fn day_stats(&self, ws: &WorkspaceId, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<DayStats>> {
        let mut query = QuerySpec::partition(keys::days_pk(ws), "");
        query.key_condition = "pk = :pk AND sk BETWEEN :from AND :to".into();
        query.values.insert(":from".into(), s(from.format("%Y-%m-%d").to_string()));
        query.values.insert(":to".into(), s(to.format("%Y-%m-%d").to_string()));
        let items = self.query_all(&query, 400).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let date = get_s(item, "sk").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())?;
                let counts = item
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "pk" | "sk"))
                    .filter_map(|(k, v)| Some((k.clone(), v.as_n().ok()?.parse().ok()?)))
                    .collect();
                Some(DayStats { date, counts })
            })
            .collect())
    }

    /// Re-ages the contacts whose score or status may have changed with time alone: those idle
    /// for about one of the boundary day counts. Idempotent; returns how many changed.
    pub async fn reage_contacts(&self, ws: &WorkspaceId, now: DateTime<Utc>, policy: LeadPolicy) -> StoreResult<u32> {
        let (mut changed, mut cursor) = (0, Some(ReageCursor::default()));
        while let Some(at) = cursor {
            let (page, next) = self.reage_page(ws, now, policy, at, REAGE_PAGE).await?;
            (changed, cursor) = (changed + page, next);
        }
        Ok(changed)
    }

    /// One page of [`Store::reage_contacts`]: up to `limit` contacts of one boundary's window
    /// of the activity index (eventually consistent), and where the next page starts.
    pub async fn reage_page(
        &self,
        ws: &WorkspaceId,
        now: DateTime<Utc>,
        policy: LeadPolicy,
        at: ReageCursor,
        limit: i32,
    ) -> StoreResult<(u32, Option<ReageCursor>)> {
        let boundaries = lead::aging_boundaries(policy);
        let Some(days) = boundaries.get(at.boundary).copied() else { return Ok((0, None)) };
        // Two days wide, so a day the job did not run is caught up the next.
        let mut query = QuerySpec::index(GSI4, keys::activity_pk(ws));
        query.key_condition.push_str(" AND #sk BETWEEN :from AND :to");
        query.names.insert("#sk".into(), GSI4.sk.into());
        query.values.insert(":from".into(), s(api_time(now - Duration::days(days + 1))));
        query.values.insert(":to".into(), s(format!("{}#~", api_time(now - Duration::days(days - 1)))));
        let start = at.after.map(|p| keys::start_key(ws, &p, &["pk", "sk", GSI4.pk, GSI4.sk])).transpose()?;
        let (items, last) = self.query_page(&query, start, limit).await?;
        let ids: Vec<ContactId> =
            items.iter().filter_map(|i| keys::contact_of(get_s(i, "pk")?)).map(|(_, id)| id).collect();
        let mut changed = 0;
        for current in self.contacts_by_id(ws, &ids, false).await? {
            let mut next = current.clone();
            if current.is_visible() && lead::refresh(&mut next, now, policy) {
                next.version += 1;
                match self.replace_contact_with(ws, &current, &next, Default::default()).await {
                    // Edited meanwhile: that edit refreshed it already.
                    Ok(()) | Err(StoreError::VersionMismatch { .. }) => changed += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        let next = match last {
            Some(key) => Some(ReageCursor { boundary: at.boundary, after: Some(keys::position_of(&key)) }),
            None => {
                (at.boundary + 1 < boundaries.len()).then(|| ReageCursor { boundary: at.boundary + 1, after: None })
            }
        };
        Ok((changed, next))
    }

    /// The day of the workspace's newest snapshot.
    pub async fn last_snapshot_day(&self, ws: &WorkspaceId) -> StoreResult<Option<NaiveDate>> {
        let mut query = QuerySpec::partition(keys::snapshots_pk(ws), "");
        query.newest_first = true;
        let (items, _) = self.query_page(&query, None, 1).await?;
        Ok(items.first().and_then(|i| get_s(i, "sk")).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()))
    }

    /// Writes the day's snapshot (totals as they stand, and the day's activity) once:
    /// a second run for the same day finds it and changes nothing. Returns whether it wrote.
    pub async fn write_snapshot(&self, ws: &WorkspaceId, day: NaiveDate) -> StoreResult<bool> {
        let counters = self.get_item(key(keys::meta_pk(ws), keys::COUNTERS_SK), true).await?.unwrap_or_default();
        let activity = self.day_stats(ws, day, day).await?.pop().unwrap_or_default();
        let mut item = key(keys::snapshots_pk(ws), day.format("%Y-%m-%d").to_string());
        item.insert("entity".into(), s("snapshot"));
        // A day written late (back-filled) holds the totals of when it was written.
        item.insert("taken_at".into(), s(api_time(Utc::now())));
        for (k, v) in counters.iter().filter(|(k, _)| !matches!(k.as_str(), "pk" | "sk")) {
            item.insert(format!("total_{k}"), v.clone());
        }
        for (k, v) in &activity.counts {
            item.insert(format!("day_{k}"), n(v));
        }
        let op = self.tx_put((), item, Some(Condition::absent()));
        match self.transact(&[op]).await {
            Ok(()) => Ok(true),
            Err(super::table::TxFailure::Conditions(_)) => Ok(false),
            Err(super::table::TxFailure::Other(e)) => Err(e),
        }
    }

    /// Snapshots from `from` to `to`: date → (name → value).
    pub async fn snapshots(
        &self,
        ws: &WorkspaceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<BTreeMap<NaiveDate, BTreeMap<String, i64>>> {
        let mut query = QuerySpec::partition(keys::snapshots_pk(ws), "");
        query.key_condition = "pk = :pk AND sk BETWEEN :from AND :to".into();
        query.values.insert(":from".into(), s(from.format("%Y-%m-%d").to_string()));
        query.values.insert(":to".into(), s(to.format("%Y-%m-%d").to_string()));
        let (items, _) = self.query_page(&query, None, 400).await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let date = NaiveDate::parse_from_str(get_s(i, "sk")?, "%Y-%m-%d").ok()?;
                let values = i.keys().filter_map(|k| Some((k.clone(), get_n(i, k)?))).collect();
                Some((date, values))
            })
            .collect())
    }
}
