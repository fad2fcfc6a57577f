//! Pages of work for the fanned-out scheduled jobs: workspaces to dispatch, contacts due
//! for purge, live states with open conversations. Each call reads one page of an index
//! and takes only its key attributes (whatever the index projects), fetching by key what
//! it needs; the page position goes back to the caller, to continue from in a later run.

use super::keys::{self, GSI1, GSI2, GSI3};
use super::table::{get_s, s, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use model::domain::WorkspaceId;
use model::listing::{api_time, Position};

/// What one page of a job did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JobPage {
    /// Items changed (contacts purged, conversations closed).
    pub done: u32,
    /// Items that failed: logged and left for the next run; they do not stop the page.
    pub failed: u32,
    /// Where the next page starts; `None` after the last.
    pub next: Option<Position>,
}

fn start_of(position: Option<Position>) -> Option<Item> {
    position.map(|p| p.into_iter().map(|(k, v)| (k, s(v))).collect())
}

impl Store {
    /// A page of the workspaces (gsi1 `WORKSPACES`: one Query, never a Scan).
    pub async fn workspaces_page(
        &self,
        after: Option<Position>,
        limit: i32,
    ) -> StoreResult<(Vec<WorkspaceId>, Option<Position>)> {
        let query = QuerySpec::index(GSI1, keys::WORKSPACES_PK);
        let (items, next) = self.query_page(&query, start_of(after), limit).await?;
        let workspaces = items.iter().filter_map(|i| keys::workspace_of(get_s(i, "pk")?)).collect();
        Ok((workspaces, next.map(|k| keys::position_of(&k))))
    }

    /// Purges a page of one purge shard's contacts whose grace period ended by `now`. A
    /// contact that cannot be purged is logged and skipped: it stays in the index for the
    /// next run, and the others go on.
    pub async fn purge_page(
        &self,
        shard: u32,
        now: DateTime<Utc>,
        after: Option<Position>,
        limit: i32,
    ) -> StoreResult<JobPage> {
        let mut query = QuerySpec::index(GSI3, keys::purge_pk(shard));
        query.key_condition.push_str(" AND #sk <= :now");
        query.names.insert("#sk".into(), GSI3.sk.into());
        query.values.insert(":now".into(), s(format!("{}#~", api_time(now))));
        query.newest_first = false;
        // Purged items leave the index; a page position past one of them is still a position.
        let (items, next) = self.query_page(&query, start_of(after), limit).await?;
        let mut page = JobPage { next: next.map(|k| keys::position_of(&k)), ..JobPage::default() };
        for item in &items {
            let pk = get_s(item, "pk").unwrap_or_default();
            let Some((ws, id)) = keys::contact_of(pk) else {
                tracing::warn!(pk, "purge index entry that names no contact: left alone");
                page.failed += 1;
                continue;
            };
            match self.purge_contact(&ws, id).await {
                Ok(_) | Err(StoreError::NotFound) => page.done += 1,
                Err(e) => {
                    tracing::error!(workspace = %ws, contact = id.0, error = %e, "purge failed; the next run tries again");
                    page.failed += 1;
                }
            }
        }
        Ok(page)
    }

    /// Closes the idle conversations of a page of one open-conversation shard (gsi2
    /// `OPENCONV#<shard>`): the live states as the index projects them (eventually
    /// consistent: each close is conditional on the live version read, so a stale entry
    /// closes nothing before the state is read again).
    pub async fn sweep_page(
        &self,
        shard: u32,
        cutoff: DateTime<Utc>,
        after: Option<Position>,
        limit: i32,
    ) -> StoreResult<JobPage> {
        let query = QuerySpec::index(GSI2, keys::open_conversations_pk(shard));
        let (items, next) = self.query_page(&query, start_of(after), limit).await?;
        let mut page = JobPage { next: next.map(|k| keys::position_of(&k)), ..JobPage::default() };
        // gsi2 projects the whole live state: no item is read again unless a close finds it moved.
        for state in &items {
            match self.close_idle_of(state, cutoff).await {
                Ok(closed) => page.done += closed,
                Err(e) => {
                    let pk = get_s(state, "pk").unwrap_or_default();
                    tracing::error!(pk, error = %e, "closing idle conversations failed; the next sweep tries again");
                    page.failed += 1;
                }
            }
        }
        Ok(page)
    }
}
