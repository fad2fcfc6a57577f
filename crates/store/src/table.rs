//! Thin, metered wrappers over the DynamoDB calls the repository uses.

use super::keys::{PK, SK};
use super::meter::{self, Cost, Write};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConsumedCapacity, Delete, DeleteRequest, KeysAndAttributes, Put,
    ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use std::collections::HashMap;
use std::time::Duration;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit on items per transaction.
pub(crate) const MAX_TRANSACTION_ITEMS: usize = 100;
const MAX_BATCH_GET: usize = 100;
const MAX_BATCH_WRITE: usize = 25;
const CONFLICT_RETRIES: u32 = 6;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub(crate) fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// What a Query asks for: index, key condition, optional filter, and order.
#[derive(Debug, Clone, Default)]
pub(crate) struct QuerySpec {
    pub index: Option<&'static str>,
    pub key_condition: String,
    pub names: HashMap<String, String>,
    pub values: Item,
    pub filter: Option<String>,
    pub newest_first: bool,
    /// Strongly consistent (the table only; indexes never are).
    pub consistent: bool,
}

impl QuerySpec {
    /// The items of one table partition whose sort key starts with `prefix`, in key order.
    pub fn partition(pk: impl Into<String>, prefix: &str) -> Self {
        let mut q = QuerySpec {
            key_condition: "pk = :pk".into(),
            values: Item::from([(":pk".to_string(), s(pk))]),
            ..Default::default()
        };
        if !prefix.is_empty() {
            q.key_condition.push_str(" AND begins_with(sk, :prefix)");
            q.values.insert(":prefix".into(), s(prefix));
        }
        q
    }

    /// One partition of a secondary index, newest first.
    pub fn index(index: super::keys::Index, pk: impl Into<String>) -> Self {
        QuerySpec {
            index: Some(index.name),
            key_condition: "#pk = :pk".into(),
            names: HashMap::from([("#pk".to_string(), index.pk.to_string())]),
            values: Item::from([(":pk".to_string(), s(pk))]),
            filter: None,
            newest_first: true,
            consistent: false,
        }
    }
}

/// A condition on a transaction item.
pub(crate) struct Condition {
    pub expression: &'static str,
    pub values: Option<Item>,
}

impl Condition {
    /// Only when no item has this key yet.
    pub fn absent() -> Self {
        Condition { expression: "attribute_not_exists(pk)", values: None }
    }

    /// Only when the item exists.
    pub fn present() -> Self {
        Condition { expression: "attribute_exists(pk)", values: None }
    }

    /// Only when a contact's profile exists and is not hidden.
    pub fn visible_contact() -> Self {
        Condition { expression: "attribute_exists(pk) AND attribute_not_exists(deleted_at)", values: None }
    }

    pub fn equals(attribute: &'static str, value: AttributeValue) -> Self {
        let expression = match attribute {
            "version" => "version = :expected",
            "contact_id" => "contact_id = :expected",
            "applied_through" => "applied_through = :expected",
            "live_version" => "live_version = :expected",
            "current_version" => "current_version = :expected",
            other => unreachable!("no condition on {other}"),
        };
        Condition { expression, values: Some(Item::from([(":expected".to_string(), value)])) }
    }
}

/// One write of a transaction, labelled so a cancellation can be explained.
#[derive(Clone)]
pub(crate) struct TxOp<L> {
    pub label: L,
    pub item: TransactWriteItem,
}

impl Store {
    /// A put, optionally conditional; a failed condition returns the item as it was.
    pub(crate) fn tx_put<L>(&self, label: L, item: Item, condition: Option<Condition>) -> TxOp<L> {
        let mut p = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(c) = condition {
            p = p
                .condition_expression(c.expression)
                .set_expression_attribute_values(c.values)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        }
        let put = p.build().expect("table and item are set");
        TxOp { label, item: TransactWriteItem::builder().put(put).build() }
    }

    pub(crate) fn tx_delete<L>(&self, label: L, key: Item, condition: Option<Condition>) -> TxOp<L> {
        let mut d = Delete::builder().table_name(&self.table).set_key(Some(key));
        if let Some(c) = condition {
            d = d
                .condition_expression(c.expression)
                .set_expression_attribute_values(c.values)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        }
        let delete = d.build().expect("table and key are set");
        TxOp { label, item: TransactWriteItem::builder().delete(delete).build() }
    }

