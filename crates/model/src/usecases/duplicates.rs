//! The workspace's review of possible duplicates: every pair capture recorded (the same
//! email or phone offered for two contacts), newest first, each to merge or to dismiss.
//! A dismissal sticks: capture does not record the pair again, and neither the review nor
//! a contact's own duplicates propose it again.

use crate::contact::Contact;
use crate::domain::{ContactId, WorkspaceId};
use crate::listing::Position;
use crate::ports::{StoreError, StoreResult};
use crate::usecases::contacts::ContactStore;
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::HashMap;
use std::future::Future;

/// Two contacts recorded as possibly the same person. `contact` is the lower id.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicatePair {
    pub contact: ContactId,
    pub other: ContactId,
    /// Why, e.g. `same email`, `same phone`: each kind of evidence once.
    pub reasons: Vec<String>,
    /// When capture first recorded the pair.
    pub recorded_at: DateTime<Utc>,
}

/// What is known of a pair of contacts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PairState {
    Recorded,
    /// A person said they are not the same person.
    Dismissed {
        at: DateTime<Utc>,
    },
}

/// A pair as the review shows it: both contacts as they are now.
#[derive(Debug, Clone)]
pub struct ReviewedPair {
    pub pair: DuplicatePair,
    pub contact: Contact,
    pub other: Contact,
}

#[derive(Debug, Clone)]
pub struct ReviewPage {
    pub pairs: Vec<ReviewedPair>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<Position>,
}

