//! Retention runs: the contacts idle past the policy's threshold, found through the
//! activity index (gsi4), handled in batches with a checkpoint after each, so a run cut
//! short by a Lambda timeout resumes where it stopped. Dry runs count and change nothing.

use super::contacts::Extra;
use super::keys::{self, GSI4};
use super::table::{get_s, key, n, s, After, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::listing::api_time;
use model::retention::{self, RetentionOutcome, RetentionPolicy};
use model::retention::{RetentionRun, RunStatus};
use std::collections::BTreeMap;

const BATCH: i32 = 100;

/// Contacts of a batch changed concurrently.
const RETAIN_AT_ONCE: usize = 8;

fn runs_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#RETENTION")
}

fn policy_key(ws: &WorkspaceId) -> Item {
    key(keys::meta_pk(ws), "RETENTION_POLICY")
}

/// The run's contacts on the activity index, oldest activity first.
fn scope_query(ws: &WorkspaceId, run: &RetentionRun) -> QuerySpec {
    let mut query = QuerySpec::index(GSI4, keys::activity_pk(ws));
    // Keys are `<last activity>#<id>`: one at the cutoff's second sorts after it, so it is
    // left for the next run, whose `from` it then is at or after.
    match run.from {
        Some(from) => {
            query.key_condition.push_str(" AND #sk BETWEEN :from AND :cutoff");
            query.values.insert(":from".into(), s(api_time(from)));
        }
        None => query.key_condition.push_str(" AND #sk < :cutoff"),
    }
    query.names.insert("#sk".into(), GSI4.sk.into());
    query.values.insert(":cutoff".into(), s(api_time(run.cutoff)));
    query.newest_first = false;
    query
}

impl Store {
    pub async fn retention_policy(&self, ws: &WorkspaceId) -> StoreResult<RetentionPolicy> {
        match self.get_item(policy_key(ws), true).await? {
            Some(item) => get_s(&item, "policy")
                .and_then(|p| serde_json::from_str(p).ok())
                .ok_or_else(|| StoreError::Corrupt("retention policy".into())),
            None => Ok(RetentionPolicy::default()),
        }
    }

    pub async fn set_retention_policy(&self, ws: &WorkspaceId, policy: &RetentionPolicy) -> StoreResult<()> {
        let mut item = policy_key(ws);
        item.insert("policy".into(), s(serde_json::to_string(policy).expect("policies serialize")));
        self.transact(&[self.tx_put((), item, None)]).await.map_err(tx_error)
    }

