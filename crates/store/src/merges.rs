//! Merging duplicates: atomic at its core, resumable after, undoable for a week.
//!
//! One transaction replaces the survivor's profile with the merged one, removes the other
//! profile (leaving a tombstone that points to the survivor), re-points the other's
//! guards (email, phone, identities) to the survivor, and writes the merge record (both contacts as they were, what moves). Conversations and
//! notes then move over in idempotent steps; a merge cut short (state `started`) is
//! finished when its record is read or undone. The record keeps what undo needs until the
//! window closes.

use super::contacts::{guard_item, owned_by, profile_item, version_is, Part};
use super::keys::{self, GSI1, PROFILE};
use super::notes::count_key;
use super::table::{get_s, key, n, s, Condition, Item, QuerySpec, TxOp};
use super::tally::RESTORED_ATTR;
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, SubsecRound, Utc};
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::merge::{MergeRecord, MergeState, UNDO_WINDOW_DAYS};
use std::collections::BTreeSet;

fn record_key(ws: &WorkspaceId, id: &str) -> Item {
    key(format!("WS#{ws}#MERGE#{id}"), "MERGE")
}

fn tombstone_key(ws: &WorkspaceId, id: ContactId) -> Item {
    key(keys::contact_pk(ws, id), "MERGED")
}

/// Marks, in the survivor's collection, the merge that brought `other` in: the purge follows it.
fn merged_from_key(ws: &WorkspaceId, survivor: ContactId, other: ContactId) -> Item {
    key(keys::contact_pk(ws, survivor), format!("MERGED_FROM#{}", other.padded()))
}

fn new_merge_id() -> String {
    model::domain::time_ordered_id("mg", Utc::now(), 4)
}

impl Store {
    /// Writes a merge the use case decided (`model::usecases::merge`): one transaction
    /// replaces the survivor (still at `this.version`) with `merged` and removes `that` (still
    /// at its version), then the history moves over.
    pub async fn commit_merge(
        &self,
        ws: &WorkspaceId,
        this: &Contact,
        that: &Contact,
        merged: &Contact,
    ) -> StoreResult<MergeRecord> {
        let (survivor, other) = (this.id, that.id);
        let now = Utc::now().trunc_subsecs(0);
        let mut conversations = Vec::new();
        let mut start = None;
        loop {
            let (page, next) = self.list_conversations(ws, other, 100, start).await?;
            conversations.extend(page.into_iter().map(|c| c.id));
            match next {
                Some(p) => start = Some(p),
                None => break,
            }
        }
        let notes = self
            .partition_keys(&keys::contact_pk(ws, other), "NOTE#")
            .await?
            .iter()
            .filter_map(|k| get_s(k, "sk")?.strip_prefix("NOTE#").map(str::to_string))
            .collect();
        let record = MergeRecord {
            id: new_merge_id(),
            survivor,
            other,
            survivor_before: this.clone(),
            other_before: that.clone(),
            merged: merged.clone(),
            conversations,
            notes,
            state: MergeState::Started,
            created_at: now,
            undo_until: now + Duration::days(UNDO_WINDOW_DAYS),
        };

        let mut ops = vec![
            self.tx_put(Part::Profile, profile_item(ws, merged)?, Some(version_is(this.version))),
            self.tx_delete(Part::Profile, key(keys::contact_pk(ws, other), PROFILE), Some(version_is(that.version))),
            self.tx_put(
                Part::Other,
                self.marker(tombstone_key(ws, other), "merged_contact", survivor, &record.id),
                None,
            ),
            self.tx_put(
                Part::Other,
                self.marker(merged_from_key(ws, survivor, other), "merged_from", other, &record.id),
                None,
            ),
            self.tx_put(Part::Other, record_item(ws, &record)?, Some(Condition::absent())),
        ];
        ops.extend(self.live_op(ws, this, merged)?);
        ops.push(self.live_unchanged(ws, that));
        ops.extend(self.repoint_guards(ws, that, this, other, survivor));
        if let Err(failure) = self.transact(&ops).await {
            return Err(self.explain(failure).await);
        }
        self.finish_merge(ws, &record).await?;
        tracing::info!(workspace = %ws, survivor = %survivor, other = %other, merge = %record.id, "contacts merged");
        Ok(MergeRecord { state: MergeState::Done, ..record })
    }

