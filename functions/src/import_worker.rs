//! The import worker: each SQS message names one started import, whose file is streamed
//! from the imports bucket into a temporary file and read row by row (CSV or XLSX,
//! `model::import::file`) in batches of 100: each row parsed with the API's own contact
//! parser, matched to an existing contact by its normalized email or phone through their
//! uniqueness guards (one strongly consistent BatchGetItem per batch, never a Scan), then
//! created, changed by the duplicate rule, skipped, or reported as failed.
//!
//! After every batch the import's checkpoint (rows done, counts) is saved, conditional on
//! the one before, so a second run of the same import stops at its first save. A created
//! or updated contact is written in one transaction with its row's marker, so rows a
//! crashed run wrote before its last checkpoint was saved are recognized, not written
//! again, when the next run repeats them. Before its time budget runs out, a run saves
//! its checkpoint and sends the import's message again for the next run to continue; a
//! dry run writes no contact and finishes within one run.

use crate::bucket::{Bucket, StorageError};
use crate::config::TimeBudget;
use crate::work_queue::{each_message, WorkQueue};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::import::file::{open_workbook, CsvRows, XlsxRows};
use model::import::{duplicate_patch, report_csv, FileError, FileFormat, Import, ImportCheckpoint, ImportCounts};
use model::import::{DuplicateRule, ImportUpdate, Outcome, Row, RowFields, RowSource, MAX_IMPORT_ATTEMPTS, MAX_ROWS};
use model::lead;
use model::new_contact::NewContact;
use model::workspace::Workspace;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Seek};
use store::{Store, StoreError};

/// Rows handled between two checkpoints.
const BATCH_ROWS: usize = 100;
/// Rows of a batch written at once (each a transaction of its own).
const ROWS_AT_ONCE: usize = 8;

/// What travels on the imports queue: the start's message and each continuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportMessage {
    pub workspace: String,
    pub import_id: String,
}

#[derive(Debug)]
pub struct ImportWorker {
    pub store: Store,
    pub bucket: Bucket,
    /// Where a run hands on the rest of an import.
    pub queue: WorkQueue,
    pub budget: TimeBudget,
}

/// Handles a batch; `lambda_deadline` is when Lambda stops the invocation.
pub async fn handle(worker: &ImportWorker, event: SqsEvent, lambda_deadline: DateTime<Utc>) -> SqsBatchResponse {
    each_message(&event, "import", |record| process(worker, record, lambda_deadline)).await
}

/// How a run ended well.
enum Done {
    Finished(ImportCounts),
    /// The rest is on the queue.
    HandedOn(u64),
}

/// Why a run stopped before the import was done.
enum Stop {
    /// The import was finished or restarted elsewhere, or another run of it saved first.
    Superseded,
    /// Will not work on a retry either: the import fails with this reason.
    Fail(String),
    /// May work on a retry (S3 or DynamoDB trouble); the last checkpoint stays valid.
    Retry(String),
}

fn retry(e: impl std::fmt::Display) -> Stop {
    Stop::Retry(e.to_string())
}

fn unreadable(e: FileError) -> Stop {
    Stop::Fail(e.to_string())
}

#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("not an import message: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Interrupted(String),
}

