//! Notes: timestamped entries on a contact, written by people (the API key's name).

use super::keys::{self, PROFILE};
use super::table::{get_s, key, s, Condition, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use model::domain::{ContactId, WorkspaceId};
use model::note::Note;

impl Store {
    /// Adds a note to an existing, visible contact.
    pub async fn add_note(&self, ws: &WorkspaceId, contact: ContactId, note: &Note) -> StoreResult<()> {
        let mut item: Item = serde_dynamo::to_item(note).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend([
            ("pk".to_string(), s(keys::contact_pk(ws, contact))),
            ("sk".to_string(), s(keys::note_sk(&note.id))),
            ("entity".to_string(), s("note")),
        ]);
        // The profile must exist and be visible: a note never creates half a contact.
        let guard =
            self.tx_condition_check((), key(keys::contact_pk(ws, contact), PROFILE), Condition::visible_contact());
        let put = self.tx_put((), item, None);
        match self.transact(&[guard, put]).await {
            Ok(()) => Ok(()),
            Err(super::table::TxFailure::Conditions(_)) => Err(StoreError::NotFound),
            Err(super::table::TxFailure::Other(e)) => Err(e),
        }
    }

    /// A contact's notes, newest first.
    pub async fn list_notes(&self, ws: &WorkspaceId, contact: ContactId) -> StoreResult<Vec<Note>> {
        let mut query = QuerySpec::partition(keys::contact_pk(ws, contact), "NOTE#");
        query.newest_first = true;
        let items = self.query_all(&query, 200).await?;
        items
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("note: {e}"))))
            .collect()
    }

    pub async fn delete_note(&self, ws: &WorkspaceId, contact: ContactId, note_id: &str) -> StoreResult<()> {
        let note_key = key(keys::contact_pk(ws, contact), keys::note_sk(note_id));
        if self.get_item(note_key.clone(), true).await?.and_then(|i| get_s(&i, "id").map(str::to_string)).is_none() {
            return Err(StoreError::NotFound);
        }
        self.batch_delete(vec![note_key]).await
    }
}
