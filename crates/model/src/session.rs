//! Dashboard sessions: who signed in, until when.

use crate::domain::WorkspaceId;
use crate::people::UserId;
use chrono::{DateTime, Utc};

/// Who a session is for. Each request checks that they still may sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedIn {
    /// A person, at the session epoch of their sign-in: a password or role change since
    /// (which raises the epoch), or their removal, ends the session.
    Person { user: UserId, epoch: u32 },
    /// Whoever holds an API key (its hash): revoking the key ends the session.
    Key { hash: String },
}

/// What a session remembers: who signed in, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSession {
    pub workspace_id: WorkspaceId,
    pub signed_in: SignedIn,
    pub created_at: DateTime<Utc>,
    /// The last request seen (to within a minute): the session ends when idle too long.
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The stored form of a session secret. Session secrets are 256 random bits, so a plain
/// SHA-256 is enough: unlike API keys, which may be weak, they cannot be guessed offline.
pub fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::hex::encode(&Sha256::digest(secret.as_bytes()))
}
