//! CRM sync and outbound webhooks. The table's stream feeds [`fanout`], which queues one
//! [`message::SyncMessage`] per change and integration; the sync worker ([`handle`]) takes
//! a batch from the queue, groups it by integration, and sends each group to its vendor
//! ([`crm`] for HubSpot, Salesforce and Zoho, [`webhook`] for signed webhooks).
//!
//! A vendor that is busy, down or rate-limiting gets the messages again later: they are
//! queued anew with a delay (exponential backoff with full jitter, or the vendor's
//! `Retry-After`), up to [`MAX_ATTEMPTS`], then go to the dead-letter queue and count as
//! failed. A record the vendor refuses is recorded on the contact and not sent again until
//! it changes. docs/integrations.md tells the whole story.

pub mod crm;
pub mod fanout;
pub mod http;
pub mod hubspot;
pub mod message;
pub mod salesforce;
pub mod session;
pub mod webhook;
pub mod zoho;

use crate::http::Problem;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use http::CallError;
use message::{Queued, ResyncPage, SyncMessage, SyncQueue};
use model::domain::{ContactId, WorkspaceId};
use model::integration::event::{ContactEvent, EventKind};
use model::integration::{Kind, SyncError};
use model::listing::ListRequest;
use session::Session;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use store::{Store, StoreError};

/// Deliveries of one change before it goes to the dead-letter queue: about 55 minutes of
/// backoff on average, 1 h 47 min at most.
pub const MAX_ATTEMPTS: u32 = 16;

/// Vendor calls' worth of time kept in reserve: a group started before the cutoff can still
/// make this many calls (a HubSpot group: upserts by email and by id, an archive, a GDPR
/// deletion) within the invocation's timeout (the template's 120 s).
const CALLS_IN_RESERVE: u32 = 6;

/// The longest delay SQS gives a message.
const MAX_DELAY_SECONDS: u32 = 900;

#[derive(Debug, Clone)]
pub struct SyncWorker {
    pub store: Store,
    pub queue: SyncQueue,
    pub dead_letters: SyncQueue,
    pub http: reqwest::Client,
}

/// How one contact's change went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    /// Nothing to send: opted out and never synced, or gone before it was sent.
    Skipped,
    Rejected(SyncError),
    Retry {
        after: Option<Duration>,
        error: SyncError,
    },
    /// Not tried: the invocation's time ran short. Queued again as it was.
    Deferred,
}

