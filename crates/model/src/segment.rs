//! Segments: saved list filters, by the list's parameter names.

use crate::domain::InvalidValue;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub id: String,
    pub name: String,
    /// List parameters (`channel`, `consent`, `active_within`, …) and their values.
    pub filters: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Segment {
    pub fn new(name: &str, filters: BTreeMap<String, String>) -> Result<Self, InvalidValue> {
        let now = Utc::now().trunc_subsecs(0);
        let id = format!("sg{}", crate::hex::random(5));
        Ok(Segment { id, name: segment_name(name)?, filters, created_at: now, updated_at: now })
    }

    /// The filters as query parameters.
    pub fn params(&self) -> Vec<(String, String)> {
        self.filters.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// A segment id as `Segment::new` makes them (`sg` and 10 letters or digits), checked
/// before it becomes part of a key.
pub fn segment_id(raw: &str) -> Result<String, InvalidValue> {
    if raw.len() != 12 || !raw.starts_with("sg") || !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(InvalidValue::new("is not a segment id: expected `sg` and 10 letters or digits"));
    }
    Ok(raw.to_string())
}

pub fn segment_name(raw: &str) -> Result<String, InvalidValue> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 100 {
        return Err(InvalidValue::new("a segment name needs 1 to 100 characters"));
    }
    Ok(name)
}
