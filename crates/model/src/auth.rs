//! Workspace API keys: generated once, shown once, stored only as a peppered hash.

use crate::domain::{InvalidValue, WorkspaceId};
use hmac::Mac;
use serde::{Deserialize, Serialize};
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
    /// People and roles: inviting anyone, changing roles, removing people.
    Owner,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Admin, Scope::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
            Scope::Owner => "owner",
        }
    }
}

impl FromStr for Scope {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| InvalidValue::new(format!("`{s}` is not a scope: expected read, write, admin or owner")))
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

    /// The stored form, under the deployment's pepper.
    pub fn hash(&self, pepper: &KeyPepper) -> String {
        pepper.key_hash(&self.0)
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

/// The server-side secret API keys are hashed under (the stack parameter `KeyPepper`,
/// `KEY_PEPPER`). A leaked table alone then allows no offline guessing of weak keys (a
/// dev key, a key set by hand): each guess needs the pepper too. Changing it makes every
/// stored key unusable, so keys are re-issued with it. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct KeyPepper(Vec<u8>);

impl KeyPepper {
    pub const MIN_LEN: usize = 32;

    /// At least 32 bytes (e.g. `openssl rand -hex 32`).
    pub fn new(secret: &str) -> Result<Self, InvalidValue> {
        if secret.len() < Self::MIN_LEN {
            return Err(InvalidValue::new("a key pepper needs at least 32 characters"));
        }
        Ok(KeyPepper(secret.as_bytes().to_vec()))
    }

    /// The stored form of a key (or of a presented bearer token): HMAC-SHA256 under the pepper, as hex.
    pub fn key_hash(&self, key: &str) -> String {
        let mut mac = crate::channels::signature::hmac_sha256(&self.0);
        mac.update(key.as_bytes());
        crate::hex::encode(&mac.finalize().into_bytes())
    }
}

impl fmt::Debug for KeyPepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyPepper(redacted)")
    }
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

    fn pepper(secret: &str) -> KeyPepper {
        KeyPepper::new(secret).unwrap()
    }

    #[test]
    fn hashes_are_hmac_sha256_under_the_pepper() {
        let k = ApiKey::from_secret("abc_dev_local_demo_key_0000").unwrap();
        let p = pepper("0123456789abcdef0123456789abcdef");
        assert_eq!(k.hash(&p), p.key_hash("abc_dev_local_demo_key_0000"));
        // printf '%s' abc_dev_local_demo_key_0000 | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
        assert_eq!(k.hash(&p), HMAC_OF_DEV_KEY);
        // printf '%s' abc_dev_local_demo_key_0000 | sha256sum
        assert_ne!(k.hash(&p), SHA256_OF_DEV_KEY);
        assert_ne!(k.hash(&p), k.hash(&pepper("another pepper, also 32 characters")));
        assert!(ApiKey::from_secret("short").is_err());
    }

    const HMAC_OF_DEV_KEY: &str = "38b0993a361ae611080e795dc6ec05c5d4053658227a61441f82ba49ad929f5f";
    const SHA256_OF_DEV_KEY: &str = "0a4bee130a43a8b2ec2f807b50abac3381f995bb630964e3bfa059dc1c5234e7";

    #[test]
    fn peppers_are_long_and_never_printed() {
        assert!(KeyPepper::new("too short").is_err());
        let p = pepper("a pepper that is at least 32 characters");
        assert_eq!(format!("{p:?}"), "KeyPepper(redacted)");
    }
}
