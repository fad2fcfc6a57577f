//! Workspace API keys: generated once, shown once, stored only as a hash.

use crate::domain::{InvalidValue, WorkspaceId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    /// Workspace administration: retention runs, policies, erasure.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

impl FromStr for Scope {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| InvalidValue::new(format!("`{s}` is not a scope: expected read, write or admin")))
    }
}

/// A secret API key. Its `Debug` and `Display` never show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    const PREFIX: &'static str = "abc_";

    /// A new random key: `abc_` and 40 hex digits (160 bits).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 20];
        getrandom::fill(&mut bytes).expect("the OS has a random source");
        ApiKey(format!("{}{}", Self::PREFIX, crate::hex::encode(&bytes)))
    }

    /// Wraps a key given by an operator (e.g. `DEV_API_KEY`); at least 20 visible characters.
    pub fn from_secret(secret: &str) -> Result<Self, InvalidValue> {
        if secret.len() < 20 || !secret.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InvalidValue::new("an API key needs at least 20 visible ASCII characters"));
        }
        Ok(ApiKey(secret.to_string()))
    }

    /// The stored form. Keys are long random strings, so one SHA-256 pass is enough.
    pub fn hash(&self) -> String {
        key_hash(&self.0)
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

/// The stored form of a presented bearer token.
pub fn key_hash(secret: &str) -> String {
    crate::hex::encode(&Sha256::digest(secret.as_bytes()))
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(redacted)")
    }
}

/// What the store keeps about a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub workspace_id: WorkspaceId,
    /// Shown as the author of notes and in logs instead of the key.
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl ApiKeyRecord {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_distinct_and_never_printed() {
        let a = ApiKey::generate();
        assert_ne!(a, ApiKey::generate());
        assert!(a.expose_secret().starts_with("abc_") && a.expose_secret().len() == 44);
        assert_eq!(format!("{a:?}"), "ApiKey(redacted)");
        assert!(!format!("{a:?}").contains(a.expose_secret()));
    }

    #[test]
    fn hashes_are_stable_sha256() {
        let k = ApiKey::from_secret("abc_dev_local_demo_key_0000").unwrap();
        assert_eq!(k.hash(), key_hash("abc_dev_local_demo_key_0000"));
        assert_eq!(k.hash().len(), 64);
        assert!(ApiKey::from_secret("short").is_err());
    }
}
