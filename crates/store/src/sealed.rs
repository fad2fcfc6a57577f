//! Channel secrets sealed at rest. A bot's channel settings (Telegram's secret token, Meta's
//! app secret, verify token and page token, the widget's signing secrets) are stored
//! encrypted with AES-256-GCM under a key that is not in the table (`SECRETS_KEY`, from the
//! template's `SecretsKey` parameter), bound to the bot's id: a copy of the table, a backup
//! or the stream's images hold no secret, and a sealed value moved to another bot does not
//! open.

use super::{StoreError, StoreResult};
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use std::fmt;

/// The format of a sealed value: `v1.<base64 of nonce, ciphertext and tag>`.
const VERSION: &str = "v1.";

/// The key channel secrets are sealed with: 32 bytes, written as 64 hex digits. Two are
/// equal when their SHA-256 fingerprints are.
#[derive(Clone)]
pub struct SecretsKey {
    key: std::sync::Arc<LessSafeKey>,
    fingerprint: [u8; 32],
}

impl PartialEq for SecretsKey {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl Eq for SecretsKey {}

impl SecretsKey {
    pub fn from_hex(hex: &str) -> Result<Self, String> {
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .filter(|b| b.len() == 32 && hex.len() == 64)
            .ok_or("must be 64 hex digits (32 bytes), e.g. openssl rand -hex 32")?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| "not an AES-256 key")?;
        let fingerprint = <sha2::Sha256 as sha2::Digest>::digest(&bytes).into();
        Ok(SecretsKey { key: std::sync::Arc::new(LessSafeKey::new(key)), fingerprint })
    }

    /// `plain` sealed for `owner` (what it may be opened for), with a fresh random nonce.
    pub(crate) fn seal(&self, plain: &[u8], owner: &str) -> StoreResult<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(owner.as_bytes()), &mut sealed)
            .map_err(|_| StoreError::Corrupt("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{VERSION}{}", base64::engine::general_purpose::STANDARD.encode(out)))
    }

    /// What [`SecretsKey::seal`] sealed for `owner`; an error for anything else.
    pub(crate) fn open(&self, sealed: &str, owner: &str) -> StoreResult<Vec<u8>> {
        let refuse = || StoreError::Corrupt(format!("sealed secrets of {owner} do not open with this SECRETS_KEY"));
        let raw = sealed
            .strip_prefix(VERSION)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|r| r.len() > NONCE_LEN)
            .ok_or_else(refuse)?;
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refuse())?;
        let mut rest = rest.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(owner.as_bytes()), &mut rest).map_err(|_| refuse())?;
        Ok(plain.to_vec())
    }
}

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretsKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(digit: char) -> SecretsKey {
        SecretsKey::from_hex(&digit.to_string().repeat(64)).unwrap()
    }

    #[test]
    fn sealed_values_open_for_their_owner_with_their_key_only() {
        let sealed = key('a').seal(b"telegram-secret", "bot-1").unwrap();
        assert!(sealed.starts_with("v1.") && !sealed.contains("telegram-secret"));
        assert_eq!(key('a').open(&sealed, "bot-1").unwrap(), b"telegram-secret");
        assert!(key('a').open(&sealed, "bot-2").is_err(), "bound to its bot");
        assert!(key('b').open(&sealed, "bot-1").is_err(), "another key");
        assert_ne!(key('a').seal(b"telegram-secret", "bot-1").unwrap(), sealed, "a fresh nonce each time");
    }

    #[test]
    fn a_key_is_64_hex_digits() {
        assert!(SecretsKey::from_hex("abc").is_err());
        assert!(SecretsKey::from_hex(&"g".repeat(64)).is_err());
        assert!(format!("{:?}", key('c')) == "SecretsKey(redacted)");
    }
}
