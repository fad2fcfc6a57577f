//! The DynamoDB single-table repository: the only code that talks to DynamoDB.
//! See docs/data-model.md for the key design.

pub mod keys;
pub mod meter;

mod analytics;
mod bots;
mod bulk;
mod capture;
mod contacts;
mod conversations;
mod deletion;
mod duplicates;
mod exports;
mod gdpr;
mod merges;
mod notes;
mod ports;
mod retention;
mod segments;
mod sessions;
mod table;
mod workspaces;

use aws_sdk_dynamodb::Client;

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

pub use model::ports::{StoreError, StoreResult};

/// An AWS SDK error, with its whole chain of causes.
pub(crate) fn aws_error<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
}
