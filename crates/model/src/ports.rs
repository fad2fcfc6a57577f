//! What the use cases need from persistence, and how it can fail. The DynamoDB store
//! (crate `store`) implements these; in-memory fakes implement them in unit tests.

use crate::domain::ContactId;

/// Why a store operation did not happen. Nothing was written when one is returned,
/// except where a variant says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The email, phone or channel identity belongs to another contact.
    #[error("{field} is already used by contact {owner}")]
    Taken { field: &'static str, owner: ContactId },
    /// `If-Match` named a version that is no longer current.
    #[error("the contact changed (now version {current})")]
    VersionMismatch { current: u64 },
    /// A cursor whose position does not fit the listing it was presented to.
    #[error("the cursor does not fit this listing")]
    BadCursor,
    /// The event was captured before (a channel retry or a redelivery).
    #[error("this event was already captured")]
    AlreadyCaptured,
    /// Kept failing on concurrent writes; safe to retry later.
    #[error("too many concurrent changes to the same items, try again")]
    Contended,
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
    /// The database is busy or could not be reached (throttling, a fault, a timeout):
    /// the same call may succeed shortly.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database refused the call for a reason a retry does not change (a malformed
    /// request, missing permissions, a missing table).
    #[error("the database refused the call: {0}")]
    Refused(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
