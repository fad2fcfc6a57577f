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
    /// Bill writes and filtered queries from the items they touch, read for the meter
    /// (see [`meter`]); on by default against a local emulator (`AWS_ENDPOINT_URL` set).
    bill_from_items: bool,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let bill_from_items = std::env::var_os("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty());
        Store { client, table: table.into(), bill_from_items }
    }

    /// Whether the meter reads the old and new images of written items (and the items a
    /// filter dropped) to bill them exactly. Those reads cost a real table about as much
    /// as the writes, so this is for the emulator and benchmarks, not for AWS.
    pub fn billing_from_items(mut self, on: bool) -> Self {
        self.bill_from_items = on;
        self
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
