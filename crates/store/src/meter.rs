//! Per-request accounting of DynamoDB calls and capacity.
//!
//! Handlers run inside [`metered`]; every store call records itself into the task-local
//! meter, so cost shows up in each request's log line without threading a meter around.
//!
//! Capacity is billed from the items themselves by DynamoDB's published rules: writes in
//! 1 KB units of the larger of the old and new item, every global secondary index the old
//! or new item belongs to written at its projection's size, transactions doubling the
//! table's units (not the indexes'), reads in 4 KB units of what a call read before any
//! filter. On the local emulator the store reads the old and new images it needs for
//! this (unbilled, uncounted reads, see `Store::billing_from_items`); on AWS it bills what
//! it knows and records the capacity AWS reports (`ReturnConsumedCapacity: INDEXES`)
//! beside the estimate.

use super::keys::{self, Index, PK, SK};
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;

tokio::task_local! {
    static METER: RefCell<Usage>;
}

type Item = HashMap<String, AttributeValue>;

/// What one request (or job step) cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub calls: u32,
    /// Calls by operation, in order, e.g. `["GetItem", "Query"]`.
    pub operations: Vec<&'static str>,
    /// Item writes requested: puts, updates, deletes and condition checks, each once
    /// whatever the call that carried it.
    pub write_requests: u32,
    pub read_units: f64,
    pub write_units: f64,
    /// As reported by DynamoDB's `ConsumedCapacity` (constants on the emulator).
    pub reported_units: f64,
}

/// Runs `f` with a fresh meter and returns what it recorded. Inside another meter (a
/// handler that meters itself, run by a benchmark), the usage counts in that one too.
pub async fn metered<F: Future>(f: F) -> (F::Output, Usage) {
    let (out, usage) = METER
        .scope(RefCell::new(Usage::default()), async {
            let out = f.await;
            let usage = METER.with(|m| m.borrow().clone());
            (out, usage)
        })
        .await;
    let _ = METER.try_with(|outer| outer.borrow_mut().add(&usage));
    (out, usage)
}

impl Usage {
    fn add(&mut self, other: &Usage) {
        self.calls += other.calls;
        self.operations.extend(&other.operations);
        self.write_requests += other.write_requests;
        self.read_units += other.read_units;
        self.write_units += other.write_units;
        self.reported_units += other.reported_units;
    }
}

/// What one call cost, as the store bills it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Cost {
    pub read_units: f64,
    pub write_units: f64,
    pub write_requests: u32,
}

impl Cost {
    pub fn read(units: f64) -> Self {
        Cost { read_units: units, ..Default::default() }
    }

    pub fn write(units: f64, requests: usize) -> Self {
        Cost { write_units: units, write_requests: requests as u32, ..Default::default() }
    }
}

pub(crate) fn record(operation: &'static str, cost: Cost, reported: Option<&ConsumedCapacity>) {
    let _ = METER.try_with(|m| {
        let mut m = m.borrow_mut();
        m.calls += 1;
        m.operations.push(operation);
        m.write_requests += cost.write_requests;
        m.read_units += cost.read_units;
        m.write_units += cost.write_units;
        m.reported_units += reported.and_then(|c| c.capacity_units).unwrap_or(0.0);
    });
}

pub(crate) fn reported_sum(list: Option<&[ConsumedCapacity]>) -> ConsumedCapacity {
    let total = list.unwrap_or_default().iter().filter_map(|c| c.capacity_units).sum();
    ConsumedCapacity::builder().capacity_units(total).build()
}

/// Read units for items read together (one Query or Scan page, before any filter): the
/// sizes are summed, then rounded up to 4 KB; eventually consistent reads cost half.
/// GetItem and each item of a BatchGetItem are billed on their own.
pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    let blocks = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        blocks
    } else {
        blocks / 2.0
    }
}

/// Write units for one item write: 1 per started KB.
pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// How much of an item a global secondary index copies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Projection {
    /// The whole item.
    All,
    /// The table's keys and the index's keys.
    KeysOnly,
    /// The keys and these attributes.
    Include(&'static [&'static str]),
}

/// The table's global secondary indexes, as infra/template.yaml declares them.
pub const INDEXES: [(Index, Projection); 6] = [
    (keys::GSI1, Projection::All),
    (keys::GSI2, Projection::Include(&keys::CHANNEL_PROJECTION)),
    (keys::GSI3, Projection::Include(&keys::LIST_PROJECTION)),
    (keys::GSI4, Projection::KeysOnly),
    (keys::GSI5, Projection::Include(&keys::LIST_PROJECTION)),
    (keys::GSI6, Projection::Include(&keys::LIST_PROJECTION)),
];