    pub(crate) fn tx_update<L>(
        &self,
        label: L,
        key: Item,
        expression: &str,
        names: HashMap<String, String>,
        values: Item,
    ) -> TxOp<L> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(expression)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .expect("table, key and expression are set");
        TxOp { label, item: TransactWriteItem::builder().update(update).build() }
    }

    /// An update of an item that must exist (the transaction is cancelled when it does not).
    pub(crate) fn tx_update_existing<L>(&self, label: L, key: Item, expression: &str, values: Item) -> TxOp<L> {
        let mut op = self.tx_update(label, key, expression, HashMap::new(), values);
        if let Some(update) = op.item.update.as_mut() {
            update.condition_expression = Some("attribute_exists(pk)".into());
        }
        op
    }

    /// A condition on an item the transaction does not write.
    pub(crate) fn tx_condition_check<L>(&self, label: L, key: Item, condition: Condition) -> TxOp<L> {
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition.expression)
            .set_expression_attribute_values(condition.values)
            .build()
            .expect("table, key and condition are set");
        TxOp { label, item: TransactWriteItem::builder().condition_check(check).build() }
    }

    /// An `ADD` counter update; the item is created when missing.
    pub(crate) fn tx_add_counts<L>(&self, label: L, key: Item, deltas: &[(String, i64)]) -> TxOp<L> {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut parts = Vec::new();
        for (i, (attr, delta)) in deltas.iter().enumerate() {
            names.insert(format!("#c{i}"), attr.clone());
            values.insert(format!(":d{i}"), n(delta));
            parts.push(format!("#c{i} :d{i}"));
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(format!("ADD {}", parts.join(", ")))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .expect("table, key and expression are set");
        TxOp { label, item: TransactWriteItem::builder().update(update).build() }
    }
}

/// How a transaction ended when it did not commit.
pub(crate) enum TxFailure<L> {
    /// These ops' conditions failed (with the item as it was, when returned).
    Conditions(Vec<(L, Option<Item>)>),
    Other(StoreError),
}