impl Outcome {
    fn from_call(e: CallError) -> Outcome {
        match e {
            CallError::Retry { after, error } => Outcome::Retry { after, error },
            CallError::Refused(error) => Outcome::Rejected(error),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum DeliverError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::capture_queue::QueueError),
}

/// Handles a batch; `deadline` is the invocation's. Groups that would start too close to it
/// are queued again untouched: one slow vendor cannot time out the whole batch.
pub async fn handle(worker: &SyncWorker, event: SqsEvent, deadline: DateTime<Utc>) -> SqsBatchResponse {
    let stop_at =
        deadline - chrono::Duration::from_std(http::CALL_TIMEOUT * CALLS_IN_RESERVE).expect("a short duration");
    let mut failures = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<(String, SyncMessage)>> = BTreeMap::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        match record.body.as_deref().map(serde_json::from_str::<Queued>) {
            Some(Ok(Queued::Change(m))) => {
                groups.entry((m.workspace.clone(), m.integration.clone())).or_default().push((id, m))
            }
            Some(Ok(Queued::Resync(page))) => {
                if let Err(e) = resync_page(worker, page, stop_at).await {
                    tracing::error!(error = %e, "resync page failed; SQS delivers it again");
                    failures.push(id);
                }
            }
            // Received again until the queue's redrive policy moves it to the dead letters.
            _ => {
                tracing::error!(message = %id, "a sync message that does not parse");
                failures.push(id);
            }
        }
    }
    for ((workspace, integration), messages) in groups {
        let batch: Vec<SyncMessage> = messages.iter().map(|(_, m)| m.clone()).collect();
        if let Err(e) = deliver(worker, &workspace, &integration, batch, stop_at).await {
            tracing::error!(%workspace, %integration, error = %e, "sync batch failed; SQS delivers it again");
            failures.extend(messages.into_iter().map(|(id, _)| id));
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

async fn deliver(
    worker: &SyncWorker,
    workspace: &str,
    id: &str,
    mut messages: Vec<SyncMessage>,
    stop_at: DateTime<Utc>,
) -> Result<(), DeliverError> {
    if Utc::now() >= stop_at {
        worker.queue.send(&messages, 1).await?;
        return Ok(());
    }
    let ws = WorkspaceId::parse(workspace).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Some(stored) = worker.store.get_integration(&ws, id).await? else {
        tracing::info!(%workspace, integration = id, dropped = messages.len(), "integration deleted: changes dropped");
        return Ok(());
    };
    if stored.integration.paused {
        // A resync after resuming sends what changed meanwhile; an erasure cannot wait for
        // it (a resync sends no removals), so it goes out even now.
        let before = messages.len();
        messages.retain(|m| m.event == ContactEvent::Erased);
        tracing::info!(%workspace, integration = id, dropped = before - messages.len(), "integration paused: changes dropped");
        if messages.is_empty() {
            return Ok(());
        }
    }
    let kind = stored.integration.target.kind();
    let zone = time_zone(&worker.store, &ws, &stored.integration.filters).await?;
    let mut session = Session::new(&worker.http, &worker.store, &ws, stored, zone);
    let outcomes: Vec<(SyncMessage, Outcome)> = match kind {
        Kind::Webhook => {
            let mut out = Vec::new();
            for m in messages {
                let outcome = if Utc::now() >= stop_at {
                    Outcome::Deferred
                } else {
                    match webhook::deliver(&mut session, &m).await {
                        Ok(webhook::Delivered::Sent) => Outcome::Done,
                        Ok(webhook::Delivered::Filtered) => Outcome::Skipped,
                        Err(e) => Outcome::from_call(e),
                    }
                };
                out.push((m, outcome));
            }
            out
        }
        _ => {
            let by_contact = crm::sync(&mut session, &messages).await?;
            messages
                .into_iter()
                .map(|m| {
                    let outcome = by_contact.get(&m.contact).cloned().unwrap_or(Outcome::Skipped);
                    (m, outcome)
                })
                .collect()
        }
    };
    settle(worker, &ws, id, outcomes).await
}

/// Contacts a resync sends per page: a HubSpot or Zoho batch.
const RESYNC_PAGE: u32 = 100;

/// What adding an integration gave: a CRM's first sync, a webhook's signing secret.
#[derive(Debug)]
pub struct Added {
    pub backfill: Option<String>,
    pub signing_secret: Option<String>,
}

/// Stores a new integration. A CRM gets the workspace's contacts as they are now (its first
/// sync is queued); a webhook hears of changes only, and its signing secret is returned to
/// be shown this once. The API and the dashboard both add through here.
pub async fn add(
    store: &Store,
    queue: Option<&SyncQueue>,
    ws: &WorkspaceId,
    integration: &model::integration::Integration,
    credentials: model::integration::Credentials,
) -> Result<Added, Problem> {
    let is_crm = !matches!(credentials, model::integration::Credentials::Signing { .. });
    if is_crm && queue.is_none() {
        return Err(Problem::unavailable("integrations cannot be added from this function"));
    }
    store.put_integration(ws, integration, &credentials, true).await?;
    match credentials {
        model::integration::Credentials::Signing { secret } => {
            Ok(Added { backfill: None, signing_secret: Some(secret) })
        }
        _ => match queue_resync(queue, ws, &integration.id, BTreeMap::new()).await {
            Ok(backfill) => Ok(Added { backfill: Some(backfill), signing_secret: None }),
            // Not half made: a retry of the request must not leave two.
            Err(problem) => {
                store.delete_integration(ws, &integration.id).await?;
                Err(problem)
            }
        },
    }
}

/// The workspace's time zone when `filters` have a `range` (counted in its days), else UTC:
/// most integrations have none, and their changes then cost no read of the workspace.
async fn time_zone(store: &Store, ws: &WorkspaceId, filters: &BTreeMap<String, String>) -> Result<Tz, StoreError> {
    if !filters.contains_key("range") {
        return Ok(Tz::UTC);
    }
    Ok(store.get_workspace(ws).await?.map_or(Tz::UTC, |w| w.time_zone))
}

/// Queues a resync of an integration (or a new CRM's first sync): its first page of the
/// contacts `filters` match, all of them by default; the worker sends each page and queues
/// the next. Returns the resync's id. The API and the dashboard both queue through here.
pub async fn queue_resync(
    queue: Option<&SyncQueue>,
    ws: &WorkspaceId,
    integration: &str,
    filters: BTreeMap<String, String>,
) -> Result<String, Problem> {
    let queue = queue.ok_or_else(|| Problem::unavailable("integrations cannot resync from this function"))?;
    let resync = model::domain::time_ordered_id("rs_", Utc::now(), 4);
    let page = ResyncPage {
        workspace: ws.to_string(),
        integration: integration.to_string(),
        resync: resync.clone(),
        filters,
        after: None,
    };
    queue.send_resync(page).await.map_err(|e| {
        tracing::error!(error = %e, "a resync could not be queued");
        Problem::unavailable("the resync could not be queued; try again")
    })?;
    Ok(resync)
}

/// Sends one page of a resync as changes of its contacts, then queues the next page.
async fn resync_page(worker: &SyncWorker, page: ResyncPage, stop_at: DateTime<Utc>) -> Result<(), DeliverError> {
    let ws = WorkspaceId::parse(&page.workspace).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let integration = worker.store.get_integration(&ws, &page.integration).await?;
    // A webhook that did not ask for updates gets none from a resync either.
    let wanted = |i: &store::StoredIntegration| !i.integration.paused && i.integration.target.wants(EventKind::Updated);
    if !integration.as_ref().is_some_and(wanted) {
        tracing::info!(integration = %page.integration, resync = %page.resync, "integration paused or deleted: resync stopped");
        return Ok(());
    }
    let pairs: Vec<(String, String)> = page.filters.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let now = Utc::now().with_timezone(&time_zone(&worker.store, &ws, &page.filters).await?);
    let mut request = ListRequest::parse_filters(&ws, &pairs, now)
        .map_err(|e| StoreError::Corrupt(format!("resync filters: {}: {}", e.field, e.message)))?;
    request.per_page = RESYNC_PAGE;
    request.position = page.after.clone();
    let listed = worker.store.list_contacts(&ws, &request).await?;
    let now = Utc::now();
    let changes: Vec<SyncMessage> = listed
        .contacts
        .iter()
        .map(|c| SyncMessage {
            workspace: page.workspace.clone(),
            integration: page.integration.clone(),
            contact: c.id,
            event: ContactEvent::Updated { fields: Vec::new() },
            occurred_at: now,
            delivery_id: fanout::delivery_id(&page.integration, &format!("{}#{}", page.resync, c.id.0)),
            attempt: 0,
        })
        .collect();
    let sent = changes.len();
    if !changes.is_empty() {
        deliver(worker, &page.workspace, &page.integration, changes, stop_at).await?;
    }
    if let Some(after) = listed.next_position {
        worker.queue.send_resync(ResyncPage { after: Some(after), ..page.clone() }).await?;
    }
    tracing::info!(integration = %page.integration, resync = %page.resync, sent, "resync page sent");
    Ok(())
}

/// Counts the outcomes on the integration, queues the retries, and moves changes out of
/// attempts to the dead-letter queue with the error on their contacts.
async fn settle(
    worker: &SyncWorker,
    ws: &WorkspaceId,
    integration: &str,
    outcomes: Vec<(SyncMessage, Outcome)>,
) -> Result<(), DeliverError> {
    let (mut synced, mut failed) = (BTreeSet::new(), BTreeSet::new());
    let mut last_error = None;
    let mut retries: BTreeMap<u32, Vec<SyncMessage>> = BTreeMap::new();
    let mut exhausted = Vec::new();
    let mut deferred = Vec::new();
    for (mut m, outcome) in outcomes {
        match outcome {
            Outcome::Done => {
                synced.insert(m.contact);
            }
            Outcome::Skipped => {}
            Outcome::Deferred => deferred.push(m),
            Outcome::Rejected(error) => {
                failed.insert(m.contact);
                last_error = Some(error);
            }
            Outcome::Retry { after, error } => {
                m.attempt += 1;
                if m.attempt >= MAX_ATTEMPTS {
                    failed.insert(m.contact);
                    exhausted.push((m, error.clone()));
                } else {
                    retries.entry(delay_seconds(m.attempt, after)).or_default().push(m);
                }
                last_error = Some(error);
            }
        }
    }
    for (delay, messages) in &retries {
        worker.queue.send(messages, *delay).await?;
    }
    worker.queue.send(&deferred, 1).await?;
    if !exhausted.is_empty() {
        let messages: Vec<SyncMessage> = exhausted.iter().map(|(m, _)| m.clone()).collect();
        worker.dead_letters.send(&messages, 0).await?;
        record_errors(&worker.store, ws, integration, &exhausted).await?;
        tracing::error!(
            integration,
            changes = messages.len(),
            "sync changes out of attempts: moved to the dead-letter queue"
        );
    }
    let retried = retries.values().map(Vec::len).sum::<usize>();
    if retried > 0 {
        tracing::warn!(integration, retried, error = ?last_error.as_ref().map(|e| &e.message), "vendor busy or failing: changes queued again");
    }
    worker
        .store
        .record_delivery(ws, integration, synced.len() as u64, failed.len() as u64, last_error.as_ref())
        .await?;
    Ok(())
}

async fn record_errors(
    store: &Store,
    ws: &WorkspaceId,
    integration: &str,
    exhausted: &[(SyncMessage, SyncError)],
) -> Result<(), StoreError> {
    let ids: Vec<ContactId> = exhausted.iter().map(|(m, _)| m.contact).collect();
    let states = store.syncs_in(ws, integration, &ids).await?;
    let written: Vec<_> = exhausted
        .iter()
        .map(|(m, error)| (m.contact, crm::with_error(integration, states.get(&m.contact), error.clone())))
        .collect();
    store.put_syncs(ws, &written).await
}

/// The wait before attempt `attempt`: the vendor's `Retry-After` where it gave one, else a
/// random time up to 2^attempt seconds (full jitter), within SQS's 15 minutes.
fn delay_seconds(attempt: u32, retry_after: Option<Duration>) -> u32 {
    if let Some(after) = retry_after {
        return after.as_secs().clamp(1, u64::from(MAX_DELAY_SECONDS)) as u32;
    }
    let cap = 2u32.saturating_pow(attempt).min(MAX_DELAY_SECONDS);
    let mut random = [0u8; 4];
    // Without randomness, the longest wait: never a thundering herd.
    if getrandom::fill(&mut random).is_err() {
        return cap;
    }
    1 + u32::from_le_bytes(random) % cap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_within_its_cap_and_honours_retry_after() {
        for attempt in 1..MAX_ATTEMPTS {
            let cap = 2u32.pow(attempt).min(MAX_DELAY_SECONDS);
            for _ in 0..50 {
                assert!((1..=cap).contains(&delay_seconds(attempt, None)));
            }
        }
        assert_eq!(delay_seconds(3, Some(Duration::from_secs(7))), 7);
        assert_eq!(delay_seconds(3, Some(Duration::from_secs(7200))), MAX_DELAY_SECONDS);
        assert_eq!(delay_seconds(3, Some(Duration::from_secs(u64::MAX))), MAX_DELAY_SECONDS);
    }
}