/// One item a write touches, as it was and as it became (`None`: absent, or not known).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Write<'a> {
    Change {
        before: Option<&'a Item>,
        after: Option<&'a Item>,
    },
    /// A transaction's condition check on an item it does not write.
    Check {
        item: Option<&'a Item>,
    },
}

/// A PutItem, UpdateItem, DeleteItem or one request of a BatchWriteItem: the table item
/// at the larger of its two sizes, plus its index writes.
pub fn item_write_units(before: Option<&Item>, after: Option<&Item>) -> f64 {
    table_write_units(before, after) + index_write_units(before, after)
}

/// A conditional write whose condition failed: the table item only, nothing indexed.
pub fn failed_write_units(before: Option<&Item>, after: Option<&Item>) -> f64 {
    table_write_units(before, after)
}

fn table_write_units(before: Option<&Item>, after: Option<&Item>) -> f64 {
    write_units(before.map_or(0, item_size).max(after.map_or(0, item_size)))
}

/// A TransactWriteItems. Committed, every item is written twice (prepare and commit),
/// condition checks included (DynamoDB bills them as writes of the checked item, see
/// docs/benchmarks.md), while index copies are written once, after the commit. Cancelled
/// (a condition failed, a conflict), only the prepare phase ran: each item once, no index.
pub(crate) fn transaction_units(writes: &[Write], committed: bool) -> f64 {
    let factor = if committed { 2.0 } else { 1.0 };
    writes
        .iter()
        .map(|w| match *w {
            Write::Change { before, after } => {
                let indexes = if committed { index_write_units(before, after) } else { 0.0 };
                factor * table_write_units(before, after) + indexes
            }
            Write::Check { item } => factor * write_units(item.map_or(0, item_size)),
        })
        .sum()
}

/// Index writes of one item change: an entry appears (put), disappears (delete), moves to
/// another key (delete and put) or is rewritten in place when what it projects changed.
pub fn index_write_units(before: Option<&Item>, after: Option<&Item>) -> f64 {
    INDEXES
        .iter()
        .map(|(index, projection)| {
            let old = before.and_then(|i| index_entry(i, index, *projection));
            let new = after.and_then(|i| index_entry(i, index, *projection));
            match (old, new) {
                (None, None) => 0.0,
                (Some(o), None) => write_units(o.size),
                (None, Some(n)) => write_units(n.size),
                (Some(o), Some(n)) if o.key != n.key => write_units(o.size) + write_units(n.size),
                (Some(o), Some(n)) => {
                    let rewritten = match projection {
                        Projection::All => before != after,
                        Projection::KeysOnly => false,
                        Projection::Include(names) => {
                            names.iter().any(|a| before.and_then(|i| i.get(*a)) != after.and_then(|i| i.get(*a)))
                        }
                    };
                    if rewritten {
                        write_units(o.size.max(n.size))
                    } else {
                        0.0
                    }
                }
            }
        })
        .sum()
}

struct IndexEntry<'a> {
    key: (&'a AttributeValue, &'a AttributeValue),
    size: usize,
}

/// An item's entry in an index: only items with both of the index's key attributes have one.
fn index_entry<'a>(item: &'a Item, index: &Index, projection: Projection) -> Option<IndexEntry<'a>> {
    let key = (item.get(index.pk)?, item.get(index.sk)?);
    let size = match projection {
        Projection::All => item_size(item),
        Projection::KeysOnly => attributes_size(item, &[PK, SK, index.pk, index.sk]),
        Projection::Include(names) => {
            attributes_size(item, &[PK, SK, index.pk, index.sk]) + attributes_size(item, names)
        }
    };
    Some(IndexEntry { key, size })
}

fn attributes_size(item: &Item, names: &[&str]) -> usize {
    names.iter().filter_map(|name| item.get(*name).map(|v| name.len() + value_size(v))).sum()
}

/// An item's size as DynamoDB counts it: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
        _ => 1,
    }
}

/// Numbers take about one byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits = n.trim_start_matches('-').trim_start_matches('0').chars().filter(char::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