    /// Records a new run (not yet executed) over every contact idle past the policy.
    pub async fn start_retention_run(
        &self,
        ws: &WorkspaceId,
        policy: RetentionPolicy,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<RetentionRun> {
        self.start_retention_run_from(ws, policy, dry_run, None, now).await
    }

    /// Records a new run that looks only at contacts last active at or after `from`
    /// (an incremental run: the slice between the last run's cutoff and its own).
    pub async fn start_retention_run_from(
        &self,
        ws: &WorkspaceId,
        policy: RetentionPolicy,
        dry_run: bool,
        from: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<RetentionRun> {
        let now = now.trunc_subsecs(0);
        let run = RetentionRun {
            id: model::domain::time_ordered_id("rr", now, 3),
            dry_run,
            status: RunStatus::Running,
            policy,
            cutoff: now - Duration::days(policy.inactive_after_days.into()),
            from,
            step: 0,
            started_at: now,
            finished_at: None,
            counts: BTreeMap::new(),
            checkpoint: None,
            error: None,
        };
        let mut run = run;
        self.save_run(ws, &mut run, true).await?;
        Ok(run)
    }

    /// Works on a run until it is done or `deadline` passes (then it stays `running`,
    /// resumable). A failure is recorded on the run (`failed`, with the error) and returned.
    /// When another worker advanced the run meanwhile, this one stops with
    /// `VersionMismatch` and leaves the run to it.
    pub async fn continue_retention_run(
        &self,
        ws: &WorkspaceId,
        run: RetentionRun,
        deadline: DateTime<Utc>,
    ) -> StoreResult<RetentionRun> {
        let mut record = run.clone();
        match self.work_on_run(ws, run, deadline).await {
            Ok(done) => Ok(done),
            Err(e @ StoreError::VersionMismatch { .. }) => Err(e),
            Err(e) => {
                if let Some(latest) = self.get_retention_run(ws, &record.id).await? {
                    record = latest;
                }
                record.status = RunStatus::Failed;
                record.error = Some(e.to_string());
                record.finished_at = Some(Utc::now().trunc_subsecs(0));
                self.save_run(ws, &mut record, false).await?;
                Err(e)
            }
        }
    }

    async fn work_on_run(
        &self,
        ws: &WorkspaceId,
        mut run: RetentionRun,
        deadline: DateTime<Utc>,
    ) -> StoreResult<RetentionRun> {
        let grace = Duration::days(self.get_workspace(ws).await?.map_or(30, |w| w.deletion_grace_days).into());
        let mut batches = 0;
        // At least one batch a call, so that every run of the job makes progress.
        while run.status == RunStatus::Running && (batches == 0 || Utc::now() < deadline) {
            batches += 1;
            let query = scope_query(ws, &run);
            let start = run.checkpoint.as_ref().map(|c| {
                serde_json::from_str::<BTreeMap<String, String>>(c)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, s(v)))
                    .collect()
            });
            let (items, next) = self.query_page(&query, start, BATCH).await?;
            let ids: Vec<ContactId> =
                items.iter().filter_map(|i| keys::contact_of(get_s(i, "pk")?)).map(|(_, id)| id).collect();
            let due = self.due(ws, &ids, &run).await?;
            // A few contacts at a time: each change is its own small transaction.
            for group in due.chunks(RETAIN_AT_ONCE) {
                let changes: Vec<_> = group.iter().map(|c| self.retain(ws, c, &run, grace)).collect();
                for change in futures::future::join_all(changes).await {
                    *run.counts.entry("examined".into()).or_default() += 1;
                    if let Some(counter) = change? {
                        *run.counts.entry(counter.into()).or_default() += 1;
                    }
                }
            }
            match next {
                Some(position) => {
                    let position: BTreeMap<String, String> =
                        position.iter().filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone()))).collect();
                    run.checkpoint = Some(serde_json::to_string(&position).expect("positions serialize"));
                }
                None => {
                    run.status = RunStatus::Done;
                    run.finished_at = Some(Utc::now().trunc_subsecs(0));
                }
            }
            self.save_run(ws, &mut run, false).await?;
        }
        Ok(run)
    }

    /// Of `ids`, the contacts still visible and still idle past the run's cutoff. The live
    /// state has the last activity to the second; the index has the profile's copy.
    /// Eventually consistent: each write is conditional on the version read.
    async fn due(&self, ws: &WorkspaceId, ids: &[ContactId], run: &RetentionRun) -> StoreResult<Vec<Contact>> {
        let contacts = self.contacts_by_id(ws, ids, false).await?;
        Ok(contacts.into_iter().filter(|c| c.is_visible() && c.last_activity_at < run.cutoff).collect())
    }

    /// Up to `limit` contacts the run's policy would change, longest idle first, from its
    /// first batch (one Query, one BatchGetItem): the examples a dry run's preview shows.
    pub async fn retention_sample(
        &self,
        ws: &WorkspaceId,
        run: &RetentionRun,
        limit: usize,
    ) -> StoreResult<Vec<Contact>> {
        let (items, _) = self.query_page(&scope_query(ws, run), None, BATCH).await?;
        let ids: Vec<ContactId> =
            items.iter().filter_map(|i| keys::contact_of(get_s(i, "pk")?)).map(|(_, id)| id).collect();
        let due = self.due(ws, &ids, run).await?;
        Ok(due.into_iter().filter(|c| retention::apply(&run.policy, c).is_some()).take(limit).collect())
    }

    /// Applies the run's action to one contact; returns the count it adds to (`flagged`,
    /// `archived`, `deleted`), or `None` when nothing was (or, dry, would be) changed.
    async fn retain(
        &self,
        ws: &WorkspaceId,
        contact: &Contact,
        run: &RetentionRun,
        grace: Duration,
    ) -> StoreResult<Option<&'static str>> {
        let Some(outcome) = retention::apply(&run.policy, contact) else { return Ok(None) };
        let counter = match outcome {
            RetentionOutcome::Flagged(_) => "flagged",
            RetentionOutcome::Archived(_) => "archived",
            RetentionOutcome::Delete => "deleted",
        };
        if !run.dry_run {
            let result = match outcome {
                RetentionOutcome::Flagged(mut next) | RetentionOutcome::Archived(mut next) => {
                    next.version += 1;
                    self.replace_contact_with(ws, contact, &next, Extra::default()).await
                }
                RetentionOutcome::Delete => {
                    self.soft_delete_contact(ws, contact.id, Some(contact.version), grace).await.map(|_| ())
                }
            };
            match result {
                Ok(()) => {}
                // Changed meanwhile (so active again, or edited): left alone.
                Err(StoreError::VersionMismatch { .. } | StoreError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(Some(counter))
    }

    pub async fn get_retention_run(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<RetentionRun>> {
        let Some(item) = self.get_item(key(runs_pk(ws), format!("RUN#{id}")), true).await? else { return Ok(None) };
        run_from(&item).map(Some)
    }

    /// Recent runs, newest first.
    pub async fn list_retention_runs(&self, ws: &WorkspaceId, limit: i32) -> StoreResult<Vec<RetentionRun>> {
        let mut query = QuerySpec::partition(runs_pk(ws), "RUN#");
        query.newest_first = true;
        let (items, _) = self.query_page(&query, None, limit).await?;
        items.iter().map(run_from).collect()
    }

    /// Saves the run as its next step: a new run only if its id is new, a later step only
    /// if the stored run is still at the step read (else `VersionMismatch`: another
    /// worker advanced it).
    async fn save_run(&self, ws: &WorkspaceId, run: &mut RetentionRun, create: bool) -> StoreResult<()> {
        let previous = run.step;
        run.step += 1;
        let key = key(runs_pk(ws), format!("RUN#{}", run.id));
        let mut item = key.clone();
        item.insert("entity".into(), s("retention_run"));
        item.insert("run".into(), s(serde_json::to_string(run).expect("runs serialize")));
        item.insert("step".into(), n(run.step));
        let before = self.image(&key).await;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes);
        put = match (create, previous) {
            (true, _) => put.condition_expression("attribute_not_exists(pk)"),
            // Runs saved before steps existed have none.
            (false, 0) => put.condition_expression("attribute_not_exists(step) OR step = :previous"),
            (false, _) => put.condition_expression("step = :previous"),
        };
        if !create {
            put = put.expression_attribute_values(":previous", n(previous));
        }
        match put.send().await {
            Ok(out) => {
                self.record_write("PutItem", &key, before, After::Known(item), out.consumed_capacity.as_ref()).await;
                Ok(())
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                self.record_write("PutItem", &key, before, After::Failed, None).await;
                run.step = previous;
                match create {
                    true => Err(StoreError::Corrupt("retention run id collision".into())),
                    false => Err(StoreError::VersionMismatch { current: previous }),
                }
            }
            Err(e) => Err(crate::aws_error(e)),
        }
    }
}

fn tx_error(failure: super::table::TxFailure<()>) -> StoreError {
    match failure {
        super::table::TxFailure::Other(e) => e,
        super::table::TxFailure::Conditions(_) => StoreError::Corrupt("retention run id collision".into()),
    }
}

fn run_from(item: &Item) -> StoreResult<RetentionRun> {
    get_s(item, "run")
        .and_then(|r| serde_json::from_str(r).ok())
        .ok_or_else(|| StoreError::Corrupt("retention run".into()))
}