async fn process(
    worker: &ImportWorker,
    record: &SqsMessage,
    lambda_deadline: DateTime<Utc>,
) -> Result<&'static str, AttemptError> {
    let message: ImportMessage = serde_json::from_str(record.body.as_deref().unwrap_or(""))
        .map_err(|e| AttemptError::Malformed(e.to_string()))?;
    let ws = WorkspaceId::parse(&message.workspace).map_err(|e| AttemptError::Malformed(e.to_string()))?;
    let store = &worker.store;
    let import = match store.claim_import(&ws, &message.import_id, Utc::now()).await? {
        ImportUpdate::Done(i) => *i,
        ImportUpdate::Gone => {
            // Finished, or out of attempts: a redelivery or a retry past the limit.
            let unfinished = store.get_import(&ws, &message.import_id).await?.filter(|i| !i.status.is_finished());
            if unfinished.is_some_and(|i| i.attempts >= MAX_IMPORT_ATTEMPTS) {
                let reason = format!("gave up after {MAX_IMPORT_ATTEMPTS} attempts without progress; start it again to go on from the last checkpoint");
                store.fail_import(&ws, &message.import_id, &reason, Utc::now()).await?;
            }
            return Ok("skipped");
        }
    };
    let dry_run = import.settings.as_ref().is_some_and(|s| s.dry_run);
    // A dry run remembers the file's rows in memory to find duplicates among them: one run.
    let budget = if dry_run { TimeBudget::default() } else { worker.budget };
    match run(worker, &ws, &import, &message, budget.stop_at(lambda_deadline)).await {
        Ok(Done::Finished(counts)) => {
            tracing::info!(workspace = %ws, import = %import.id, ?counts, dry_run, continuations = import.continuations, "import done");
            Ok("done")
        }
        Ok(Done::HandedOn(rows)) => {
            tracing::info!(workspace = %ws, import = %import.id, rows, "import continues in the next run");
            Ok("handed on")
        }
        Err(Stop::Superseded) => Ok("superseded"),
        Err(Stop::Fail(reason)) => {
            tracing::warn!(workspace = %ws, import = %import.id, reason, "import failed");
            store.fail_import(&ws, &import.id, &reason, Utc::now()).await?;
            Ok("failed")
        }
        Err(Stop::Retry(e)) => Err(AttemptError::Interrupted(e)),
    }
}

async fn run(
    worker: &ImportWorker,
    ws: &WorkspaceId,
    import: &Import,
    message: &ImportMessage,
    stop_at: DateTime<Utc>,
) -> Result<Done, Stop> {
    let format = import.format.ok_or_else(|| Stop::Fail("the import was never started".into()))?;
    let workspace = worker.store.get_workspace(ws).await.map_err(retry)?.ok_or(Stop::Superseded)?;
    let mut file = tempfile::tempfile().map_err(retry)?;
    worker.bucket.download(&import.object_key, &mut file).await.map_err(retry)?;
    if import.total_rows.is_none() {
        let total = count_rows(format, &file).map_err(unreadable)?;
        if total > MAX_ROWS {
            return Err(Stop::Fail(format!(
                "the file has {total} rows, more than the {MAX_ROWS} an import takes: split it; nothing was imported"
            )));
        }
        let saved = worker.store.set_import_total(ws, &import.id, total).await.map_err(retry)?;
        still_running(saved)?;
        file.rewind().map_err(retry)?;
    }
    let mut run = Run { worker, ws, workspace: &workspace, import, message, stop_at };
    match format {
        FileFormat::Csv => run.rows(&mut CsvRows::open(BufReader::new(file)).map_err(unreadable)?).await,
        FileFormat::Xlsx => {
            let mut workbook = open_workbook(BufReader::new(file)).map_err(unreadable)?;
            let mut rows = XlsxRows::open(&mut workbook).map_err(unreadable)?;
            let done = run.rows(&mut rows).await;
            drop(rows);
            done
        }
    }
}

fn count_rows(format: FileFormat, file: &std::fs::File) -> Result<u64, FileError> {
    let copy = file.try_clone().map_err(|e| FileError::Io(e.to_string()))?;
    match format {
        FileFormat::Csv => CsvRows::open(BufReader::new(copy))?.count(),
        FileFormat::Xlsx => {
            let mut workbook = open_workbook(BufReader::new(copy))?;
            let count = XlsxRows::open(&mut workbook)?.count();
            count
        }
    }
}

fn still_running(update: ImportUpdate) -> Result<Box<Import>, Stop> {
    match update {
        ImportUpdate::Done(i) => Ok(i),
        ImportUpdate::Gone => Err(Stop::Superseded),
    }
}

/// One run of the worker over an import's file.
struct Run<'a> {
    worker: &'a ImportWorker,
    ws: &'a WorkspaceId,
    workspace: &'a Workspace,
    import: &'a Import,
    message: &'a ImportMessage,
    stop_at: DateTime<Utc>,
}

