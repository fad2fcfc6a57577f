//! Webhook signatures: HMAC-SHA256 and its `sha256=<hex>` header, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::AuthError;

pub type HmacSha256 = Hmac<Sha256>;

pub fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// Parses `sha256=<64 hex digits>` into the 32-byte digest.
pub fn parse_sha256_header(header: &str) -> Result<Vec<u8>, AuthError> {
    let h = header.trim();
    let hex = match h.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("sha256=") => &h[7..],
        _ => return Err(AuthError::MalformedSignature),
    };
    match crate::hex::decode(hex) {
        Some(bytes) if bytes.len() == 32 => Ok(bytes),
        _ => Err(AuthError::MalformedSignature),
    }
}

/// Compares two secrets in constant time, whatever their lengths (both are hashed first, so
/// neither the content nor the length of the expected secret leaks through timing).
pub fn secrets_equal(given: &[u8], expected: &[u8]) -> bool {
    let a = Sha256::digest(given);
    let b = Sha256::digest(expected);
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_headers() {
        let ok = format!("sha256={}", "ab".repeat(32));
        assert_eq!(parse_sha256_header(&ok).unwrap().len(), 32);
        assert_eq!(parse_sha256_header("sha1=abcd"), Err(AuthError::MalformedSignature));
        assert_eq!(parse_sha256_header("sha256=abcd"), Err(AuthError::MalformedSignature));
        assert_eq!(parse_sha256_header("é"), Err(AuthError::MalformedSignature));
        assert_eq!(parse_sha256_header("sha25é=x"), Err(AuthError::MalformedSignature));
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal(b"abc", b"abc"));
        assert!(!secrets_equal(b"abc", b"abd"));
        assert!(!secrets_equal(b"abc", b"abcd"));
        assert!(!secrets_equal(b"", b"abc"));
    }
}
