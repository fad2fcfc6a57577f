//! The DynamoDB single-table repository: the only code that talks to DynamoDB.
//! See docs/data-model.md for the key design.

pub mod keys;
pub mod meter;

mod analytics;
mod api_keys;
mod audit;
mod bots;
mod bulk;
mod capture;
mod changes;
mod contacts;
mod conversations;
mod deletion;
mod duplicates;
mod exports;
mod gdpr;
mod id_blocks;
mod imports;
mod integrations;
mod jobs;
mod links;
mod live;
mod merges;
mod notes;
mod people;
mod ports;
mod retention;
mod sealed;
mod segments;
mod sessions;
mod settings_cache;
mod table;
mod tally;
mod workspaces;

pub use analytics::ReageCursor;
pub use api_keys::KeyInfo;
pub use changes::{ChangeNote, FeedEntry, TOMBSTONE_DAYS};
pub use integrations::StoredIntegration;
pub use jobs::JobPage;
pub use links::LinkChanges;
pub use notes::NoteAdded;
pub use sealed::{Secrets, SecretsKey};
pub use tally::{Change, Tally};

use aws_sdk_dynamodb::Client;

/// Handle on the table; cheap to clone, built once per execution environment.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    /// Bill writes and filtered queries from the items they touch, read for the meter
    /// (see [`meter`]); on by default against a local emulator (`AWS_ENDPOINT_URL` set).
    bill_from_items: bool,
    /// Contact ids reserved by this execution environment, per workspace.
    id_blocks: id_blocks::IdBlocks,
    /// Workspace settings as capture reads them; none unless [`Store::caching_settings`].
    settings: Option<settings_cache::SettingsCache>,
    /// Seals and opens bots' channel secrets and integrations' credentials; none unless
    /// [`Store::sealing_secrets`].
    secrets: Option<Secrets>,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let bill_from_items = std::env::var_os("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty());
        Store {
            client,
            table: table.into(),
            bill_from_items,
            id_blocks: Default::default(),
            settings: None,
            secrets: None,
        }
    }

    /// Seals bots' channel secrets and integrations' credentials with `secrets` when it
    /// writes them and opens them when it reads them. Without it, writing either is refused
    /// and a sealed one does not read.
    pub fn sealing_secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Keeps the workspace settings capture reads for `ttl`: a change of region or lead
    /// rules then reaches captured events within that time.
    pub fn caching_settings(mut self, ttl: std::time::Duration) -> Self {
        self.settings = Some(settings_cache::SettingsCache::new(ttl));
        self
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

/// DynamoDB's and KMS's answers to too many requests, and their server-side faults: worth
/// a retry later.
const TRANSIENT_CODES: [&str; 8] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "KMSInternalException",
    "DependencyTimeoutException",
    "KeyUnavailableException",
];

/// An AWS SDK error (DynamoDB's or KMS's), with its whole chain of causes: `Unavailable` when a retry may succeed
/// (throttling, a fault, no answer at all), `Refused` otherwise.
pub(crate) fn aws_error<E>(e: E) -> StoreError
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
{
    let transient = e.code().is_none_or(|code| TRANSIENT_CODES.contains(&code));
    let text = aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string();
    if transient {
        StoreError::Unavailable(text)
    } else {
        StoreError::Refused(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_sdk_dynamodb::types::error::ProvisionedThroughputExceededException;

    fn coded(code: &str) -> GetItemError {
        GetItemError::generic(ErrorMetadata::builder().code(code).message("…").build())
    }

    #[test]
    fn throttling_is_unavailable_and_a_bad_request_is_refused() {
        let exceeded = GetItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder().message("slow down").build(),
        );
        assert!(matches!(aws_error(exceeded), StoreError::Unavailable(_)));
        for code in ["ThrottlingException", "RequestLimitExceeded", "InternalServerError"] {
            assert!(matches!(aws_error(coded(code)), StoreError::Unavailable(_)), "{code}");
        }
        assert!(matches!(aws_error(coded("ValidationException")), StoreError::Refused(_)));
        assert!(matches!(aws_error(coded("AccessDeniedException")), StoreError::Refused(_)));
    }
}
