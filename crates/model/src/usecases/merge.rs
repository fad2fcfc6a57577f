//! Merging duplicates: a person picks the survivor, the other contact's values fill its
//! gaps (or win where the person chose them), and the merge can be undone for a week,
//! unless the survivor changed since.

use crate::contact::{check_limits, Contact};
use crate::domain::ContactId;
use crate::domain::WorkspaceId;
use crate::listing::api_time;
use crate::merge::{self, MergeRecord, MergeState, Side};
use crate::ports::{StoreError, StoreResult};
use crate::usecases::contacts::ContactStore;
use crate::workspace::Workspace;
use chrono::Utc;
use std::collections::BTreeMap;
use std::future::Future;

/// What merges write. `commit_merge` writes the survivor as `merged` (only while still at
/// `this.version`), removes `that` (at its version, leaving a tombstone), re-points its
/// guards and moves its conversations and notes, all-or-nothing at its core and resumable
/// after; `revert_merge` puts both contacts back as they were before.
pub trait MergeStore: ContactStore {
    fn commit_merge(
        &self,
        ws: &WorkspaceId,
        this: &Contact,
        that: &Contact,
        merged: &Contact,
    ) -> impl Future<Output = StoreResult<MergeRecord>> + Send;
    fn get_merge(&self, ws: &WorkspaceId, id: &str) -> impl Future<Output = StoreResult<Option<MergeRecord>>> + Send;
    /// Finishes moving the history of a merge cut short (state `started`).
    fn finish_merge(&self, ws: &WorkspaceId, record: &MergeRecord) -> impl Future<Output = StoreResult<()>> + Send;
    fn revert_merge(
        &self,
        ws: &WorkspaceId,
        record: &MergeRecord,
        survivor_now: &Contact,
    ) -> impl Future<Output = StoreResult<MergeRecord>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("a contact cannot be merged with itself")]
    Itself,
    /// `survivor` is false when it is the other contact that is missing.
    #[error("there is no contact {id} in this workspace")]
    Missing { id: ContactId, survivor: bool },
    /// The merged contact would break a limit (e.g. too many tags).
    #[error("{1}")]
    Limit(&'static str, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Merges `other` into `survivor`; a dry run computes the result and writes nothing.
pub async fn merge(
    store: &impl MergeStore,
    workspace: &Workspace,
    survivor: ContactId,
    other: ContactId,
    choices: &BTreeMap<&'static str, Side>,
    dry_run: bool,
) -> Result<(Contact, Option<MergeRecord>), MergeError> {
    if survivor == other {
        return Err(MergeError::Itself);
    }
    let ws = &workspace.id;
    let visible = |c: Option<Contact>, survivor: bool, id: ContactId| {
        c.filter(Contact::is_visible).ok_or(MergeError::Missing { id, survivor })
    };
    let this = visible(store.get_contact(ws, survivor).await?, true, survivor)?;
    let that = visible(store.get_contact(ws, other).await?, false, other)?;
    let merged = merge::merged(&this, &that, choices, workspace.lead_rules.policy);
    check_limits(&merged.tags, merged.notes.as_deref())
        .map_err(|(field, message)| MergeError::Limit(field, message))?;
    if dry_run {
        return Ok((merged, None));
    }
    let record = store.commit_merge(ws, &this, &that, &merged).await?;
    Ok((merged, Some(record)))
}

/// A merge record as it is: a read writes nothing, so a merge cut short shows `started`.
pub async fn get(store: &impl MergeStore, ws: &WorkspaceId, id: &str) -> StoreResult<Option<MergeRecord>> {
    store.get_merge(ws, id).await
}

/// A merge record, finishing first a merge that was cut short (a write: for callers who may write).
pub async fn get_finished(store: &impl MergeStore, ws: &WorkspaceId, id: &str) -> StoreResult<Option<MergeRecord>> {
    match store.get_merge(ws, id).await? {
        Some(record) if record.state == MergeState::Started => {
            store.finish_merge(ws, &record).await?;
            store.get_merge(ws, id).await
        }
        other => Ok(other),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("there is no merge {0}")]
    NotFound(String),
    #[error("this merge was already undone")]
    AlreadyUndone,
    #[error("the undo window closed at {0}")]
    WindowClosed(String),
    #[error("contact {id} changed after the merge (version {merged} → {now}); undoing would lose those edits")]
    SurvivorChanged { id: ContactId, merged: u64, now: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Undoes a merge within its window, if the survivor has not changed since.
pub async fn undo(store: &impl MergeStore, ws: &WorkspaceId, id: &str) -> Result<MergeRecord, UndoError> {
    let record = store.get_merge(ws, id).await?.ok_or_else(|| UndoError::NotFound(id.to_string()))?;
    match record.state {
        MergeState::Undone => return Err(UndoError::AlreadyUndone),
        MergeState::Started => store.finish_merge(ws, &record).await?,
        MergeState::Done => {}
    }
    if Utc::now() > record.undo_until {
        return Err(UndoError::WindowClosed(api_time(record.undo_until)));
    }
    let current = store.get_contact(ws, record.survivor).await?.ok_or(StoreError::NotFound)?;
    if current.version != record.merged.version {
        return Err(UndoError::SurvivorChanged {
            id: record.survivor,
            merged: record.merged.version,
            now: current.version,
        });
    }
    let undone = store.revert_merge(ws, &record, &current).await?;
    tracing::info!(workspace = %ws, merge = %id, "merge undone");
    Ok(undone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{ContactPatch, MAX_TAGS};
    use crate::domain::{Channel, Email, Tag};
    use crate::new_contact::NewContact;
    use crate::usecases::contacts::edit;
    use crate::usecases::memory::MemoryStore;

    fn setup() -> (MemoryStore, Workspace, Contact, Contact) {
        let store = MemoryStore::default();
        let ws = Workspace::with_defaults(WorkspaceId::parse("acme").unwrap());
        let this = store.seed(&ws.id, NewContact::on(Channel::Telegram));
        let mut other = NewContact::on(Channel::Frame);
        other.email = Some(Email::parse("ada@example.com").unwrap());
        let that = store.seed(&ws.id, other);
        (store, ws, this, that)
    }

    #[tokio::test]
    async fn a_dry_run_writes_nothing_and_a_merge_fills_gaps_from_the_other() {
        let (store, ws, this, that) = setup();
        let (preview, record) = merge(&store, &ws, this.id, that.id, &BTreeMap::new(), true).await.unwrap();
        assert!(record.is_none());
        assert_eq!(store.contacts(&ws.id).len(), 2);
        assert_eq!(preview.email.as_ref().map(|e| e.as_str()), Some("ada@example.com"));
        let (merged, record) = merge(&store, &ws, this.id, that.id, &BTreeMap::new(), false).await.unwrap();
        assert_eq!(record.unwrap().state, MergeState::Done);
        assert_eq!(store.contacts(&ws.id), vec![merged]);
    }

    #[tokio::test]
    async fn merges_are_refused_with_itself_a_missing_contact_or_too_many_tags() {
        let (store, ws, this, that) = setup();
        assert!(matches!(merge(&store, &ws, this.id, this.id, &BTreeMap::new(), false).await, Err(MergeError::Itself)));
        let missing = ContactId(999);
        assert!(matches!(
            merge(&store, &ws, this.id, missing, &BTreeMap::new(), false).await,
            Err(MergeError::Missing { survivor: false, .. })
        ));
        let tags = |prefix: &str| (0..MAX_TAGS).map(|i| Tag::parse(&format!("{prefix}{i}")).unwrap()).collect();
        for (c, prefix) in [(&this, "a"), (&that, "b")] {
            let patch = ContactPatch { tags: Some(tags(prefix)), ..Default::default() };
            edit(&store, &ws, c.id, patch, None).await.unwrap();
        }
        assert!(matches!(
            merge(&store, &ws, this.id, that.id, &BTreeMap::new(), false).await,
            Err(MergeError::Limit("tags", _))
        ));
        assert_eq!(store.contacts(&ws.id).len(), 2, "nothing was merged");
    }

    #[tokio::test]
    async fn undo_restores_both_unless_the_survivor_changed() {
        let (store, ws, this, that) = setup();
        let (_, record) = merge(&store, &ws, this.id, that.id, &BTreeMap::new(), false).await.unwrap();
        let record = record.unwrap();
        let undone = undo(&store, &ws.id, &record.id).await.unwrap();
        assert_eq!(undone.state, MergeState::Undone);
        assert_eq!(store.contacts(&ws.id).len(), 2);
        assert!(matches!(undo(&store, &ws.id, &record.id).await, Err(UndoError::AlreadyUndone)));

        let (_, record) = merge(&store, &ws, this.id, that.id, &BTreeMap::new(), false).await.unwrap();
        edit(
            &store,
            &ws,
            this.id,
            ContactPatch { notes: crate::contact::Change::Set("later".into()), ..Default::default() },
            None,
        )
        .await
        .unwrap();
        assert!(matches!(undo(&store, &ws.id, &record.unwrap().id).await, Err(UndoError::SurvivorChanged { .. })));
        assert!(matches!(undo(&store, &ws.id, "mg0").await, Err(UndoError::NotFound(_))));
    }
}
