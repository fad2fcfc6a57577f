//! Thin, metered wrappers over the DynamoDB calls the repository uses.

use super::keys::{PK, SK};
use super::meter::{self, item_size, read_units, write_units};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Delete, DeleteRequest, KeysAndAttributes, Put, ReturnConsumedCapacity,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
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

    pub fn equals(attribute: &'static str, value: AttributeValue) -> Self {
        let expression = match attribute {
            "version" => "version = :expected",
            "contact_id" => "contact_id = :expected",
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
    /// Estimated write units (size-based), GSI copies included.
    pub units: f64,
}

impl Store {
    /// A put, optionally conditional; a failed condition returns the item as it was.
    pub(crate) fn tx_put<L>(&self, label: L, item: Item, condition: Option<Condition>) -> TxOp<L> {
        // Keys-only index copies (gsi4) are small; counting them whole keeps the estimate conservative.
        let copies = 1 + item.keys().filter(|k| k.starts_with("gsi") && k.ends_with("pk")).count();
        let units = write_units(item_size(&item)) * copies as f64;
        let mut p = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(c) = condition {
            p = p
                .condition_expression(c.expression)
                .set_expression_attribute_values(c.values)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        }
        let put = p.build().expect("table and item are set");
        TxOp { label, item: TransactWriteItem::builder().put(put).build(), units }
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
        TxOp { label, item: TransactWriteItem::builder().delete(delete).build(), units: 1.0 }
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
        TxOp { label, item: TransactWriteItem::builder().update(update).build(), units: 1.0 }
    }

    /// A condition on an item the transaction does not write.
    pub(crate) fn tx_condition_check(&self, key: Item, expression: &str) -> TxOp<()> {
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(expression)
            .build()
            .expect("table, key and condition are set");
        TxOp { label: (), item: TransactWriteItem::builder().condition_check(check).build(), units: 1.0 }
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
        TxOp { label, item: TransactWriteItem::builder().update(update).build(), units: 1.0 }
    }
}

/// Adds a condition to an update (its values go with the update's).
pub(crate) fn with_condition<L>(mut op: TxOp<L>, expression: &str) -> TxOp<L> {
    if let Some(update) = op.item.update.as_mut() {
        update.condition_expression = Some(expression.to_string());
    }
    op
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
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(crate::aws_error)?;
        let size = out.item.as_ref().map_or(0, item_size);
        meter::record("GetItem", read_units(size, consistent), 0.0, out.consumed_capacity.as_ref());
        Ok(out.item)
    }

    /// One metered PutItem. With `only_if_absent`, answers false when the key is taken.
    pub(crate) async fn put_one(&self, item: Item, only_if_absent: bool) -> StoreResult<bool> {
        let copies = 1 + item.keys().filter(|k| k.starts_with("gsi") && k.ends_with("pk")).count();
        let units = write_units(item_size(&item)) * copies as f64;
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(only_if_absent.then(|| "attribute_not_exists(pk)".to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(out) => {
                meter::record("PutItem", 0.0, units, out.consumed_capacity.as_ref());
                Ok(true)
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                meter::record("PutItem", 0.0, 1.0, None);
                Ok(false)
            }
            Err(e) => Err(crate::aws_error(e)),
        }
    }

    /// One Query page. `start` continues after a previous page.
    pub(crate) async fn query_page(
        &self,
        q: &QuerySpec,
        start: Option<Item>,
        limit: i32,
    ) -> StoreResult<(Vec<Item>, Option<Item>)> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_string))
            .key_condition_expression(&q.key_condition)
            .set_filter_expression(q.filter.clone())
            .set_expression_attribute_names((!q.names.is_empty()).then(|| q.names.clone()))
            .set_expression_attribute_values(Some(q.values.clone()))
            .set_exclusive_start_key(start)
            .limit(limit)
            .scan_index_forward(!q.newest_first)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(crate::aws_error)?;
        let items = out.items.unwrap_or_default();
        let size = items.iter().map(item_size).sum();
        meter::record("Query", read_units(size, false), 0.0, out.consumed_capacity.as_ref());
        Ok((items, out.last_evaluated_key))
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
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(crate::aws_error)?;
                let mut items = out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default();
                let units = items.iter().map(|i| read_units(item_size(i), consistent)).sum();
                meter::record("BatchGetItem", units, 0.0, Some(&meter::reported_sum(out.consumed_capacity.as_deref())));
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
                let units = pending
                    .iter()
                    .map(|r| r.put_request.as_ref().map_or(1.0, |p| write_units(item_size(&p.item))))
                    .sum();
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(crate::aws_error)?;
                meter::record(
                    "BatchWriteItem",
                    0.0,
                    units,
                    Some(&meter::reported_sum(out.consumed_capacity.as_deref())),
                );
                pending = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
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
        // Transactions cost two units per item written.
        let units: f64 = ops.iter().map(|op| op.units * 2.0).sum();
        for attempt in 0.. {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            match result {
                Ok(out) => {
                    meter::record(
                        "TransactWriteItems",
                        0.0,
                        units,
                        Some(&meter::reported_sum(out.consumed_capacity.as_deref())),
                    );
                    return Ok(());
                }
                Err(SdkError::ServiceError(e)) => {
                    meter::record("TransactWriteItems", 0.0, 0.0, None);
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

/// Jittered exponential backoff; gives up after a few rounds.
async fn backoff(attempt: u32, needed: bool) -> StoreResult<()> {
    if !needed {
        return Ok(());
    }
    if attempt >= 8 {
        return Err(StoreError::Contended);
    }
    let mut jitter = [0u8; 1];
    getrandom::fill(&mut jitter).ok();
    let millis = (10u64 << attempt.min(6)) + u64::from(jitter[0] % 20);
    tokio::time::sleep(Duration::from_millis(millis)).await;
    Ok(())
}
