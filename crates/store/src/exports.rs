//! Export records: requested by the API, claimed and advanced by the export worker,
//! listed newest first, removed with their file by an erasure. Every change after the
//! request is conditional on the record's status, so a deleted or finished export is
//! never revived by a late worker.

use super::keys::{self, GSI1};
use super::table::{get_s, key, n, s, After, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, ReturnValue};
use chrono::{DateTime, Utc};
use model::domain::WorkspaceId;
use model::export::{Export, ExportCheckpoint, ExportUpdate, MAX_EXPORT_ATTEMPTS};
use model::listing::{api_time, Position};

impl Store {
    /// Stores a new export; the record expires (TTL) with its file.
    pub async fn put_export(&self, ws: &WorkspaceId, export: &Export, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let mut item: Item = serde_dynamo::to_item(export).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend([
            ("pk".to_string(), s(keys::export_pk(ws, &export.id))),
            ("sk".to_string(), s(keys::EXPORT_SK)),
            ("entity".to_string(), s("export")),
            (GSI1.pk.to_string(), s(keys::exports_pk(ws))),
            (GSI1.sk.to_string(), s(keys::export_list_sk(export.created_at, &export.id))),
            ("expires_at".to_string(), n(expires_at.timestamp())),
        ]);
        match self.put_one(item, true).await? {
            true => Ok(()),
            false => Err(StoreError::Corrupt(format!("export id {} already exists", export.id))),
        }
    }