/// What the review needs from the store.
pub trait DuplicateStore: ContactStore {
    /// The workspace's recorded pairs (not dismissed), newest first, `limit` from `after`.
    fn duplicate_pairs(
        &self,
        ws: &WorkspaceId,
        limit: u32,
        after: Option<Position>,
    ) -> impl Future<Output = StoreResult<(Vec<DuplicatePair>, Option<Position>)>> + Send;
    /// These contacts as last written, without their live state (what a list row shows),
    /// eventually consistent; missing ones are left out.
    fn profiles_by_id(
        &self,
        ws: &WorkspaceId,
        ids: &[ContactId],
    ) -> impl Future<Output = StoreResult<Vec<Contact>>> + Send;
    /// What is recorded of the pair, `None` when nothing is.
    fn duplicate_pair(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
    ) -> impl Future<Output = StoreResult<Option<PairState>>> + Send;
    /// Marks a recorded pair dismissed on both contacts and takes it out of the review;
    /// `NotFound` when the pair's records are gone (a purge or a merge meanwhile).
    fn dismiss_duplicate_pair(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// A page of the review. Pairs one of whose contacts is no longer visible (deleted and
/// waiting for its purge) are left out, so a page can be shorter than `limit`.
pub async fn review(
    store: &impl DuplicateStore,
    ws: &WorkspaceId,
    limit: u32,
    after: Option<Position>,
) -> StoreResult<ReviewPage> {
    let (pairs, next) = store.duplicate_pairs(ws, limit, after).await?;
    let mut ids: Vec<ContactId> = pairs.iter().flat_map(|p| [p.contact, p.other]).collect();
    ids.sort();
    ids.dedup();
    let contacts: HashMap<ContactId, Contact> = if ids.is_empty() {
        HashMap::new()
    } else {
        store.profiles_by_id(ws, &ids).await?.into_iter().filter(Contact::is_visible).map(|c| (c.id, c)).collect()
    };
    let pairs = pairs
        .into_iter()
        .filter_map(|pair| {
            let contact = contacts.get(&pair.contact)?.clone();
            let other = contacts.get(&pair.other)?.clone();
            Some(ReviewedPair { pair, contact, other })
        })
        .collect();
    Ok(ReviewPage { pairs, next })
}

#[derive(Debug, thiserror::Error)]
pub enum DismissError {
    #[error("a contact cannot be a duplicate of itself")]
    Itself,
    #[error("there is no contact {0} in this workspace")]
    Missing(ContactId),
    #[error("contact {0} is deleted; restore it first")]
    Hidden(ContactId),
    #[error("contacts {0} and {1} are not recorded as possible duplicates")]
    NotRecorded(ContactId, ContactId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Says that two contacts are not the same person. Dismissing a dismissed pair again
/// changes nothing and answers when it was dismissed.
pub async fn dismiss(
    store: &impl DuplicateStore,
    ws: &WorkspaceId,
    contact: ContactId,
    other: ContactId,
) -> Result<DateTime<Utc>, DismissError> {
    if contact == other {
        return Err(DismissError::Itself);
    }
    for id in [contact, other] {
        match store.get_contact(ws, id).await? {
            Some(c) if c.is_visible() => {}
            Some(_) => return Err(DismissError::Hidden(id)),
            None => return Err(DismissError::Missing(id)),
        }
    }
    match store.duplicate_pair(ws, contact, other).await? {
        None => Err(DismissError::NotRecorded(contact, other)),
        Some(PairState::Dismissed { at }) => Ok(at),
        Some(PairState::Recorded) => {
            let at = Utc::now().trunc_subsecs(0);
            store.dismiss_duplicate_pair(ws, contact, other, at).await.map_err(|e| match e {
                StoreError::NotFound => DismissError::NotRecorded(contact, other),
                other => other.into(),
            })?;
            tracing::info!(workspace = %ws, contact = %contact, other = %other, "possible duplicates dismissed");
            Ok(at)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, Email};
    use crate::new_contact::NewContact;
    use crate::usecases::contacts::DeletionStore;
    use crate::usecases::memory::MemoryStore;
    use chrono::Duration;

    fn ws() -> WorkspaceId {
        WorkspaceId::parse("acme").unwrap()
    }

    fn person(store: &MemoryStore, email: &str) -> Contact {
        let mut new = NewContact::on(Channel::Frame);
        new.email = Some(Email::parse(email).unwrap());
        store.seed(&ws(), new)
    }

    #[tokio::test]
    async fn the_review_shows_recorded_pairs_newest_first_and_forgets_dismissed_ones() {
        let store = MemoryStore::default();
        let [a, b, c] = ["a@x.dev", "b@x.dev", "c@x.dev"].map(|e| person(&store, e).id);
        let now = Utc::now();
        store.record_pair(&ws(), a, b, "same email", now - Duration::minutes(5));
        store.record_pair(&ws(), c, a, "same phone", now);

        let page = review(&store, &ws(), 10, None).await.unwrap();
        let shown: Vec<_> = page.pairs.iter().map(|p| (p.pair.contact, p.pair.other)).collect();
        assert_eq!(shown, [(a, c), (a, b)]);
        assert_eq!(page.pairs[0].other.id, c);
        assert_eq!(page.pairs[0].pair.reasons, ["same phone"]);

        let at = dismiss(&store, &ws(), c, a).await.unwrap();
        assert_eq!(dismiss(&store, &ws(), a, c).await.unwrap(), at, "dismissing again changes nothing");
        let page = review(&store, &ws(), 10, None).await.unwrap();
        assert_eq!(page.pairs.iter().map(|p| p.pair.other).collect::<Vec<_>>(), [b]);
        assert_eq!(store.duplicate_pair(&ws(), a, c).await.unwrap(), Some(PairState::Dismissed { at }));
    }

    #[tokio::test]
    async fn the_review_leaves_out_pairs_with_a_deleted_contact() {
        let store = MemoryStore::default();
        let [a, b] = ["a@x.dev", "b@x.dev"].map(|e| person(&store, e).id);
        store.record_pair(&ws(), a, b, "same email", Utc::now());
        store.soft_delete_contact(&ws(), b, None, Duration::days(30)).await.unwrap();
        assert!(review(&store, &ws(), 10, None).await.unwrap().pairs.is_empty());
        assert!(matches!(dismiss(&store, &ws(), a, b).await, Err(DismissError::Hidden(id)) if id == b));
    }

    #[tokio::test]
    async fn only_recorded_pairs_of_two_contacts_can_be_dismissed() {
        let store = MemoryStore::default();
        let [a, b] = ["a@x.dev", "b@x.dev"].map(|e| person(&store, e).id);
        assert!(matches!(dismiss(&store, &ws(), a, a).await, Err(DismissError::Itself)));
        assert!(matches!(dismiss(&store, &ws(), a, ContactId(999)).await, Err(DismissError::Missing(ContactId(999)))));
        assert!(matches!(dismiss(&store, &ws(), a, b).await, Err(DismissError::NotRecorded(x, y)) if x == a && y == b));
    }
}
