//! Contacts created, edited and deleted by people (the API and the dashboard). Lead
//! status and score follow the workspace's own lead rules.

use crate::contact::{Contact, ContactPatch, ListedContact};
use crate::domain::{ContactId, WorkspaceId};
use crate::lead;
use crate::listing::{ContactPage, CursorKey, ListRequest};
use crate::new_contact::NewContact;
use crate::ports::{StoreError, StoreResult};
use crate::workspace::Workspace;
use chrono::{DateTime, Duration, Utc};
use std::future::Future;

/// Reads and writes of whole contacts. `replace_contact` writes `next` only while the
/// stored contact is still at `current.version` (else `VersionMismatch`), with every
/// guard, index entry and counter that goes with it, all or nothing.
pub trait ContactStore: Sync {
    fn get_contact(&self, ws: &WorkspaceId, id: ContactId)
        -> impl Future<Output = StoreResult<Option<Contact>>> + Send;
    fn allocate_contact_id(&self, ws: &WorkspaceId) -> impl Future<Output = StoreResult<ContactId>> + Send;
    /// Writes a new contact; `Taken` when its email, phone or identity has an owner.
    fn insert_contact(&self, ws: &WorkspaceId, contact: &Contact) -> impl Future<Output = StoreResult<()>> + Send;
    fn replace_contact(
        &self,
        ws: &WorkspaceId,
        current: &Contact,
        next: &Contact,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// The filtered list: one Query on a key built for the filter (docs/data-model.md).
pub trait ContactList: Sync {
    fn list_contacts(
        &self,
        ws: &WorkspaceId,
        request: &ListRequest,
    ) -> impl Future<Output = StoreResult<ContactPage>> + Send;
}

/// One page of the list, with the cursor to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedPage {
    pub contacts: Vec<ListedContact>,
    /// Exact when the filter has a counter of its own (none, a channel, a status, a tag).
    pub total: Option<u64>,
    pub next_cursor: Option<String>,
}

/// A page of contacts for a validated list request (API, dashboard and segments), with
/// the next page's cursor sealed by `cursors`.
pub async fn list(
    store: &impl ContactList,
    ws: &WorkspaceId,
    request: &ListRequest,
    cursors: &CursorKey,
) -> StoreResult<ListedPage> {
    let page = store.list_contacts(ws, request).await?;
    Ok(ListedPage {
        contacts: page.contacts,
        total: page.total,
        next_cursor: page.next_position.map(|p| request.next_cursor(ws, p, cursors)),
    })
}

/// Deletion needs to know what is still going on, and to hide or purge.
pub trait DeletionStore: ContactStore {
    /// The ids of the contact's conversations that are still open.
    fn active_conversations(
        &self,
        ws: &WorkspaceId,
        contact: &Contact,
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
    fn soft_delete_contact(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
        if_match: Option<u64>,
        grace: Duration,
    ) -> impl Future<Output = StoreResult<Contact>> + Send;
    /// Purges the contact, stopping at `stop_at` with what is left for the purge job.
    fn purge_contact_until(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
        stop_at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<crate::contact::PurgeReport>> + Send;
}

/// Edits retry a lost race this many times when the caller named no version.
const MAX_EDIT_ATTEMPTS: u32 = 3;

/// A contact added by a person or an integration.
pub async fn create(store: &impl ContactStore, workspace: &Workspace, new: NewContact) -> StoreResult<Contact> {
    let id = store.allocate_contact_id(&workspace.id).await?;
    let now = Utc::now();
    let mut contact = new.into_contact(id, now);
    lead::refresh(&mut contact, now, workspace.lead_rules.policy);
    store.insert_contact(&workspace.id, &contact).await?;
    Ok(contact)
}

/// Applies a person's edit. With `if_match`, refuses when the contact changed since that
/// version; without, re-reads and retries a lost race, so no concurrent edit is lost.
pub async fn edit(
    store: &impl ContactStore,
    workspace: &Workspace,
    id: ContactId,
    patch: ContactPatch,
    if_match: Option<u64>,
) -> StoreResult<Contact> {
    let ws = &workspace.id;
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let current = store.get_contact(ws, id).await?.filter(Contact::is_visible).ok_or(StoreError::NotFound)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(StoreError::VersionMismatch { current: current.version });
        }
        let mut next = patch.clone().apply_to(&current);
        lead::refresh(&mut next, Utc::now(), workspace.lead_rules.policy);
        match store.replace_contact(ws, &current, &next).await {
            Err(StoreError::VersionMismatch { .. }) if if_match.is_none() => continue,
            Err(StoreError::VersionMismatch { .. }) => return Err(current_version(store, ws, id).await),
            other => return other.map(|()| next),
        }
    }
    Err(StoreError::Contended)
}

/// The error for a lost race: the version now stored, or not found.
async fn current_version(store: &impl ContactStore, ws: &WorkspaceId, id: ContactId) -> StoreError {
    match store.get_contact(ws, id).await {
        Ok(Some(c)) => StoreError::VersionMismatch { current: c.version },
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// A conversation is still going on: deleting now would lose what it says next.
    #[error("contact {id} has {} active conversation(s)", conversations.len())]
    Active { id: ContactId, conversations: Vec<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Deletes a contact: hidden and restorable for the workspace's grace period, or purged at
/// once when the period is 0. Refused while one of its conversations is active.
/// Deletes a contact: hidden for the workspace's grace period, or, without one, purged at
/// once until `stop_at`; what a long history leaves then, the purge job removes (the
/// contact is hidden with its purge due now).
pub async fn delete(
    store: &impl DeletionStore,
    workspace: &Workspace,
    id: ContactId,
    if_match: Option<u64>,
    stop_at: DateTime<Utc>,
) -> Result<Contact, DeleteError> {
    let ws = &workspace.id;
    let contact = store.get_contact(ws, id).await?.filter(Contact::is_visible).ok_or(StoreError::NotFound)?;
    let conversations = store.active_conversations(ws, &contact).await?;
    if !conversations.is_empty() {
        return Err(DeleteError::Active { id, conversations });
    }
    let grace = Duration::days(workspace.deletion_grace_days.into());
    // Hidden first, under the If-Match condition; then purged when there is no grace period.
    let hidden = store.soft_delete_contact(ws, id, if_match, grace).await?;
    if workspace.deletion_grace_days == 0 {
        store.purge_contact_until(ws, id, stop_at).await?;
    }
    Ok(hidden)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::Change;
    use crate::domain::{Channel, Email, LeadStatus, Name};
    use crate::lead::LeadRules;
    use crate::usecases::memory::MemoryStore;

    /// A deadline no test reaches.
    fn far() -> DateTime<Utc> {
        Utc::now() + Duration::minutes(1)
    }

    fn workspace(grace_days: u32) -> Workspace {
        Workspace {
            id: WorkspaceId::parse("acme").unwrap(),
            name: "Acme".into(),
            default_region: None,
            deletion_grace_days: grace_days,
            lead_rules: LeadRules::default(),
            time_zone: chrono_tz::Tz::UTC,
        }
    }

    fn with_email(email: &str) -> NewContact {
        let mut new = NewContact::on(Channel::Frame);
        new.email = Some(Email::parse(email).unwrap());
        new
    }

    #[tokio::test]
    async fn creates_contacts_with_their_own_ids_and_refuses_a_taken_email() {
        let (store, ws) = (MemoryStore::default(), workspace(30));
        let a = create(&store, &ws, with_email("a@example.com")).await.unwrap();
        let b = create(&store, &ws, with_email("b@example.com")).await.unwrap();
        assert_ne!(a.id, b.id);
        match create(&store, &ws, with_email("A@example.com")).await {
            Err(StoreError::Taken { field: "email", owner }) => assert_eq!(owner, a.id),
            other => panic!("expected the email to be taken, got {other:?}"),
        }
        assert_eq!(store.contacts(&ws.id).len(), 2);
    }

    #[tokio::test]
    async fn creation_and_edits_follow_the_workspace_lead_policy() {
        let (store, mut ws) = (MemoryStore::default(), workspace(30));
        // Idle for 10 days: past the default follow-up threshold (7), not this workspace's (30).
        ws.lead_rules.policy.follow_up_after_days = 30;
        let mut new = NewContact::on(Channel::Frame);
        new.created_at = Some(Utc::now() - Duration::days(10));
        let contact = create(&store, &ws, new).await.unwrap();
        assert_eq!(contact.status, LeadStatus::New);
        let patch = ContactPatch { name: Change::Set(Name::parse("Ada").unwrap()), ..Default::default() };
        let edited = edit(&store, &ws, contact.id, patch, Some(contact.version)).await.unwrap();
        assert_eq!(edited.status, LeadStatus::New, "the edit used the workspace's policy, not the default");
        assert_eq!(edited.version, contact.version + 1);
        ws.lead_rules.policy.follow_up_after_days = 7;
        let edited = edit(&store, &ws, contact.id, ContactPatch::default(), None).await.unwrap();
        assert_eq!(edited.status, LeadStatus::FollowUp);
    }

    #[tokio::test]
    async fn a_list_page_carries_the_cursor_to_the_next() {
        let (store, ws) = (MemoryStore::default(), workspace(30));
        for _ in 0..5 {
            create(&store, &ws, NewContact::on(Channel::Frame)).await.unwrap();
        }
        let params = |extra: &[(&str, &str)]| {
            let mut p = vec![("per_page".to_string(), "3".to_string()), ("channel".into(), "frame".into())];
            p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            p
        };
        let cursors = CursorKey::new(b"a test key, not a secret");
        let first = ListRequest::parse(&ws.id, &params(&[]), Utc::now(), &cursors).unwrap();
        let page = list(&store, &ws.id, &first, &cursors).await.unwrap();
        assert_eq!(page.contacts.iter().map(|c| c.id.0).collect::<Vec<_>>(), [5, 4, 3]);
        let cursor = page.next_cursor.expect("a second page");
        let second = ListRequest::parse(&ws.id, &params(&[("cursor", &cursor)]), Utc::now(), &cursors).unwrap();
        let page = list(&store, &ws.id, &second, &cursors).await.unwrap();
        assert_eq!(page.contacts.iter().map(|c| c.id.0).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(page.next_cursor, None);
    }

    #[tokio::test]
    async fn a_stale_version_is_refused_with_the_current_one() {
        let (store, ws) = (MemoryStore::default(), workspace(30));
        let contact = create(&store, &ws, NewContact::on(Channel::Frame)).await.unwrap();
        let rename = |n: &str| ContactPatch { name: Change::Set(Name::parse(n).unwrap()), ..Default::default() };
        edit(&store, &ws, contact.id, rename("One"), Some(1)).await.unwrap();
        match edit(&store, &ws, contact.id, rename("Two"), Some(1)).await {
            Err(StoreError::VersionMismatch { current: 2 }) => {}
            other => panic!("expected a version mismatch, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn deletion_waits_for_active_conversations_and_purges_without_grace() {
        let store = MemoryStore::default();
        let ws = workspace(0);
        let contact = create(&store, &ws, with_email("gone@example.com")).await.unwrap();
        store.set_active_conversations(contact.id, vec!["cv1".into()]);
        assert!(matches!(delete(&store, &ws, contact.id, None, far()).await, Err(DeleteError::Active { .. })));
        store.set_active_conversations(contact.id, vec![]);
        delete(&store, &ws, contact.id, None, far()).await.unwrap();
        assert!(store.contacts(&ws.id).is_empty(), "no grace period: purged at once");
    }

    #[tokio::test]
    async fn deletion_with_grace_hides_and_keeps() {
        let (store, ws) = (MemoryStore::default(), workspace(30));
        let contact = create(&store, &ws, NewContact::on(Channel::Frame)).await.unwrap();
        let hidden = delete(&store, &ws, contact.id, Some(contact.version), far()).await.unwrap();
        assert!(!hidden.is_visible());
        assert!(hidden.purge_after.is_some());
        assert!(matches!(
            edit(&store, &ws, contact.id, ContactPatch::default(), None).await,
            Err(StoreError::NotFound)
        ));
    }
}