    /// Moves the other contact's conversations and notes to the survivor and clears what is
    /// left of it. Every step is idempotent, so it can run again after an interruption.
    pub async fn finish_merge(&self, ws: &WorkspaceId, record: &MergeRecord) -> StoreResult<()> {
        self.move_history(ws, record, record.other, record.survivor).await?;
        // Markers of earlier merges into the other contact move over, so purges still reach them.
        for prefix in ["MERGED_FROM#", "MERGE_RECORD#"] {
            for marker_key in self.partition_keys(&keys::contact_pk(ws, record.other), prefix).await? {
                if let Some(mut item) = self.get_item(marker_key, true).await? {
                    item.insert("pk".into(), s(keys::contact_pk(ws, record.survivor)));
                    if let Err(super::table::TxFailure::Other(e)) =
                        self.transact(&[self.tx_put(Part::Other, item, None)]).await
                    {
                        return Err(e);
                    }
                }
            }
        }
        let leftovers: Vec<Item> = self
            .partition_keys(&keys::contact_pk(ws, record.other), "")
            .await?
            .into_iter()
            .filter(|k| get_s(k, "sk") != Some("MERGED"))
            .collect();
        // The other contact's pairs of possible duplicates go with it, from both sides (the
        // review's entry included); the mirrors first, so a rerun still finds them.
        let mut gone = Store::duplicate_mirrors(ws, record.other, &leftovers);
        gone.extend(leftovers);
        self.batch_delete(gone).await?;
        self.set_merge_state(ws, &record.id, MergeState::Done).await
    }