/// The bytes a Query or Scan page read, which is what it is billed on: its scanned items
/// when they are known; otherwise, when a filter dropped some, the returned items' mean
/// size times the scanned count (the best guess without the dropped items).
pub(crate) fn page_bytes(returned: &[Item], scanned: Option<&[Item]>, scanned_count: usize) -> usize {
    match scanned {
        Some(items) => items.iter().map(item_size).sum(),
        None => {
            let bytes: usize = returned.iter().map(item_size).sum();
            if returned.is_empty() || returned.len() >= scanned_count {
                bytes
            } else {
                bytes * scanned_count / returned.len()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(fields: &[(&str, &str)]) -> Item {
        fields.iter().map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string()))).collect()
    }

    /// An item of exactly `bytes` bytes, with the given key attributes.
    fn sized(fields: &[(&str, &str)], bytes: usize) -> Item {
        let mut i = item(fields);
        let used = item_size(&i) + "body".len();
        i.insert("body".into(), AttributeValue::S("x".repeat(bytes - used)));
        assert_eq!(item_size(&i), bytes);
        i
    }

    #[test]
    fn sizes_follow_dynamodb_rules() {
        let item = HashMap::from([
            ("pk".to_string(), AttributeValue::S("abc".into())),
            ("n".to_string(), AttributeValue::N("12345".into())),
            ("ok".to_string(), AttributeValue::Bool(true)),
        ]);
        assert_eq!(item_size(&item), (2 + 3) + (1 + 4) + (2 + 1));
    }

    #[test]
    fn units_round_up() {
        assert_eq!(read_units(1, false), 0.5);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(write_units(0), 1.0);
    }

    #[test]
    fn an_update_bills_the_larger_image() {
        let keys = [("pk", "WS#a#C#1"), ("sk", "PROFILE")];
        let before = sized(&keys, 922);
        let after = sized(&keys, 1126);
        assert_eq!(item_write_units(Some(&before), Some(&after)), 2.0);
        // Shrinking back costs the same: the larger of the two.
        assert_eq!(item_write_units(Some(&after), Some(&before)), 2.0);
    }

    #[test]
    fn a_transaction_doubles_the_table_write_but_not_the_index_copy() {
        let put = sized(&[("pk", "WS#a#C#1"), ("sk", "PROFILE"), ("gsi1pk", "WS#a#CONTACTS"), ("gsi1sk", "1")], 600);
        let writes = [Write::Change { before: None, after: Some(&put) }];
        assert_eq!(transaction_units(&writes, true), 2.0 + 1.0);
        // Cancelled: the prepare phase only, nothing reaches the index.
        assert_eq!(transaction_units(&writes, false), 1.0);
    }

    #[test]
    fn a_condition_check_bills_the_checked_item_twice() {
        let guard = item(&[("pk", "WS#a#EMAIL#x"), ("sk", "GUARD")]);
        assert_eq!(transaction_units(&[Write::Check { item: Some(&guard) }], true), 2.0);
    }

    #[test]
    fn a_keys_only_entry_holds_the_table_and_index_keys() {
        let contact = sized(
            &[("pk", "WS#a#C#1"), ("sk", "PROFILE"), ("gsi4pk", "WS#a#ACTIVITY"), ("gsi4sk", "2025-08-23T09:14:02Z#1")],
            3000,
        );
        let entry = index_entry(&contact, &keys::GSI4, Projection::KeysOnly).expect("indexed");
        assert_eq!(entry.size, (2 + 8) + (2 + 7) + (6 + 13) + (6 + 22));
        // A 3 KB item in a keys-only index: 3 units for the table, 1 for the entry.
        assert_eq!(item_write_units(None, Some(&contact)), 4.0);
    }

    #[test]
    fn a_changed_index_key_deletes_and_puts_the_entry() {
        let keys = [("pk", "WS#a#C#1"), ("sk", "PROFILE"), ("gsi1pk", "WS#a#TAG#vip")];
        let before = sized(&[keys[0], keys[1], keys[2], ("gsi1sk", "2025-01-01")], 1500);
        let after = sized(&[keys[0], keys[1], keys[2], ("gsi1sk", "2025-02-01")], 1500);
        // Table: 2; index: delete 2 + put 2.
        assert_eq!(item_write_units(Some(&before), Some(&after)), 2.0 + 4.0);
        // Same key, another projected value: one rewrite of the entry.
        let mut edited = before.clone();
        edited.insert("name".into(), AttributeValue::S("Ann".into()));
        assert_eq!(index_write_units(Some(&before), Some(&edited)), 2.0);
        // Keys-only index, keys unchanged: nothing to rewrite.
        let active = item(&[keys[0], keys[1], ("gsi4pk", "WS#a#ACTIVITY"), ("gsi4sk", "t1")]);
        let mut renamed = active.clone();
        renamed.insert("name".into(), AttributeValue::S("Ann".into()));
        assert_eq!(index_write_units(Some(&active), Some(&renamed)), 0.0);
    }

    #[test]
    fn an_include_entry_holds_the_keys_and_the_projected_attributes() {
        let keys = [("pk", "WS#a#C#1"), ("sk", "PROFILE"), ("gsi6pk", "WS#a#CONTACTS"), ("gsi6sk", "2025-01-01#1")];
        let mut before = sized(&[keys[0], keys[1], keys[2], keys[3], ("name", "Ann")], 3000);
        let entry = index_entry(&before, &keys::GSI6, INDEXES[5].1).expect("indexed");
        assert_eq!(entry.size, (2 + 8) + (2 + 7) + (6 + 13) + (6 + 12) + (4 + 3));
        // A 3 KB profile: 3 units for the table, 1 for its small entry.
        assert_eq!(item_write_units(None, Some(&before)), 4.0);
        // An attribute the index does not project changes: the entry stays as it is.
        let mut noted = before.clone();
        noted.insert("notes".into(), AttributeValue::S("called back".into()));
        assert_eq!(index_write_units(Some(&before), Some(&noted)), 0.0);
        // A projected one changes: the entry is rewritten.
        let renamed = {
            before.insert("name".into(), AttributeValue::S("Anna".into()));
            before
        };
        assert_eq!(index_write_units(Some(&noted), Some(&renamed)), 1.0);
    }

    #[test]
    fn a_delete_bills_the_old_item_and_its_entries() {
        let old = sized(&[("pk", "WS#a#C#1"), ("sk", "PROFILE"), ("gsi1pk", "WS#a#CONTACTS"), ("gsi1sk", "1")], 2100);
        assert_eq!(item_write_units(Some(&old), None), 3.0 + 3.0);
        // A failed conditional delete touches no index.
        assert_eq!(failed_write_units(Some(&old), None), 3.0);
    }

    #[test]
    fn a_filtered_query_bills_the_items_it_scanned() {
        let scanned: Vec<Item> = (0..3).map(|i| sized(&[("pk", "p"), ("sk", &i.to_string())], 2048)).collect();
        let returned = vec![scanned[1].clone()];
        let bytes = page_bytes(&returned, Some(&scanned), 3);
        assert_eq!(read_units(bytes, false), 1.0);
        // Without the scanned items, the returned ones stand for them.
        assert_eq!(page_bytes(&returned, None, 3), 3 * 2048);
        assert_eq!(read_units(page_bytes(&returned, None, 1), false), 0.5);
    }

    #[test]
    fn indexes_match_the_template() {
        let template = include_str!("../../../infra/template.yaml");
        for (index, projection) in INDEXES {
            let at = template.find(&format!("IndexName: {}", index.name)).expect("index in template");
            let declared = &template[at..];
            let expected = match projection {
                Projection::All => "ProjectionType: ALL".to_string(),
                Projection::KeysOnly => "ProjectionType: KEYS_ONLY".to_string(),
                Projection::Include(names) => {
                    format!("ProjectionType: INCLUDE\n            NonKeyAttributes: [{}]", names.join(", "))
                }
            };
            let declared = &declared[..declared.find("ProjectionType").expect("projection") + expected.len()];
            assert!(declared.contains(&expected), "{}: {declared}", index.name);
            assert!(declared.contains(index.pk) && declared.contains(index.sk), "{}", index.name);
        }
    }

    #[tokio::test]
    async fn records_only_inside_a_metered_scope() {
        record("GetItem", Cost::read(0.5), None);
        let ((), usage) = metered(async { record("Query", Cost::read(1.0), None) }).await;
        assert_eq!(usage.calls, 1);
        assert_eq!(usage.operations, vec!["Query"]);
    }

    #[tokio::test]
    async fn a_meter_inside_another_counts_in_both() {
        let ((((), inner), ()), outer) = metered(async {
            let out = metered(async { record("Query", Cost::read(1.0), None) }).await;
            record("GetItem", Cost::read(0.5), None);
            (out, ())
        })
        .await;
        assert_eq!((inner.calls, outer.calls), (1, 2));
        assert_eq!(outer.read_units, 1.5);
    }
}