    pub async fn get_export(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<Export>> {
        self.get_item(key(keys::export_pk(ws, id), keys::EXPORT_SK), true).await?.map(|i| export_from(&i)).transpose()
    }

    /// The workspace's exports, newest first.
    pub async fn list_exports(
        &self,
        ws: &WorkspaceId,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<Export>, Option<Position>)> {
        let query = QuerySpec::index(GSI1, keys::exports_pk(ws));
        let start = after.map(|p| keys::start_key(ws, &p, &["pk", "sk", GSI1.pk, GSI1.sk])).transpose()?;
        let (items, next) = self.query_page(&query, start, limit as i32).await?;
        let exports = items.iter().map(export_from).collect::<StoreResult<_>>()?;
        Ok((exports, next.map(|k| keys::position_of(&k))))
    }

    /// Every export of the workspace (erasure checks each one's filters).
    pub async fn all_exports(&self, ws: &WorkspaceId) -> StoreResult<Vec<Export>> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let (mut page, next) = self.list_exports(ws, 200, after).await?;
            all.append(&mut page);
            match next {
                Some(p) => after = Some(p),
                None => return Ok(all),
            }
        }
    }

    /// Starts an export, continues it, or retries it after a run that stopped without
    /// progress: queued or running → running, one more attempt (a checkpoint resets them).
    pub async fn claim_export(&self, ws: &WorkspaceId, id: &str, now: DateTime<Utc>) -> StoreResult<ExportUpdate> {
        self.update_export(
            ws,
            id,
            "SET #status = :running, started_at = if_not_exists(started_at, :now), progress_at = :now ADD attempts :one",
            "#status IN (:queued, :running) AND attempts < :max",
            [
                (":running", s("running")),
                (":queued", s("queued")),
                (":now", s(api_time(now))),
                (":one", n(1)),
                (":max", n(MAX_EXPORT_ATTEMPTS)),
            ],
        )
        .await
    }

    /// Saves where a CSV or JSON export stands (its rows so far count as written), if the
    /// export still runs and its last checkpoint is the one this one follows (`seq` − 1):
    /// of two runs of one export, only one advances. `handed_on`: the run ends here and
    /// the next one continues.
    pub async fn checkpoint_export(
        &self,
        ws: &WorkspaceId,
        id: &str,
        upload_id: &str,
        checkpoint: &ExportCheckpoint,
        handed_on: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<ExportUpdate> {
        let saved = serde_dynamo::to_attribute_value(checkpoint).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let follows = match checkpoint.seq {
            0 | 1 => "attribute_not_exists(#cp.#seq)",
            _ => "#cp.#seq = :previous",
        };
        let update = if handed_on {
            "SET #cp = :cp, rows_written = :rows, upload_id = :upload, progress_at = :now, attempts = :zero ADD continuations :one"
        } else {
            "SET #cp = :cp, rows_written = :rows, upload_id = :upload, progress_at = :now, attempts = :zero"
        };
        self.update_export(
            ws,
            id,
            update,
            &format!("#status = :running AND {follows}"),
            [
                (":cp", saved),
                (":rows", n(checkpoint.rows)),
                (":upload", s(upload_id)),
                (":now", s(api_time(now))),
                (":zero", n(0)),
                (":one", n(1)),
                (":previous", n(checkpoint.seq.saturating_sub(1))),
                (":running", s("running")),
            ],
        )
        .await
    }

    /// Records progress (and the upload in progress) while the export still runs.
    pub async fn export_progress(
        &self,
        ws: &WorkspaceId,
        id: &str,
        rows: u64,
        upload_id: &str,
    ) -> StoreResult<ExportUpdate> {
        self.update_export(
            ws,
            id,
            "SET rows_written = :rows, upload_id = :upload, progress_at = :now REMOVE #cp",
            "#status = :running",
            [
                (":rows", n(rows)),
                (":upload", s(upload_id)),
                (":now", s(api_time(Utc::now()))),
                (":running", s("running")),
            ],
        )
        .await
    }

    pub async fn finish_export(
        &self,
        ws: &WorkspaceId,
        id: &str,
        rows: u64,
        size: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<ExportUpdate> {
        self.update_export(
            ws,
            id,
            "SET #status = :ready, rows_written = :rows, row_count = :rows, size_bytes = :size, finished_at = :now REMOVE upload_id, #cp",
            "#status = :running",
            [(":ready", s("ready")), (":rows", n(rows)), (":size", n(size)), (":now", s(api_time(now))), (":running", s("running"))],
        )
        .await
    }

    /// Marks an export failed, unless it finished or was removed meanwhile.
    pub async fn fail_export(
        &self,
        ws: &WorkspaceId,
        id: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<ExportUpdate> {
        self.update_export(
            ws,
            id,
            "SET #status = :failed, #error = :error, finished_at = :now REMOVE upload_id, #cp",
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

    pub async fn delete_export(&self, ws: &WorkspaceId, id: &str) -> StoreResult<()> {
        self.batch_delete(vec![key(keys::export_pk(ws, id), keys::EXPORT_SK)]).await
    }

    async fn update_export<const N: usize>(
        &self,
        ws: &WorkspaceId,
        id: &str,
        update: &str,
        condition: &str,
        values: [(&str, aws_sdk_dynamodb::types::AttributeValue); N],
    ) -> StoreResult<ExportUpdate> {
        let export = key(keys::export_pk(ws, id), keys::EXPORT_SK);
        let before = self.image(&export).await;
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(export.clone()))
            .update_expression(update)
            .condition_expression(format!("attribute_exists(pk) AND {condition}"))
            .expression_attribute_names("#status", "status")
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes);
        if update.contains("#error") {
            request = request.expression_attribute_names("#error", "error");
        }
        if update.contains("#cp") || condition.contains("#cp") {
            request = request.expression_attribute_names("#cp", "checkpoint");
        }
        if condition.contains("#seq") {
            request = request.expression_attribute_names("#seq", "seq");
        }
        // DynamoDB refuses values that neither expression uses.
        for (name, value) in values {
            if update.contains(name) || condition.contains(name) {
                request = request.expression_attribute_values(name, value);
            }
        }
        let result = request.send().await;
        match result {
            Ok(out) => {
                let item = out.attributes.ok_or_else(|| StoreError::Corrupt("update returned no export".into()))?;
                let after = After::Known(item.clone());
                self.record_write("UpdateItem", &export, before, after, out.consumed_capacity.as_ref()).await;
                Ok(ExportUpdate::Done(Box::new(export_from(&item)?)))
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                self.record_write("UpdateItem", &export, before, After::Failed, None).await;
                Ok(ExportUpdate::Gone)
            }
            Err(e) => Err(crate::aws_error(e)),
        }
    }
}

fn export_from(item: &Item) -> StoreResult<Export> {
    serde_dynamo::from_item(item.clone())
        .map_err(|e| StoreError::Corrupt(format!("export {}: {e}", get_s(item, "pk").unwrap_or("?"))))
}