    /// Moves the record's conversations and notes from one contact to the other.
    async fn move_history(
        &self,
        ws: &WorkspaceId,
        record: &MergeRecord,
        from: ContactId,
        to: ContactId,
    ) -> StoreResult<()> {
        for conversation in &record.conversations {
            let op = self.tx_update(
                Part::Other,
                key(keys::conversation_pk(ws, conversation), keys::CONVERSATION_SK),
                "SET contact_id = :to, #listing = :pk",
                [("#listing".to_string(), GSI1.pk.to_string())].into(),
                Item::from([
                    (":to".to_string(), n(to.0)),
                    (":pk".to_string(), s(keys::contact_conversations_pk(ws, to))),
                ]),
            );
            if let Err(super::table::TxFailure::Other(e)) = self.transact(&[op]).await {
                return Err(e);
            }
        }
        for note in &record.notes {
            let old = key(keys::contact_pk(ws, from), keys::note_sk(note));
            if let Some(mut item) = self.get_item(old.clone(), true).await? {
                item.insert("pk".into(), s(keys::contact_pk(ws, to)));
                let count = |contact, delta| {
                    self.tx_add_counts(Part::Other, count_key(ws, contact), &[(keys::NOTE_COUNT_ATTR.into(), delta)])
                };
                // Moved once even by two runs at a time: the second finds the note gone.
                let ops = [
                    self.tx_put(Part::Other, item, None),
                    self.tx_delete(Part::Other, old, Some(Condition::present())),
                    count(from, -1),
                    count(to, 1),
                ];
                if let Err(super::table::TxFailure::Other(e)) = self.transact(&ops).await {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Puts both contacts back as they were before the merge (the use case checked the
    /// window and that the survivor is still `current`).
    pub async fn revert_merge(
        &self,
        ws: &WorkspaceId,
        record: &MergeRecord,
        current: &Contact,
    ) -> StoreResult<MergeRecord> {
        let mut record = record.clone();
        let survivor = Contact { version: current.version + 1, ..record.survivor_before.clone() };
        let other = Contact { version: record.other_before.version + 1, ..record.other_before.clone() };
        let mut ops = vec![
            self.tx_put(Part::Profile, profile_item(ws, &survivor)?, Some(version_is(current.version))),
            self.tx_put(Part::Other, restored_profile_item(ws, &other)?, Some(Condition::absent())),
            self.tx_delete(Part::Other, tombstone_key(ws, record.other), None),
            self.tx_delete(Part::Other, merged_from_key(ws, record.survivor, record.other), None),
            // The record keeps both contacts until its TTL: either one's purge must find it.
            self.tx_put(
                Part::Other,
                self.marker(
                    key(keys::contact_pk(ws, record.survivor), format!("MERGE_RECORD#{}", record.id)),
                    "merge_record",
                    record.other,
                    &record.id,
                ),
                None,
            ),
            self.tx_put(
                Part::Other,
                self.marker(
                    key(keys::contact_pk(ws, record.other), format!("MERGE_RECORD#{}", record.id)),
                    "merge_record",
                    record.survivor,
                    &record.id,
                ),
                None,
            ),
            self.tx_update(
                Part::Other,
                record_key(ws, &record.id),
                "SET #state = :undone",
                [("#state".to_string(), "state".to_string())].into(),
                Item::from([(":undone".to_string(), s("undone"))]),
            ),
        ];
        ops.extend(self.live_op(ws, current, &survivor)?);
        ops.extend(self.repoint_guards(ws, &other, &survivor, record.survivor, record.other));
        if let Err(failure) = self.transact(&ops).await {
            return Err(self.explain(failure).await);
        }
        self.move_history(ws, &record, record.survivor, record.other).await?;
        record.state = MergeState::Undone;
        Ok(record)
    }

    pub async fn get_merge(&self, ws: &WorkspaceId, merge_id: &str) -> StoreResult<Option<MergeRecord>> {
        let Some(item) = self.get_item(record_key(ws, merge_id), true).await? else { return Ok(None) };
        let json = get_s(&item, "record").ok_or_else(|| StoreError::Corrupt("merge record without body".into()))?;
        let mut record: MergeRecord =
            serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("merge record: {e}")))?;
        record.state = match get_s(&item, "state") {
            Some("done") => MergeState::Done,
            Some("undone") => MergeState::Undone,
            _ => MergeState::Started,
        };
        Ok(Some(record))
    }

    /// The contacts merged into `survivor`, as they were before their merge (from the
    /// records its `MERGED_FROM#` markers name): what an erasure must also reach.
    pub async fn merged_into_survivor(&self, ws: &WorkspaceId, survivor: ContactId) -> StoreResult<Vec<Contact>> {
        Ok(self.merges_into(ws, survivor).await?.into_iter().map(|r| r.other_before).collect())
    }

    /// The records of the merges into `survivor` that its `MERGED_FROM#` markers name (one
    /// Query, then 1 GetItem per marker); records gone by TTL are left out.
    pub async fn merges_into(&self, ws: &WorkspaceId, survivor: ContactId) -> StoreResult<Vec<MergeRecord>> {
        let query = QuerySpec::partition(keys::contact_pk(ws, survivor), "MERGED_FROM#");
        let mut records = Vec::new();
        for marker in self.query_all(&query, 100).await? {
            let Some(merge_id) = get_s(&marker, "merge_id") else { continue };
            if let Some(record) = self.get_merge(ws, merge_id).await? {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// Where a merged-away contact went: (survivor, merge id).
    pub async fn merged_into(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Option<(ContactId, String)>> {
        let item = self.get_item(tombstone_key(ws, id), false).await?;
        Ok(item.and_then(|i| {
            Some((ContactId(super::table::get_n(&i, "contact_id")? as u64), get_s(&i, "merge_id")?.to_string()))
        }))
    }

    /// Re-points the guards of `of` that `except` does not hold from contact `from` to `to`.
    fn repoint_guards(
        &self,
        ws: &WorkspaceId,
        of: &Contact,
        except: &Contact,
        from: ContactId,
        to: ContactId,
    ) -> Vec<TxOp<Part>> {
        let held: BTreeSet<String> = super::contacts::guard_keys(ws, except).into_iter().map(|(_, pk)| pk).collect();
        super::contacts::guard_keys(ws, of)
            .into_iter()
            .filter(|(_, pk)| !held.contains(pk))
            .map(|(field, pk)| {
                self.tx_put(Part::Guard(field, pk.clone()), guard_item(pk, to, field), Some(owned_by(from)))
            })
            .collect()
    }

    fn marker(&self, mut item: Item, entity: &str, points_to: ContactId, merge_id: &str) -> Item {
        item.extend([
            ("entity".to_string(), s(entity)),
            ("contact_id".to_string(), n(points_to.0)),
            ("merge_id".to_string(), s(merge_id)),
        ]);
        item
    }

    async fn set_merge_state(&self, ws: &WorkspaceId, merge_id: &str, state: MergeState) -> StoreResult<()> {
        let value = match state {
            MergeState::Started => "started",
            MergeState::Done => "done",
            MergeState::Undone => "undone",
        };
        let op = self.tx_update(
            (),
            record_key(ws, merge_id),
            "SET #state = :state",
            [("#state".to_string(), "state".to_string())].into(),
            Item::from([(":state".to_string(), s(value))]),
        );
        self.transact(&[op]).await.map_err(|_| StoreError::Contended)
    }
}

/// The record holds both contacts as JSON text: one attribute, whatever their shape.
fn record_item(ws: &WorkspaceId, record: &MergeRecord) -> StoreResult<Item> {
    let mut item = record_key(ws, &record.id);
    let json = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.extend([
        ("entity".to_string(), s("merge")),
        ("record".to_string(), s(json)),
        ("state".to_string(), s("started")),
        // Kept a day past the undo window, then DynamoDB's TTL removes it.
        ("expires_at".to_string(), n((record.undo_until + Duration::days(1)).timestamp())),
    ]);
    Ok(item)
}

/// The other contact's profile as an undo puts it back: not a new contact of its day.
fn restored_profile_item(ws: &WorkspaceId, other: &Contact) -> StoreResult<Item> {
    let mut item = profile_item(ws, other)?;
    item.insert(RESTORED_ATTR.into(), AttributeValue::Bool(true));
    Ok(item)
}