impl Run<'_> {
    async fn rows(&mut self, rows: &mut impl RowSource) -> Result<Done, Stop> {
        let store = &self.worker.store;
        let settings = self.import.settings.clone().ok_or_else(|| Stop::Fail("the import has no settings".into()))?;
        // The file may have been replaced since the start checked it.
        settings.check(rows.header()).map_err(|e| Stop::Fail(e.to_string()))?;
        let fields = RowFields::new(&settings, rows.header());
        let mut checkpoint = if settings.dry_run {
            ImportCheckpoint { seq: self.import.checkpoint.seq, ..Default::default() }
        } else {
            self.import.checkpoint.clone()
        };
        rows.skip(checkpoint.rows_done).map_err(unreadable)?;
        let mut batch =
            Batch { seen: HashSet::new(), first: true, rule: settings.duplicates, dry_run: settings.dry_run };
        loop {
            if !batch.first && Utc::now() >= self.stop_at {
                if settings.dry_run {
                    return Err(Stop::Fail("a dry run must finish within one run of the import worker (15 minutes), and this one did not: import the file without a dry run, which goes on across runs".into()));
                }
                checkpoint.seq += 1;
                let saved = store.checkpoint_import(self.ws, &self.import.id, &checkpoint, true, Utc::now()).await;
                still_running(saved.map_err(retry)?)?;
                self.worker.queue.send(self.message).await.map_err(retry)?;
                return Ok(Done::HandedOn(checkpoint.rows_done));
            }
            let mut read = Vec::with_capacity(BATCH_ROWS);
            while read.len() < BATCH_ROWS {
                match rows.next_row().map_err(unreadable)? {
                    Some(row) => read.push(row),
                    None => break,
                }
            }
            if read.is_empty() {
                break;
            }
            let (counts, failures) = self.batch(&mut batch, &fields, &read).await?;
            if !failures.is_empty() {
                store.put_import_failures(self.ws, self.import, &failures).await.map_err(retry)?;
            }
            checkpoint.seq += 1;
            checkpoint.rows_done += read.len() as u64;
            checkpoint.counts.add(&counts);
            let saved = store.checkpoint_import(self.ws, &self.import.id, &checkpoint, false, Utc::now()).await;
            still_running(saved.map_err(retry)?)?;
            batch.first = false;
        }
        let report = if checkpoint.counts.failed > 0 {
            let failures = store.import_failures(self.ws, &self.import.id).await.map_err(retry)?;
            let key = self.import.report_object_key();
            self.worker.bucket.put(&key, report_csv(&failures)).await.map_err(retry)?;
            Some(key)
        } else {
            None
        };
        let finished = store.finish_import(self.ws, &self.import.id, report.as_deref(), Utc::now()).await;
        still_running(finished.map_err(retry)?)?;
        Ok(Done::Finished(checkpoint.counts))
    }

    /// Handles one batch of rows: their counts, and the failed rows with their reasons.
    async fn batch(
        &self,
        batch: &mut Batch,
        fields: &RowFields,
        rows: &[Row],
    ) -> Result<(ImportCounts, Vec<(u64, String)>), Stop> {
        let store = &self.worker.store;
        let parsed: Vec<(u64, Result<NewContact, String>)> =
            rows.iter().map(|r| (r.number, fields.parse(r, self.workspace.default_region))).collect();
        let valid = || parsed.iter().filter_map(|(n, r)| r.as_ref().ok().map(|c| (*n, c)));
        // Only the first batch of a run can repeat rows an earlier run wrote: every batch
        // before it is covered by the checkpoint this run started from.
        let written = if batch.first && !batch.dry_run {
            let numbers: Vec<u64> = valid().map(|(n, _)| n).collect();
            store.imported_rows(self.ws, &self.import.id, &numbers).await.map_err(retry)?
        } else {
            HashMap::new()
        };
        let emails: Vec<String> = valid().filter_map(|(_, c)| c.email.as_ref().map(|e| e.key())).collect();
        let phones: Vec<String> = valid().filter_map(|(_, c)| c.phone.as_ref().map(|p| p.key())).collect();
        let (by_email, by_phone) = store.owners_of(self.ws, &emails, &phones).await.map_err(retry)?;
        let owner_of = |new: &NewContact| {
            new.email
                .as_ref()
                .and_then(|e| by_email.get(&e.key()))
                .or_else(|| new.phone.as_ref().and_then(|p| by_phone.get(&p.key())))
                .copied()
        };
        let mut outcomes: Vec<(u64, Result<Outcome, String>)> = Vec::with_capacity(parsed.len());
        if batch.dry_run {
            for (number, row) in parsed {
                let outcome = match row {
                    Err(reason) => Err(reason),
                    Ok(new) => self.dry_row(batch, &new, owner_of(&new)).await?,
                };
                outcomes.push((number, outcome));
            }
        } else {
            let mut to_write = Vec::new();
            for (number, row) in parsed {
                match row {
                    Err(reason) => outcomes.push((number, Err(reason))),
                    Ok(_) if written.contains_key(&number) => outcomes.push((number, Ok(written[&number]))),
                    Ok(new) => to_write.push((number, new)),
                }
            }
            // Rows are written several at a time, in waves: a row waits for the earlier
            // rows that share its email or phone, so those apply in the file's order.
            let rule = batch.rule;
            for wave in waves(&to_write) {
                let rows = wave.into_iter().map(|i| {
                    let (number, new) = to_write[i].clone();
                    let owner = owner_of(&new);
                    async move { (number, self.row(rule, number, new, owner).await) }
                });
                let done: Vec<_> = futures::stream::iter(rows).buffer_unordered(ROWS_AT_ONCE).collect().await;
                for (number, outcome) in done {
                    outcomes.push((number, outcome?));
                }
            }
        }
        outcomes.sort_by_key(|(number, _)| *number);
        let mut counts = ImportCounts::default();
        let mut failures = Vec::new();
        for (number, outcome) in outcomes {
            match outcome {
                Ok(outcome) => counts.count(outcome),
                Err(reason) => {
                    counts.count(Outcome::Failed);
                    failures.push((number, reason));
                }
            }
        }
        Ok((counts, failures))
    }

    /// What a row would do, writing nothing: rows of the file are remembered (as hashes of
    /// their email and phone keys) to count a later row that duplicates one as a duplicate.
    async fn dry_row(
        &self,
        batch: &mut Batch,
        new: &NewContact,
        owner: Option<ContactId>,
    ) -> Result<Result<Outcome, String>, Stop> {
        let keys = identity_hashes(new);
        let earlier_row = keys.iter().any(|k| batch.seen.contains(k));
        batch.seen.extend(keys);
        Ok(Ok(match owner {
            Some(_) if batch.rule == DuplicateRule::Skip => Outcome::Skipped,
            Some(id) => match self.worker.store.get_contact(self.ws, id).await.map_err(retry)? {
                Some(c) if c.is_visible() => {
                    if duplicate_patch(batch.rule, new, &c).is_empty() {
                        Outcome::Skipped
                    } else {
                        Outcome::Updated
                    }
                }
                _ => return Ok(Err(deleted_owner(id))),
            },
            None if earlier_row && batch.rule == DuplicateRule::Skip => Outcome::Skipped,
            None if earlier_row => Outcome::Updated,
            None => Outcome::Created,
        }))
    }

    /// Writes what a row does: a new contact, a change to the one it duplicates, or nothing.
    async fn row(
        &self,
        rule: DuplicateRule,
        number: u64,
        new: NewContact,
        mut owner: Option<ContactId>,
    ) -> Result<Result<Outcome, String>, Stop> {
        let store = &self.worker.store;
        let policy = self.workspace.lead_rules.policy;
        // A lost race (a contact created or changed meanwhile) is read again.
        for _ in 0..3 {
            let now = Utc::now();
            let Some(id) = owner else {
                let id = store.allocate_contact_id(self.ws).await.map_err(retry)?;
                let mut contact = new.clone().into_contact(id, now);
                lead::refresh(&mut contact, now, policy);
                match store.insert_imported_contact(self.ws, &contact, self.import, number).await {
                    Ok(()) | Err(StoreError::AlreadyCaptured) => return Ok(Ok(Outcome::Created)),
                    Err(StoreError::Taken { owner: taken_by, .. }) => {
                        owner = Some(taken_by);
                        continue;
                    }
                    Err(e) => return Err(retry(e)),
                }
            };
            if rule == DuplicateRule::Skip {
                return Ok(Ok(Outcome::Skipped));
            }
            let current: Contact = match store.get_contact(self.ws, id).await.map_err(retry)? {
                Some(c) if c.is_visible() => c,
                _ => return Ok(Err(deleted_owner(id))),
            };
            let patch = duplicate_patch(rule, &new, &current);
            if patch.is_empty() {
                return Ok(Ok(Outcome::Skipped));
            }
            let mut next = patch.apply_to(&current);
            lead::refresh(&mut next, now, policy);
            match store.replace_imported_contact(self.ws, &current, &next, self.import, number).await {
                Ok(()) | Err(StoreError::AlreadyCaptured) => return Ok(Ok(Outcome::Updated)),
                Err(StoreError::VersionMismatch { .. }) => continue,
                Err(StoreError::Taken { field, owner }) => {
                    return Ok(Err(format!(
                        "{field}: already used by contact {owner}, not the one this row matches ({id})"
                    )))
                }
                Err(e) => return Err(retry(e)),
            }
        }
        Ok(Err("the matching contact kept changing while the row was imported; import the row again".into()))
    }
}

