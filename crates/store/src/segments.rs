//! Segments: saved list filters, by the list's parameter names.

use super::keys::GSI1;
use super::table::{get_s, key, s, Condition, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use model::domain::WorkspaceId;
use model::segment::Segment;

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
