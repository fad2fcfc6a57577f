//! Per-request accounting of DynamoDB calls and capacity.
//!
//! Handlers run inside [`metered`]; every store call records itself into the task-local
//! meter, so cost shows up in each request's log line without threading a meter around.
//! Capacity is estimated from item sizes by DynamoDB's published rules (the local
//! emulator reports constants); the figure AWS reports is kept beside it.

use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;

tokio::task_local! {
    static METER: RefCell<Usage>;
}

/// What one request (or job step) cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub calls: u32,
    /// Calls by operation, in order, e.g. `["GetItem", "Query"]`.
    pub operations: Vec<&'static str>,
    pub read_units: f64,
    pub write_units: f64,
    /// As reported by DynamoDB's `ConsumedCapacity` (constants on the emulator).
    pub reported_units: f64,
}

/// Runs `f` with a fresh meter and returns what it recorded.
pub async fn metered<F: Future>(f: F) -> (F::Output, Usage) {
    METER
        .scope(RefCell::new(Usage::default()), async {
            let out = f.await;
            let usage = METER.with(|m| m.borrow().clone());
            (out, usage)
        })
        .await
}

pub(crate) fn record(operation: &'static str, read_units: f64, write_units: f64, reported: Option<&ConsumedCapacity>) {
    let _ = METER.try_with(|m| {
        let mut m = m.borrow_mut();
        m.calls += 1;
        m.operations.push(operation);
        m.read_units += read_units;
        m.write_units += write_units;
        m.reported_units += reported.and_then(|c| c.capacity_units).unwrap_or(0.0);
    });
}

pub(crate) fn reported_sum(list: Option<&[ConsumedCapacity]>) -> ConsumedCapacity {
    let total = list.unwrap_or_default().iter().filter_map(|c| c.capacity_units).sum();
    ConsumedCapacity::builder().capacity_units(total).build()
}

/// Read units for items read together (one Query page): the sizes are summed, then
/// rounded up to 4 KB; eventually consistent reads cost half.
pub(crate) fn read_units(bytes: usize, consistent: bool) -> f64 {
    let blocks = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        blocks
    } else {
        blocks / 2.0
    }
}

/// Write units for one item write: 1 per started KB.
pub(crate) fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// An item's size as DynamoDB counts it: attribute names plus values.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn records_only_inside_a_metered_scope() {
        record("GetItem", 0.5, 0.0, None);
        let ((), usage) = metered(async { record("Query", 1.0, 0.0, None) }).await;
        assert_eq!(usage.calls, 1);
        assert_eq!(usage.operations, vec!["Query"]);
    }
}
