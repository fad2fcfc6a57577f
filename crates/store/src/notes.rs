//! Notes: timestamped entries on a contact, written by people (the API key's name).

use super::keys::{self, PROFILE};
use super::table::{key, n, s, Condition, Item, QuerySpec, TxFailure};
use super::{Store, StoreError, StoreResult};
use model::domain::{ContactId, WorkspaceId};
use model::listing::Position;
use model::note::{Note, MAX_NOTES_PER_CONTACT};

/// What became of a note to add.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteAdded {
    Added,
    /// The contact holds [`MAX_NOTES_PER_CONTACT`] notes already: nothing was written.
    ContactFull,
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Profile,
    Count,
    Other,
}

impl Store {
    /// Adds a note to an existing, visible contact that holds fewer than
    /// [`MAX_NOTES_PER_CONTACT`]: one transaction with the profile's check and the count.
    pub async fn add_note(&self, ws: &WorkspaceId, contact: ContactId, note: &Note) -> StoreResult<NoteAdded> {
        let mut item: Item = serde_dynamo::to_item(note).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend([
            ("pk".to_string(), s(keys::contact_pk(ws, contact))),
            ("sk".to_string(), s(keys::note_sk(&note.id))),
            ("entity".to_string(), s("note")),
        ]);
        // The profile must exist and be visible: a note never creates half a contact.
        let guard = self.tx_condition_check(
            Op::Profile,
            key(keys::contact_pk(ws, contact), PROFILE),
            Condition::visible_contact(),
        );
        let put = self.tx_put(Op::Other, item, None);
        let mut count = self.tx_add_counts(Op::Count, count_key(ws, contact), &[(keys::NOTE_COUNT_ATTR.into(), 1)]);
        if let Some(update) = count.item.update.as_mut() {
            update.condition_expression = Some("attribute_not_exists(#c0) OR #c0 < :cap".into());
            let values = update.expression_attribute_values.get_or_insert_with(Default::default);
            values.insert(":cap".into(), n(MAX_NOTES_PER_CONTACT));
        }
        match self.transact(&[guard, put, count]).await {
            Ok(()) => Ok(NoteAdded::Added),
            Err(TxFailure::Conditions(failed)) if failed.iter().any(|(op, _)| *op == Op::Profile) => {
                Err(StoreError::NotFound)
            }
            Err(TxFailure::Conditions(_)) => Ok(NoteAdded::ContactFull),
            Err(TxFailure::Other(e)) => Err(e),
        }
    }

    /// Every note of a contact, newest first (at most [`MAX_NOTES_PER_CONTACT`], more only
    /// after a merge).
    pub async fn list_notes(&self, ws: &WorkspaceId, contact: ContactId) -> StoreResult<Vec<Note>> {
        let items = self.query_all(&notes_query(ws, contact), 200).await?;
        items.into_iter().map(note_from).collect()
    }

    /// One page of a contact's notes, newest first, and where the next starts.
    pub async fn notes_page(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<Note>, Option<Position>)> {
        let start = after.map(|p| keys::start_key(ws, &p, &["pk", "sk"])).transpose()?;
        let (items, next) = self.query_page(&notes_query(ws, contact), start, limit as i32).await?;
        let notes = items.into_iter().map(note_from).collect::<StoreResult<_>>()?;
        Ok((notes, next.map(|k| keys::position_of(&k))))
    }

    /// Deletes a note and counts it out, in one transaction.
    pub async fn delete_note(&self, ws: &WorkspaceId, contact: ContactId, note_id: &str) -> StoreResult<()> {
        let note_key = key(keys::contact_pk(ws, contact), keys::note_sk(note_id));
        let delete = self.tx_delete(Op::Other, note_key, Some(Condition::present()));
        let count = self.tx_add_counts(Op::Count, count_key(ws, contact), &[(keys::NOTE_COUNT_ATTR.into(), -1)]);
        match self.transact(&[delete, count]).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(_)) => Err(StoreError::NotFound),
            Err(TxFailure::Other(e)) => Err(e),
        }
    }
}

/// The item that counts a contact's notes.
pub(crate) fn count_key(ws: &WorkspaceId, contact: ContactId) -> Item {
    key(keys::contact_pk(ws, contact), keys::NOTE_COUNT_SK)
}

fn notes_query(ws: &WorkspaceId, contact: ContactId) -> QuerySpec {
    let mut query = QuerySpec::partition(keys::contact_pk(ws, contact), "NOTE#");
    query.newest_first = true;
    query
}

fn note_from(item: Item) -> StoreResult<Note> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("note: {e}")))
}