impl Store {
    pub(crate) async fn get_item(&self, key: Item, consistent: bool) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(crate::aws_error)?;
        let size = out.item.as_ref().map_or(0, meter::item_size);
        meter::record("GetItem", Cost::read(meter::read_units(size, consistent)), out.consumed_capacity.as_ref());
        Ok(out.item)
    }

    /// One metered PutItem. With `only_if_absent`, answers false when the key is taken.
    pub(crate) async fn put_one(&self, item: Item, only_if_absent: bool) -> StoreResult<bool> {
        self.put_if(item, only_if_absent.then(Condition::absent)).await
    }

    /// One metered PutItem, on a condition: false when it failed.
    pub(crate) async fn put_if(&self, item: Item, condition: Option<Condition>) -> StoreResult<bool> {
        let before = self.image(&key_of(&item)).await;
        let units = meter::item_write_units(before.as_ref(), Some(&item));
        let failed_units = meter::failed_write_units(before.as_ref(), Some(&item));
        let (expression, values) = condition.map(|c| (c.expression, c.values)).unzip();
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(expression.map(str::to_string))
            .set_expression_attribute_values(values.flatten())
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await;
        match out {
            Ok(out) => {
                meter::record("PutItem", Cost::write(units, 1), out.consumed_capacity.as_ref());
                Ok(true)
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                meter::record("PutItem", Cost::write(failed_units, 1), None);
                Ok(false)
            }
            Err(e) => Err(crate::aws_error(e)),
        }
    }

    /// One metered UpdateItem of an item that exists: false when it does not (nothing is created).
    pub(crate) async fn update_existing(
        &self,
        key: Item,
        expression: &str,
        names: HashMap<String, String>,
        values: Item,
    ) -> StoreResult<bool> {
        self.update_one(key, expression, names, values, Some("attribute_exists(pk)")).await
    }

    /// One metered UpdateItem that creates the item when it is missing (e.g. `ADD` counters).
    pub(crate) async fn update_or_create(&self, key: Item, expression: &str, values: Item) -> StoreResult<()> {
        self.update_one(key, expression, HashMap::new(), values, None).await.map(|_| ())
    }

    async fn update_one(
        &self,
        key: Item,
        expression: &str,
        names: HashMap<String, String>,
        values: Item,
        condition: Option<&str>,
    ) -> StoreResult<bool> {
        let before = self.image(&key).await;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .update_expression(expression)
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await;
        match out {
            Ok(out) => {
                self.record_write("UpdateItem", &key, before, After::ReadBack, out.consumed_capacity.as_ref()).await;
                Ok(true)
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                self.record_write("UpdateItem", &key, before, After::Failed, None).await;
                Ok(false)
            }
            Err(e) => Err(crate::aws_error(e)),
        }
    }

    /// Records a PutItem, UpdateItem or DeleteItem sent with the client directly. `before`
    /// comes from [`Store::image`] taken before the call.
    pub(crate) async fn record_write(
        &self,
        operation: &'static str,
        key: &Item,
        before: Option<Item>,
        after: After,
        reported: Option<&ConsumedCapacity>,
    ) {
        let units = match after {
            After::Failed => meter::failed_write_units(before.as_ref(), None),
            After::Absent => meter::item_write_units(before.as_ref(), None),
            After::Known(item) => meter::item_write_units(before.as_ref(), Some(&item)),
            After::ReadBack => {
                let after = self.image(key).await;
                meter::item_write_units(before.as_ref(), after.as_ref())
            }
        };
        meter::record(operation, Cost::write(units, 1), reported);
    }

    /// One item as it is now, for billing a write from its items (None when the store does
    /// not bill from items). See [`Store::images`].
    pub(crate) async fn image(&self, key: &Item) -> Option<Item> {
        self.images([key]).await.into_values().next()
    }

    /// The items with these keys as they are now, by key, read for the meter: consistent,
    /// neither billed nor counted (they are the meter's reads, not the request's). Empty
    /// unless the store bills from items; a failed read leaves an item out, never fails
    /// the request.
    pub(crate) async fn images<'a>(&self, keys: impl IntoIterator<Item = &'a Item>) -> HashMap<ItemKey, Item> {
        let mut found = HashMap::new();
        if !self.bill_from_items {
            return found;
        }
        let mut keys: Vec<Item> = keys.into_iter().map(key_of).collect();
        keys.sort_by_key(key_id);
        keys.dedup_by_key(|k| key_id(k));
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending = chunk.to_vec();
            while !pending.is_empty() {
                let Ok(request) = KeysAndAttributes::builder().set_keys(Some(pending)).consistent_read(true).build()
                else {
                    break;
                };
                let read = self.client.batch_get_item().request_items(&self.table, request).customize();
                let marked = read.mutate_request(|request| {
                    request.headers_mut().insert(METER_READ_HEADER, "1");
                });
                let Ok(out) = marked.send().await else {
                    break;
                };
                for item in out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                    found.insert(key_id(&item), item);
                }
                pending =
                    out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys).unwrap_or_default();
            }
        }
        found
    }

    /// One Query page. `start` continues after a previous page.
    pub(crate) async fn query_page(
        &self,
        q: &QuerySpec,
        start: Option<Item>,
        limit: i32,
    ) -> StoreResult<(Vec<Item>, Option<Item>)> {
        let out = self
            .query_request(q, q.filter.clone(), start.clone(), limit)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(crate::aws_error)?;
        let items = out.items.unwrap_or_default();
        let scanned_count = out.scanned_count.max(0) as usize;
        // A filter bills what it dropped too: re-read the page's scanned items.
        let scanned = match &q.filter {
            Some(filter) if self.bill_from_items && scanned_count > items.len() => {
                self.scanned_items(q, filter, start, scanned_count).await
            }
            _ => None,
        };
        let bytes = meter::page_bytes(&items, scanned.as_deref(), scanned_count);
        meter::record("Query", Cost::read(meter::read_units(bytes, q.consistent)), out.consumed_capacity.as_ref());
        Ok((items, out.last_evaluated_key))
    }

    fn query_request(
        &self,
        q: &QuerySpec,
        filter: Option<String>,
        start: Option<Item>,
        limit: i32,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_string))
            .key_condition_expression(&q.key_condition)
            .set_filter_expression(filter)
            .set_expression_attribute_names((!q.names.is_empty()).then(|| q.names.clone()))
            .set_expression_attribute_values(Some(q.values.clone()))
            .set_exclusive_start_key(start)
            .limit(limit)
            .scan_index_forward(!q.newest_first)
            .consistent_read(q.consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::None)
    }

    /// The items a filtered page scanned, for the meter: the same page with a filter every
    /// item passes (it keeps the original, whose names and values must all be used).
    async fn scanned_items(
        &self,
        q: &QuerySpec,
        filter: &str,
        start: Option<Item>,
        scanned: usize,
    ) -> Option<Vec<Item>> {
        let all = format!("attribute_exists(pk) OR ({filter})");
        let out = self.query_request(q, Some(all), start, scanned as i32).send().await.ok()?;
        out.items
    }

    /// Every item the query selects, following its pages (`page` items each).
    pub(crate) async fn query_all(&self, q: &QuerySpec, page: i32) -> StoreResult<Vec<Item>> {
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let (mut items, next) = self.query_page(q, start, page).await?;
            all.append(&mut items);
            match next {
                Some(k) => start = Some(k),
                None => return Ok(all),
            }
        }
    }

    /// Reads items by key (any order back), following up unprocessed keys.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>, consistent: bool) -> StoreResult<Vec<Item>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending = chunk.to_vec();
            for attempt in 0.. {
                if pending.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .consistent_read(consistent)
                    .build()
                    .map_err(|e| StoreError::Refused(e.to_string()))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                    .send()
                    .await
                    .map_err(crate::aws_error)?;
                let mut items = out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default();
                let units = items.iter().map(|i| meter::read_units(meter::item_size(i), consistent)).sum();
                meter::record(
                    "BatchGetItem",
                    Cost::read(units),
                    Some(&meter::reported_sum(out.consumed_capacity.as_deref())),
                );
                found.append(&mut items);
                pending =
                    out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys).unwrap_or_default();
                backoff(attempt, !pending.is_empty()).await?;
            }
        }
        Ok(found)
    }

    /// Unconditional puts and deletes in batches of 25, retrying unprocessed ones.
    pub(crate) async fn batch_write(&self, requests: Vec<WriteRequest>) -> StoreResult<()> {
        for chunk in requests.chunks(MAX_BATCH_WRITE) {
            let mut pending = chunk.to_vec();
            for attempt in 0.. {
                if pending.is_empty() {
                    break;
                }
                let targets: Vec<(Item, Option<&Item>)> = pending
                    .iter()
                    .map(|r| match (&r.put_request, &r.delete_request) {
                        (Some(p), _) => (key_of(&p.item), Some(&p.item)),
                        (None, Some(d)) => (key_of(&d.key), None),
                        (None, None) => (Item::new(), None),
                    })
                    .collect();
                let before = self.images(targets.iter().map(|(k, _)| k)).await;
                let units =
                    targets.iter().map(|(k, after)| meter::item_write_units(before.get(&key_id(k)), *after)).sum();
                let count = pending.len();
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                    .send()
                    .await
                    .map_err(crate::aws_error)?;
                pending = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
                // Unprocessed requests are billed when they are retried.
                let done = count - pending.len();
                let units = if pending.is_empty() { units } else { units * done as f64 / count as f64 };
                meter::record(
                    "BatchWriteItem",
                    Cost::write(units, done),
                    Some(&meter::reported_sum(out.consumed_capacity.as_deref())),
                );
                backoff(attempt, !pending.is_empty()).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn batch_delete(&self, keys: Vec<Item>) -> StoreResult<()> {
        let requests = keys
            .into_iter()
            .map(|k| {
                WriteRequest::builder()
                    .delete_request(DeleteRequest::builder().set_key(Some(k)).build().expect("key set"))
                    .build()
            })
            .collect();
        self.batch_write(requests).await
    }

    /// Runs a transaction, retrying it when it only lost a race with another transaction.
    pub(crate) async fn transact<L: Clone>(&self, ops: &[TxOp<L>]) -> Result<(), TxFailure<L>> {
        debug_assert!(ops.len() <= MAX_TRANSACTION_ITEMS);
        let items: Vec<TransactWriteItem> = ops.iter().map(|op| op.item.clone()).collect();
        for attempt in 0.. {
            let before = self.images(items.iter().map(|i| tx_target(i).0)).await;
            // The SDK resends this very request after a lost answer: with the same token,
            // DynamoDB answers the resend as it did the first (within 10 minutes) instead of
            // failing it against the first's own writes. A new attempt after a lost race gets
            // a new token.
            let result = self
                .client
                .transact_write_items()
                .client_request_token(model::hex::random(16))
                .set_transact_items(Some(items.clone()))
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                .send()
                .await;
            match result {
                Ok(out) => {
                    let updated = items.iter().filter(|i| i.update.is_some()).map(|i| tx_target(i).0);
                    let after = self.images(updated).await;
                    let units = meter::transaction_units(&tx_writes(&items, &before, &after), true);
                    meter::record(
                        "TransactWriteItems",
                        Cost::write(units, items.len()),
                        Some(&meter::reported_sum(out.consumed_capacity.as_deref())),
                    );
                    return Ok(());
                }
                Err(SdkError::ServiceError(e)) => {
                    // A cancelled transaction still ran its prepare phase.
                    let units = meter::transaction_units(&tx_writes(&items, &before, &HashMap::new()), false);
                    meter::record("TransactWriteItems", Cost::write(units, items.len()), None);
                    let reasons = match e.into_err() {
                        TransactWriteItemsError::TransactionCanceledException(c) => {
                            c.cancellation_reasons.unwrap_or_default()
                        }
                        TransactWriteItemsError::TransactionInProgressException(_) => Vec::new(),
                        other => return Err(TxFailure::Other(crate::aws_error(other))),
                    };
                    let failed = conditions_failed(ops, &reasons);
                    if !failed.is_empty() {
                        return Err(TxFailure::Conditions(failed));
                    }
                    if attempt >= CONFLICT_RETRIES {
                        return Err(TxFailure::Other(StoreError::Contended));
                    }
                    backoff(attempt, true).await.map_err(TxFailure::Other)?;
                }
                Err(e) => return Err(TxFailure::Other(crate::aws_error(e))),
            }
        }
        unreachable!("the retry loop returns")
    }
}

fn conditions_failed<L: Clone>(ops: &[TxOp<L>], reasons: &[CancellationReason]) -> Vec<(L, Option<Item>)> {
    ops.iter()
        .zip(reasons)
        .filter(|(_, r)| r.code.as_deref() == Some("ConditionalCheckFailed"))
        .map(|(op, r)| (op.label.clone(), r.item.clone()))
        .collect()
}

/// A table key as a map key: the `pk` and `sk` strings.
pub(crate) type ItemKey = (String, String);

fn key_id(item: &Item) -> ItemKey {
    (get_s(item, PK).unwrap_or_default().to_string(), get_s(item, SK).unwrap_or_default().to_string())
}

/// The table key of an item (its other attributes dropped).
fn key_of(item: &Item) -> Item {
    item.iter().filter(|(k, _)| *k == PK || *k == SK).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// What a directly sent single write left behind, for [`Store::record_write`].
pub(crate) enum After {
    /// Deleted.
    Absent,
    /// As the call returned it (`ReturnValues: ALL_NEW`).
    Known(Item),
    /// Read back when the store bills from items.
    ReadBack,
    /// Its condition failed: nothing changed.
    Failed,
}

/// A transaction item's key, and the item a put writes.
fn tx_target(item: &TransactWriteItem) -> (&Item, Option<&Item>) {
    static NO_KEY: std::sync::OnceLock<Item> = std::sync::OnceLock::new();
    if let Some(p) = &item.put {
        return (&p.item, Some(&p.item));
    }
    let key = item
        .update
        .as_ref()
        .map(|u| &u.key)
        .or(item.delete.as_ref().map(|d| &d.key))
        .or(item.condition_check.as_ref().map(|c| &c.key));
    (key.unwrap_or_else(|| NO_KEY.get_or_init(Item::new)), None)
}

/// A transaction's items as the meter bills them: old images from `before`, new ones from
/// the puts themselves or from `after` (updates).
fn tx_writes<'a>(
    items: &'a [TransactWriteItem],
    before: &'a HashMap<ItemKey, Item>,
    after: &'a HashMap<ItemKey, Item>,
) -> Vec<Write<'a>> {
    items
        .iter()
        .map(|i| {
            let (key, put) = tx_target(i);
            let id = key_id(key);
            let old = before.get(&id);
            if i.condition_check.is_some() {
                Write::Check { item: old }
            } else if i.delete.is_some() {
                Write::Change { before: old, after: None }
            } else {
                Write::Change { before: old, after: put.or(after.get(&id)) }
            }
        })
        .collect()
}

/// Exponential backoff with full jitter (a random wait up to the doubling cap), so writers
/// that collided do not collide again in step; gives up after a few rounds.
async fn backoff(attempt: u32, needed: bool) -> StoreResult<()> {
    if !needed {
        return Ok(());
    }
    if attempt >= 8 {
        return Err(StoreError::Contended);
    }
    let cap = 20u64 << attempt.min(6);
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).ok();
    let millis = 1 + u64::from_le_bytes(random) % cap;
    tokio::time::sleep(Duration::from_millis(millis)).await;
    Ok(())
}

/// Tells the emulator's request log (`scripts/moto_server.py`) that a read is the meter's,
/// made on the emulator only: `scripts/check-iam.py` does not hold it to the function's policy.
const METER_READ_HEADER: &str = "x-emulator-meter-read";
