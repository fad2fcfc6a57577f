//! Data-subject requests: access (everything held about one person) and erasure (purged
//! at once, exports that may hold them deleted with their files, a receipt without
//! personal data, and salted hashes of their identities so they stay opted out if they
//! come back).

use crate::contact::{Contact, Identity};
use crate::conversation::{Conversation, Message};
use crate::domain::{Channel, ContactId, WorkspaceId};
use crate::export::Export;
use crate::gdpr::{identities_of, AccessRequest, ErasureReceipt, ErasureStatus, Subject};
use crate::listing::Position;
use crate::new_contact::NewContact;
use crate::note::Note;
use crate::ports::{StoreError, StoreResult};
use crate::usecases::contacts::{ContactStore, DeletionStore};
use chrono::{DateTime, SubsecRound, Utc};
use std::future::Future;

/// What an access export reads.
pub trait HistoryStore: ContactStore {
    fn list_notes(&self, ws: &WorkspaceId, id: ContactId) -> impl Future<Output = StoreResult<Vec<Note>>> + Send;
    fn duplicate_candidates(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
    ) -> impl Future<Output = StoreResult<Vec<(ContactId, String)>>> + Send;
    fn list_conversations(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
        limit: u32,
        after: Option<Position>,
    ) -> impl Future<Output = StoreResult<(Vec<Conversation>, Option<Position>)>> + Send;
    fn list_messages(
        &self,
        ws: &WorkspaceId,
        conversation: &str,
        limit: u32,
        after: Option<Position>,
    ) -> impl Future<Output = StoreResult<(Vec<Message>, Option<Position>)>> + Send;
}

