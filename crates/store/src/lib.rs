//! The DynamoDB single-table repository: the only code that talks to DynamoDB.
//! See docs/data-model.md for the key design.

pub mod keys;
pub mod meter;

mod analytics;
mod bots;
mod capture;
mod contacts;
mod conversations;
mod deletion;
mod duplicates;
mod exports;
mod gdpr;
mod merges;
mod notes;
mod retention;
mod segments;
mod sessions;
mod table;
mod workspaces;

use aws_sdk_dynamodb::Client;
use model::domain::ContactId;

/// Handle on the table; cheap to clone, built once per execution environment.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store { client, table: table.into() }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

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
    /// A merge that cannot be undone (window closed, already undone, survivor edited since).
    #[error("{0}")]
    MergeUndo(String),
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
    #[error("DynamoDB: {0}")]
    Aws(String),
}

impl StoreError {
    pub(crate) fn aws<E: std::error::Error + 'static>(e: E) -> Self {
        StoreError::Aws(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