/// The rows' indexes in waves: each row in the wave after the last earlier row that shares
/// its email or phone (rows sharing nothing are all in the first).
fn waves(rows: &[(u64, NewContact)]) -> Vec<Vec<usize>> {
    let mut wave_of_key: HashMap<u64, usize> = HashMap::new();
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (i, (_, new)) in rows.iter().enumerate() {
        let keys = identity_hashes(new);
        let wave = keys.iter().filter_map(|k| wave_of_key.get(k)).map(|w| w + 1).max().unwrap_or(0);
        for k in keys {
            wave_of_key.insert(k, wave);
        }
        if waves.len() <= wave {
            waves.resize(wave + 1, Vec::new());
        }
        waves[wave].push(i);
    }
    waves
}

fn deleted_owner(id: ContactId) -> String {
    format!("the email or phone belongs to contact {id}, which is deleted: restore it or wait for its purge")
}

/// What a run remembers across batches.
struct Batch {
    /// Dry runs: hashes of the rows' email and phone keys so far.
    seen: HashSet<u64>,
    /// The run's first batch, the only one that may repeat rows.
    first: bool,
    rule: DuplicateRule,
    dry_run: bool,
}

fn identity_hashes(new: &NewContact) -> Vec<u64> {
    use std::hash::{Hash, Hasher};
    let hash = |kind: &str, key: String| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (kind, key).hash(&mut h);
        h.finish()
    };
    new.email.iter().map(|e| hash("email", e.key())).chain(new.phone.iter().map(|p| hash("phone", p.key()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::domain::{Channel, Email, Phone};

    fn row(number: u64, email: Option<&str>, phone: Option<&str>) -> (u64, NewContact) {
        let mut new = NewContact::on(Channel::Frame);
        new.email = email.map(|e| Email::parse(e).unwrap());
        new.phone = phone.map(|p| Phone::parse(p, None).unwrap());
        (number, new)
    }

    #[test]
    fn rows_sharing_an_email_or_phone_go_in_later_waves_in_file_order() {
        let rows = [
            row(2, Some("ada@example.com"), None),
            row(3, Some("bob@example.com"), Some("+14155552671")),
            row(4, Some("ADA@example.com"), None),
            row(5, None, None),
            row(6, Some("cy@example.com"), Some("+1 415 555 2671")),
            row(7, Some("ada@example.com"), Some("+14155552671")),
        ];
        assert_eq!(waves(&rows), vec![vec![0, 1, 3], vec![2, 4], vec![5]]);
    }
}