/// Where access requests are recorded.
pub trait AccessRequests: HistoryStore {
    fn save_access_request(
        &self,
        ws: &WorkspaceId,
        request: &AccessRequest,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn get_access_request(
        &self,
        ws: &WorkspaceId,
        id: &str,
    ) -> impl Future<Output = StoreResult<Option<AccessRequest>>> + Send;
}

/// Records an access request for contact `id`, `pending`, before anything is read
/// (`NotFound` when there is no such contact).
pub async fn begin_access(
    store: &impl AccessRequests,
    ws: &WorkspaceId,
    id: ContactId,
    requested_by: &str,
) -> StoreResult<AccessRequest> {
    store.get_contact(ws, id).await?.ok_or(StoreError::NotFound)?;
    let request = AccessRequest::new(id, requested_by, Utc::now().trunc_subsecs(0));
    store.save_access_request(ws, &request).await?;
    Ok(request)
}

/// What an erasure changes in the table (the purge is a deletion's, without a grace period).
pub trait ErasureStore: DeletionStore {
    fn find_subject(
        &self,
        ws: &WorkspaceId,
        subject: &Subject,
    ) -> impl Future<Output = StoreResult<Option<Contact>>> + Send;
    /// The survivor a merged-away contact went into.
    fn merged_into(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
    ) -> impl Future<Output = StoreResult<Option<ContactId>>> + Send;
    /// The contacts merged into `survivor`, as they were before their merge.
    fn merged_into_survivor(
        &self,
        ws: &WorkspaceId,
        survivor: ContactId,
    ) -> impl Future<Output = StoreResult<Vec<Contact>>> + Send;
    fn all_exports(&self, ws: &WorkspaceId) -> impl Future<Output = StoreResult<Vec<Export>>> + Send;
    fn delete_export(&self, ws: &WorkspaceId, id: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Keeps the salted hashes of `identities`, then the receipt.
    fn record_erasure(
        &self,
        ws: &WorkspaceId,
        receipt: &ErasureReceipt,
        identities: &[String],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Keeps the receipt as it is now.
    fn save_erasure(&self, ws: &WorkspaceId, receipt: &ErasureReceipt) -> impl Future<Output = StoreResult<()>> + Send;
}

/// The files of exports (object storage).
pub trait ExportFiles: Sync {
    /// Deletes a finished file, or aborts an upload still in parts.
    fn delete_file(&self, export: &Export) -> impl Future<Output = Result<(), FileError>> + Send;
    /// Deletes the contact's access document, kept when it was too large to answer with.
    fn delete_access_document(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
    ) -> impl Future<Output = Result<(), FileError>> + Send;
}

#[derive(Debug, thiserror::Error)]
#[error("export file not deleted: {0}")]
pub struct FileError(pub String);

#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// Nothing is recorded as erased yet: the request can be repeated.
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts erasing a person: finds their contact, then records the salted hashes of every
/// identity they can be recognized by (from now on capture keeps them opted out) and a
/// `pending` receipt, before anything is deleted. [`continue_erasure`] does the rest.
pub async fn begin_erasure(
    store: &impl ErasureStore,
    ws: &WorkspaceId,
    subject: &Subject,
    requested_by: &str,
) -> Result<ErasureReceipt, EraseError> {
    let contact = match store.find_subject(ws, subject).await? {
        Some(c) => Some(c),
        // A merged-away contact's data now lives in its survivor: the person is erased there.
        None => match subject {
            Subject::Contact(id) => survivor_of(store, ws, *id).await?,
            _ => None,
        },
    };
    let now = Utc::now().trunc_subsecs(0);
    let mut identities: Vec<String> = Vec::new();
    if let Some(contact) = &contact {
        // The person is the contact and every contact merged into it.
        identities.extend(identities_of(contact));
        for merged in store.merged_into_survivor(ws, contact.id).await? {
            identities.extend(identities_of(&merged));
        }
    }
    // The named identity is suppressed even when no contact holds it (yet).
    identities.extend(subject_identity(subject));
    identities.sort();
    identities.dedup();
    let receipt = ErasureReceipt {
        id: crate::domain::time_ordered_id("er", now, 4),
        erased_at: now,
        status: ErasureStatus::Pending,
        completed_at: None,
        requested_by_kind: subject.kind().to_string(),
        contact_id: contact.as_ref().map(|c| c.id.0),
        conversations_removed: 0,
        items_removed: 0,
        exports_deleted: 0,
        identities_suppressed: identities.len() as u32,
        requested_by: requested_by.to_string(),
    };
    store.record_erasure(ws, &receipt, &identities).await?;
    Ok(receipt)
}

/// Goes on with an erasure until it is done or `stop_at` passes: the exports that may hold
/// the person, then the purge (hidden at once, then removed a conversation at a time).
/// The receipt as kept: still `pending` when time ran out, and then this is called again.
/// Safe to repeat after a failure.
pub async fn continue_erasure(
    store: &impl ErasureStore,
    files: &impl ExportFiles,
    ws: &WorkspaceId,
    mut receipt: ErasureReceipt,
    stop_at: DateTime<Utc>,
) -> Result<ErasureReceipt, EraseError> {
    if receipt.status == ErasureStatus::Done {
        return Ok(receipt);
    }
    let contact = match receipt.contact_id {
        Some(id) => store.find_subject(ws, &Subject::Contact(ContactId(id))).await?,
        None => None,
    };
    if let Some(contact) = contact {
        // An export made before a merge holds the merged-away contact as it was then. The
        // purge removes the merge tombstones last, so a run cut short still finds them.
        let mut held = vec![contact.clone()];
        held.extend(store.merged_into_survivor(ws, contact.id).await?);
        // Exports first: the contacts' snapshots decide which files may hold them.
        for export in store.all_exports(ws).await?.iter().filter(|e| held.iter().any(|c| e.may_contain(c))) {
            // The file, then the record, then the file again: a failure before the record
            // is gone leaves it to be found by the next run, and a worker still writing sees
            // the record gone and drops its upload, or finished it just before the last delete.
            files.delete_file(export).await?;
            store.delete_export(ws, &export.id).await?;
            files.delete_file(export).await?;
            receipt.exports_deleted += 1;
        }
        for held in &held {
            files.delete_access_document(ws, held.id).await?;
        }
        match store.purge_contact_until(ws, contact.id, stop_at).await {
            Ok(report) => {
                receipt.conversations_removed += report.conversations;
                receipt.items_removed += report.items;
                if report.cut_short {
                    store.save_erasure(ws, &receipt).await?;
                    return Ok(receipt);
                }
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    receipt.status = ErasureStatus::Done;
    receipt.completed_at = Some(Utc::now().trunc_subsecs(0));
    store.save_erasure(ws, &receipt).await?;
    tracing::info!(workspace = %ws, receipt = %receipt.id, contact = ?receipt.contact_id, exports = receipt.exports_deleted, requested_by = %receipt.requested_by, "erasure done");
    Ok(receipt)
}

/// Merges are chains at most this long (a contact merged into one merged into another …).
const MAX_MERGE_HOPS: usize = 16;

/// The visible contact a merged-away contact ended in, following merge after merge.
async fn survivor_of(store: &impl ErasureStore, ws: &WorkspaceId, id: ContactId) -> StoreResult<Option<Contact>> {
    let mut current = id;
    for _ in 0..MAX_MERGE_HOPS {
        let Some(next) = store.merged_into(ws, current).await? else { return Ok(None) };
        if let Some(contact) = store.find_subject(ws, &Subject::Contact(next)).await? {
            return Ok(Some(contact));
        }
        current = next;
    }
    Ok(None)
}

/// The identity a subject names, spelled the way contacts spell theirs.
fn subject_identity(subject: &Subject) -> Option<String> {
    let mut holder = NewContact::on(Channel::Frame);
    match subject {
        Subject::Contact(_) => return None,
        Subject::Email(e) => holder.email = Some(e.clone()),
        Subject::Phone(p) => holder.phone = Some(p.clone()),
        Subject::Identity(c, id) => holder.identity = Some(Identity::new(*c, id.clone())),
    }
    identities_of(&holder.into_contact(ContactId(1), Utc::now())).pop()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Email;
    use crate::usecases::memory::{MemoryFiles, MemoryStore};

    /// The whole erasure in one go.
    async fn erase(
        store: &MemoryStore,
        files: &MemoryFiles,
        ws: &WorkspaceId,
        subject: &Subject,
        requested_by: &str,
    ) -> Result<ErasureReceipt, EraseError> {
        let receipt = begin_erasure(store, ws, subject, requested_by).await?;
        continue_erasure(store, files, ws, receipt, Utc::now() + chrono::Duration::minutes(1)).await
    }

    #[tokio::test]
    async fn erasure_purges_the_contact_and_suppresses_the_named_identity() {
        let store = MemoryStore::default();
        let ws = WorkspaceId::parse("acme").unwrap();
        let mut new = NewContact::on(Channel::Frame);
        new.email = Some(Email::parse("ada@example.com").unwrap());
        let contact = store.seed(&ws, new);
        let subject = Subject::Email(Email::parse("ada@example.com").unwrap());
        let receipt = erase(&store, &MemoryFiles::default(), &ws, &subject, "ops").await.unwrap();
        assert_eq!(receipt.contact_id, Some(contact.id.0));
        assert_eq!(receipt.status, ErasureStatus::Done);
        assert_eq!(store.erasure(&ws, &receipt.id), Some(receipt.clone()), "the receipt is kept as answered");
        assert!(store.contacts(&ws).is_empty());
        assert_eq!(store.suppressed(&ws), vec!["email:ada@example.com".to_string()]);
        let nobody = Subject::Email(Email::parse("nobody@example.com").unwrap());
        let receipt = erase(&store, &MemoryFiles::default(), &ws, &nobody, "ops").await.unwrap();
        assert_eq!((receipt.contact_id, receipt.identities_suppressed), (None, 1));
    }

    #[tokio::test]
    async fn erasing_a_merged_away_contact_erases_the_person_in_its_survivor() {
        use crate::usecases::merge::merge;
        use crate::workspace::Workspace;
        let store = MemoryStore::default();
        let ws = Workspace::with_defaults(WorkspaceId::parse("acme").unwrap());
        let mut a = NewContact::on(Channel::Telegram);
        a.email = Some(Email::parse("a@example.com").unwrap());
        let survivor = store.seed(&ws.id, a);
        let mut b = NewContact::on(Channel::Frame);
        b.email = Some(Email::parse("b@example.com").unwrap());
        let merged_away = store.seed(&ws.id, b);
        merge(&store, &ws, survivor.id, merged_away.id, &Default::default(), false).await.unwrap();
        let receipt =
            erase(&store, &MemoryFiles::default(), &ws.id, &Subject::Contact(merged_away.id), "ops").await.unwrap();
        assert_eq!(receipt.contact_id, Some(survivor.id.0), "the person lives on in the survivor");
        assert!(store.contacts(&ws.id).is_empty());
        let suppressed = store.suppressed(&ws.id);
        assert!(suppressed.contains(&"email:a@example.com".to_string()), "{suppressed:?}");
        assert!(suppressed.contains(&"email:b@example.com".to_string()), "{suppressed:?}");
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_deleted_stops_the_erasure_before_its_purge_with_the_receipt_pending() {
        let store = MemoryStore::default();
        let ws = WorkspaceId::parse("acme").unwrap();
        let mut new = NewContact::on(Channel::Frame);
        new.email = Some(Email::parse("ada@example.com").unwrap());
        let contact = store.seed(&ws, new);
        store.seed_export(&ws);
        let pending = begin_erasure(&store, &ws, &Subject::Contact(contact.id), "ops").await.unwrap();
        let far = Utc::now() + chrono::Duration::minutes(1);
        let result = continue_erasure(&store, &MemoryFiles::failing(), &ws, pending.clone(), far).await;
        assert!(matches!(result, Err(EraseError::File(_))));
        assert_eq!(store.suppressed(&ws), vec!["email:ada@example.com".to_string()], "opted out from the start");
        assert_eq!(store.erasure(&ws, &pending.id).map(|r| r.status), Some(ErasureStatus::Pending));
        assert_eq!(store.contacts(&ws).len(), 1, "nothing purged before the files are gone");
        let done = continue_erasure(&store, &MemoryFiles::default(), &ws, pending, far).await.unwrap();
        assert_eq!((done.status, done.exports_deleted), (ErasureStatus::Done, 1));
        assert!(store.contacts(&ws).is_empty());
    }
}
