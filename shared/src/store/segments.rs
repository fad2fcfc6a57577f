//! Segments: saved list filters, by the list's parameter names.

use super::keys::GSI1;
use super::table::{get_s, key, s, Condition, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use crate::domain::{InvalidValue, WorkspaceId};
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
        let mut tail = [0u8; 5];
        getrandom::fill(&mut tail).expect("randomness");
        let now = Utc::now().trunc_subsecs(0);
        let id = format!("sg{}", tail.iter().map(|b| format!("{b:02x}")).collect::<String>());
        Ok(Segment { id, name: segment_name(name)?, filters, created_at: now, updated_at: now })
    }

    /// The filters as query parameters.
    pub fn params(&self) -> Vec<(String, String)> {
        self.filters.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

pub fn segment_name(raw: &str) -> Result<String, InvalidValue> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 100 {
        return Err(InvalidValue::new("a segment name needs 1 to 100 characters"));
    }
    Ok(name)
}

fn segment_key(ws: &WorkspaceId, id: &str) -> Item {
    key(format!("WS#{ws}#SEG#{id}"), "SEGMENT")
}

fn segments_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#SEGMENTS")
}

impl Store {
    pub async fn put_segment(&self, ws: &WorkspaceId, segment: &Segment, create: bool) -> StoreResult<()> {
        let mut item = segment_key(ws, &segment.id);
        item.extend([
            ("entity".to_string(), s("segment")),
            ("segment".to_string(), s(serde_json::to_string(segment).map_err(|e| StoreError::Corrupt(e.to_string()))?)),
            (GSI1.pk.to_string(), s(segments_pk(ws))),
            (GSI1.sk.to_string(), s(format!("{}#{}", segment.name.to_lowercase(), segment.id))),
        ]);
        let condition =
            if create { Condition::absent() } else { Condition { expression: "attribute_exists(pk)", values: None } };
        match self.transact(&[self.tx_put((), item, Some(condition))]).await {
            Ok(()) => Ok(()),
            Err(super::table::TxFailure::Conditions(_)) if create => {
                Err(StoreError::Corrupt("segment id collision".into()))
            }
            Err(super::table::TxFailure::Conditions(_)) => Err(StoreError::NotFound),
            Err(super::table::TxFailure::Other(e)) => Err(e),
        }
    }

    pub async fn get_segment(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<Segment>> {
        let Some(item) = self.get_item(segment_key(ws, id), true).await? else { return Ok(None) };
        segment_from(&item).map(Some)
    }

    /// A workspace's segments by name.
    pub async fn list_segments(&self, ws: &WorkspaceId) -> StoreResult<Vec<Segment>> {
        let mut query = QuerySpec::index(GSI1, segments_pk(ws));
        query.newest_first = false;
        self.query_all(&query, 500).await?.iter().map(segment_from).collect()
    }

    pub async fn delete_segment(&self, ws: &WorkspaceId, id: &str) -> StoreResult<()> {
        let exists = Condition { expression: "attribute_exists(pk)", values: None };
        match self.transact(&[self.tx_delete((), segment_key(ws, id), Some(exists))]).await {
            Ok(()) => Ok(()),
            Err(super::table::TxFailure::Conditions(_)) => Err(StoreError::NotFound),
            Err(super::table::TxFailure::Other(e)) => Err(e),
        }
    }
}

fn segment_from(item: &Item) -> StoreResult<Segment> {
    let json = get_s(item, "segment").ok_or_else(|| StoreError::Corrupt("segment without body".into()))?;
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("segment: {e}")))
}
