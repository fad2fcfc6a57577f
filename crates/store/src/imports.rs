//! Import records and their rows' items: the record (requested, started, claimed and
//! advanced by the import worker, listed newest first), a marker per row that created or
//! updated a contact, written in the contact's own transaction so that a run repeating
//! rows never writes one twice, and a failure per row that failed, the report's lines.
//! Every change after the request is conditional on the record's status.

use super::contacts::{Extra, Part};
use super::keys::{self, GSI1};
use super::table::{get_n, get_s, key, n, s, After, Condition, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{PutRequest, ReturnConsumedCapacity, ReturnValue, WriteRequest};
use chrono::{DateTime, Utc};
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::import::{FileFormat, Import, ImportCheckpoint, ImportSettings, ImportUpdate, Outcome, MAX_IMPORT_ATTEMPTS};
use model::listing::{api_time, Position};
use std::collections::HashMap;

impl Store {
    /// Stores a new import; the record expires (TTL) after `KEEP_DAYS`.
    pub async fn put_import(&self, ws: &WorkspaceId, import: &Import) -> StoreResult<()> {
        let mut item: Item = serde_dynamo::to_item(import).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend([
            ("pk".to_string(), s(keys::import_pk(ws, &import.id))),
            ("sk".to_string(), s(keys::IMPORT_SK)),
            ("entity".to_string(), s("import")),
            (GSI1.pk.to_string(), s(keys::imports_pk(ws))),
            (GSI1.sk.to_string(), s(keys::export_list_sk(import.created_at, &import.id))),
            ("expires_at".to_string(), n(import.expires_at().timestamp())),
        ]);
        match self.put_one(item, true).await? {
            true => Ok(()),
            false => Err(StoreError::Corrupt(format!("import id {} already exists", import.id))),
        }
    }

    pub async fn get_import(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<Import>> {
        self.get_item(key(keys::import_pk(ws, id), keys::IMPORT_SK), true).await?.map(|i| import_from(&i)).transpose()
    }

    /// The workspace's imports, newest first.
    pub async fn list_imports(
        &self,
        ws: &WorkspaceId,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<Import>, Option<Position>)> {
        let query = QuerySpec::index(GSI1, keys::imports_pk(ws));
        let start = after.map(|p| keys::start_key(ws, &p, &["pk", "sk", GSI1.pk, GSI1.sk])).transpose()?;
        let (items, next) = self.query_page(&query, start, limit as i32).await?;
        let imports = items.iter().map(import_from).collect::<StoreResult<_>>()?;
        Ok((imports, next.map(|k| keys::position_of(&k))))
    }

    /// Starts an import that is in `seen` status (checked by the caller: `Import::startable`)
    /// with `settings`: queued for the worker. `resume`: a failed import goes on from its
    /// checkpoint; otherwise the counts start again.
    pub async fn start_import(
        &self,
        ws: &WorkspaceId,
        seen: &Import,
        format: FileFormat,
        settings: &ImportSettings,
        resume: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<ImportUpdate> {
        let settings = serde_dynamo::to_attribute_value(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let checkpoint = if resume { seen.checkpoint.clone() } else { ImportCheckpoint::default() };
        let checkpoint =
            serde_dynamo::to_attribute_value(checkpoint).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.update_import(
            ws,
            &seen.id,
            "SET #status = :queued, #format = :format, settings = :settings, #cp = :cp, started_at = :now, progress_at = :now, attempts = :zero REMOVE #error, finished_at, report_key",
            "#status = :seen",
            [
                (":queued", s("queued")),
                (":format", s(format.as_str())),
                (":settings", settings),
                (":cp", checkpoint),
                (":now", s(api_time(now))),
                (":zero", n(0)),
                (":seen", s(seen.status.as_str())),
            ],
        )
        .await
    }

    /// Starts or continues a run: queued or running → running, one more attempt (a
    /// checkpoint resets them).
    pub async fn claim_import(&self, ws: &WorkspaceId, id: &str, now: DateTime<Utc>) -> StoreResult<ImportUpdate> {
        self.update_import(
            ws,
            id,
            "SET #status = :running, progress_at = :now ADD attempts :one",
            "#status IN (:queued, :running) AND attempts < :max",
            [
                (":running", s("running")),
                (":queued", s("queued")),
                (":now", s(api_time(now))),
                (":one", n(1)),
                (":max", n(MAX_IMPORT_ATTEMPTS)),
            ],
        )
        .await
    }

    /// Records the number of data rows in the file (the first run counts them).
    pub async fn set_import_total(&self, ws: &WorkspaceId, id: &str, total: u64) -> StoreResult<ImportUpdate> {
        self.update_import(
            ws,
            id,
            "SET total_rows = :total",
            "#status = :running",
            [(":total", n(total)), (":running", s("running"))],
        )
        .await
    }

    /// Saves where an import stands if it still runs and its last checkpoint is the one
    /// this one follows (`seq` − 1): of two runs of one import, only one advances.
    /// `handed_on`: the run ends here and the next one continues.
    pub async fn checkpoint_import(
        &self,
        ws: &WorkspaceId,
        id: &str,
        checkpoint: &ImportCheckpoint,
        handed_on: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<ImportUpdate> {
        let saved = serde_dynamo::to_attribute_value(checkpoint).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let update = if handed_on {
            "SET #cp = :cp, progress_at = :now, attempts = :zero ADD continuations :one"
        } else {
            "SET #cp = :cp, progress_at = :now, attempts = :zero"
        };
        self.update_import(
            ws,
            id,
            update,
            "#status = :running AND #cp.#seq = :previous",
            [
                (":cp", saved),
                (":now", s(api_time(now))),
                (":zero", n(0)),
                (":one", n(1)),
                (":previous", n(checkpoint.seq.saturating_sub(1))),
                (":running", s("running")),
            ],
        )
        .await
    }

    /// Marks a running import done, with its report when rows failed.
    pub async fn finish_import(
        &self,
        ws: &WorkspaceId,
        id: &str,
        report_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<ImportUpdate> {
        let (update, report) = match report_key {
            Some(k) => ("SET #status = :done, finished_at = :now, report_key = :report", s(k)),
            None => ("SET #status = :done, finished_at = :now REMOVE report_key", s("")),
        };
        self.update_import(
            ws,
            id,
            update,
            "#status = :running",
            [(":done", s("done")), (":now", s(api_time(now))), (":report", report), (":running", s("running"))],
        )
        .await
    }

    /// Marks an import failed, unless it finished meanwhile; its checkpoint stays, so
    /// starting it again goes on from there.
    pub async fn fail_import(
        &self,
        ws: &WorkspaceId,
        id: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<ImportUpdate> {
        self.update_import(
            ws,
            id,
            "SET #status = :failed, #error = :error, finished_at = :now",
            "#status IN (:queued, :running)",
            [
                (":failed", s("failed")),
                (":error", s(error)),
                (":now", s(api_time(now))),
                (":queued", s("queued")),
                (":running", s("running")),
            ],
        )
        .await
    }

    /// The contacts that own these normalized emails and phones (`Email::key`,
    /// `Phone::key`), through their uniqueness guards: strongly consistent BatchGetItem,
    /// one per 100 keys.
    pub async fn owners_of(
        &self,
        ws: &WorkspaceId,
        emails: &[String],
        phones: &[String],
    ) -> StoreResult<(HashMap<String, ContactId>, HashMap<String, ContactId>)> {
        let mut wanted: HashMap<String, (bool, &String)> = HashMap::new();
        for e in emails {
            wanted.insert(keys::email_guard_pk(ws, e), (true, e));
        }
        for p in phones {
            wanted.insert(keys::phone_guard_pk(ws, p), (false, p));
        }
        let guards = wanted.keys().map(|pk| key(pk.clone(), keys::GUARD)).collect();
        let (mut by_email, mut by_phone) = (HashMap::new(), HashMap::new());
        for item in self.batch_get(guards, true).await? {
            let (Some(pk), Some(owner)) = (get_s(&item, "pk"), get_n(&item, "contact_id")) else { continue };
            match wanted.get(pk) {
                Some((true, e)) => by_email.insert((*e).clone(), ContactId(owner as u64)),
                Some((false, p)) => by_phone.insert((*p).clone(), ContactId(owner as u64)),
                None => None,
            };
        }
        Ok((by_email, by_phone))
    }

    /// Which of these rows of the import created or updated a contact already.
    pub async fn imported_rows(&self, ws: &WorkspaceId, id: &str, rows: &[u64]) -> StoreResult<HashMap<u64, Outcome>> {
        let keys = rows.iter().map(|r| key(keys::import_pk(ws, id), keys::import_row_sk(*r))).collect();
        let mut done = HashMap::new();
        for item in self.batch_get(keys, true).await? {
            let row = get_n(&item, "row").map(|r| r as u64);
            let outcome = match get_s(&item, "outcome") {
                Some("created") => Some(Outcome::Created),
                Some("updated") => Some(Outcome::Updated),
                _ => None,
            };
            if let (Some(row), Some(outcome)) = (row, outcome) {
                done.insert(row, outcome);
            }
        }
        Ok(done)
    }

    /// Creates a contact for a row of an import, with the row's marker in the same
    /// transaction: `AlreadyCaptured` when the row created or updated one before.
    pub async fn insert_imported_contact(
        &self,
        ws: &WorkspaceId,
        contact: &Contact,
        import: &Import,
        row: u64,
    ) -> StoreResult<()> {
        let extra = self.row_marker(ws, import, row, Outcome::Created, contact.id);
        self.insert_contact_with(ws, contact, contact, extra).await
    }

    /// Replaces a contact (at `current.version`) for a row of an import, with the row's
    /// marker in the same transaction.
    pub async fn replace_imported_contact(
        &self,
        ws: &WorkspaceId,
        current: &Contact,
        next: &Contact,
        import: &Import,
        row: u64,
    ) -> StoreResult<()> {
        let extra = self.row_marker(ws, import, row, Outcome::Updated, current.id);
        self.replace_contact_with(ws, current, next, extra).await
    }

    fn row_marker(&self, ws: &WorkspaceId, import: &Import, row: u64, outcome: Outcome, contact: ContactId) -> Extra {
        let mut item = key(keys::import_pk(ws, &import.id), keys::import_row_sk(row));
        item.extend([
            ("entity".to_string(), s("import_row")),
            ("row".to_string(), n(row)),
            ("outcome".to_string(), s(if outcome == Outcome::Created { "created" } else { "updated" })),
            ("contact_id".to_string(), n(contact.0)),
            ("expires_at".to_string(), n(import.expires_at().timestamp())),
        ]);
        Extra { ops: vec![self.tx_put(Part::Dedup, item, Some(Condition::absent()))] }
    }

    /// Records failed rows (a row's failure put again replaces it: runs may repeat rows).
    pub async fn put_import_failures(
        &self,
        ws: &WorkspaceId,
        import: &Import,
        failures: &[(u64, String)],
    ) -> StoreResult<()> {
        let requests = failures
            .iter()
            .map(|(row, reason)| {
                let mut item = key(keys::import_pk(ws, &import.id), keys::import_failure_sk(*row));
                item.extend([
                    ("entity".to_string(), s("import_failure")),
                    ("row".to_string(), n(*row)),
                    ("reason".to_string(), s(reason)),
                    ("expires_at".to_string(), n(import.expires_at().timestamp())),
                ]);
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| StoreError::Refused(e.to_string()))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<StoreResult<Vec<_>>>()?;
        self.batch_write(requests).await
    }

    /// The failed rows, in row order.
    pub async fn import_failures(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Vec<(u64, String)>> {
        let mut query = QuerySpec::partition(keys::import_pk(ws, id), keys::IMPORT_FAILURE_PREFIX);
        query.consistent = true;
        let items = self.query_all(&query, 1000).await?;
        Ok(items
            .iter()
            .filter_map(|i| Some((get_n(i, "row")? as u64, get_s(i, "reason").unwrap_or_default().to_string())))
            .collect())
    }

    async fn update_import<const N: usize>(
        &self,
        ws: &WorkspaceId,
        id: &str,
        update: &str,
        condition: &str,
        values: [(&str, aws_sdk_dynamodb::types::AttributeValue); N],
    ) -> StoreResult<ImportUpdate> {
        let record = key(keys::import_pk(ws, id), keys::IMPORT_SK);
        let before = self.image(&record).await;
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(record.clone()))
            .update_expression(update)
            .condition_expression(format!("attribute_exists(pk) AND {condition}"))
            .expression_attribute_names("#status", "status")
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes);
        for (placeholder, name) in [("#error", "error"), ("#cp", "checkpoint"), ("#seq", "seq"), ("#format", "format")]
        {
            if update.contains(placeholder) || condition.contains(placeholder) {
                request = request.expression_attribute_names(placeholder, name);
            }
        }
        // DynamoDB refuses values that neither expression uses.
        for (name, value) in values {
            if update.contains(name) || condition.contains(name) {
                request = request.expression_attribute_values(name, value);
            }
        }
        match request.send().await {
            Ok(out) => {
                let item = out.attributes.ok_or_else(|| StoreError::Corrupt("update returned no import".into()))?;
                let after = After::Known(item.clone());
                self.record_write("UpdateItem", &record, before, after, out.consumed_capacity.as_ref()).await;
                Ok(ImportUpdate::Done(Box::new(import_from(&item)?)))
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                self.record_write("UpdateItem", &record, before, After::Failed, None).await;
                Ok(ImportUpdate::Gone)
            }
            Err(e) => Err(crate::aws_error(e)),
        }
    }
}

fn import_from(item: &Item) -> StoreResult<Import> {
    serde_dynamo::from_item(item.clone())
        .map_err(|e| StoreError::Corrupt(format!("import {}: {e}", get_s(item, "pk").unwrap_or("?"))))
}
