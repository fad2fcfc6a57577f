//! Dashboard sessions: who signed in, with which key, until when.

use crate::domain::WorkspaceId;
use chrono::{DateTime, Utc};

/// What a session remembers: who signed in, with which key, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSession {
    pub workspace_id: WorkspaceId,
    /// The hash of the API key used to sign in; each request checks that the key still exists.
    pub api_key_hash: String,
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
