//! Authentication shared by Meta's webhooks (Messenger and WhatsApp Cloud API).
//!
//! * Every POST carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed
//!   with the app secret>`: check it with [`verify_signature`] on the raw bytes, before
//!   parsing.
//! * Subscribing the endpoint sends a GET with `hub.mode=subscribe`, `hub.verify_token` (the
//!   token typed into the App Dashboard) and `hub.challenge`; answer 200 with the challenge
//!   as the plain-text body: [`verify_subscription`] returns it.

use super::json;
use super::signature;
use super::text;
use hmac::Mac;

use super::error::AuthError;

/// The header Meta signs webhook POSTs with.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// Checks `X-Hub-Signature-256` against the raw request body, in constant time.
///
/// Errors: [`AuthError::MissingSignature`] without the header (401),
/// [`AuthError::MalformedSignature`] when it is not `sha256=` and 64 hex digits, and
/// [`AuthError::BadSignature`] when it does not match (403).
pub fn verify_signature(header: Option<&str>, body: &[u8], app_secret: &str) -> Result<(), AuthError> {
    if app_secret.is_empty() {
        return Err(AuthError::SecretNotConfigured);
    }
    let header = match header {
        Some(h) if !h.trim().is_empty() => h,
        _ => return Err(AuthError::MissingSignature),
    };
    let expected = signature::parse_sha256_header(header)?;
    let mut mac = signature::hmac_sha256(app_secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| AuthError::BadSignature)
}

/// `sha256=<hex>` signature of `body` as Meta computes it (for tests and tools).
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = signature::hmac_sha256(app_secret.as_bytes());
    mac.update(body);
    format!("sha256={}", crate::hex::encode(&mac.finalize().into_bytes()))
}

/// Answers the subscription handshake (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`).
///
/// Returns the challenge to send back as the 200 body. The token is compared in constant
/// time. The challenge must be 1 to 256 ASCII letters, digits, `-` or `_` (Meta sends
/// digits), so that nothing else can be reflected back to the caller.
pub fn verify_subscription(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    verify_token: &str,
) -> Result<String, AuthError> {
    if verify_token.is_empty() {
        return Err(AuthError::SecretNotConfigured);
    }
    let token = match token {
        Some(t) if !t.is_empty() => t,
        _ => return Err(AuthError::MissingToken),
    };
    if !signature::secrets_equal(token.as_bytes(), verify_token.as_bytes()) {
        return Err(AuthError::VerifyTokenMismatch);
    }
    if mode != Some("subscribe") {
        return Err(AuthError::InvalidMode);
    }
    match challenge {
        Some(c)
            if (1..=256).contains(&c.len())
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(c.to_string())
        }
        _ => Err(AuthError::InvalidChallenge),
    }
}

/// Checks a Meta webhook's `object` (`page` for Messenger, `whatsapp_business_account`
/// for WhatsApp), naming what was expected when it is wrong or missing.
pub(crate) fn check_object(root: &json::Obj, expected: &str, product: &str) -> Result<(), super::error::PayloadError> {
    use super::error::PayloadError;
    match json::opt_str(root, "object", "")? {
        Some(found) if found == expected => Ok(()),
        Some(other) => Err(PayloadError::new(format!(
            "`object` must be \"{expected}\" for {product} webhooks, got {:?}",
            text::truncate_chars(other, 40)
        ))),
        None => {
            Err(PayloadError::new(format!("`object` is missing: {product} webhooks have `\"object\": \"{expected}\"`")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "3f9c2a7be41d08c6a5f0e9d2b7c41a88";
    const BODY: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-message.json");

    #[test]
    fn signature_passes_for_the_exact_body() {
        let header = sign(SECRET, BODY);
        assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
        assert_eq!(verify_signature(Some(&header), BODY, SECRET), Ok(()));
        // Meta sends lowercase hex; accept uppercase too, and surrounding blanks.
        let upper = format!("sha256={}", header[7..].to_uppercase());
        assert_eq!(verify_signature(Some(&upper), BODY, SECRET), Ok(()));
        assert_eq!(verify_signature(Some(&format!(" {header} ")), BODY, SECRET), Ok(()));
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog").
        assert_eq!(
            sign("key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn signature_failures_are_distinguished() {
        let header = sign(SECRET, BODY);
        assert_eq!(verify_signature(None, BODY, SECRET), Err(AuthError::MissingSignature));
        assert_eq!(verify_signature(Some(""), BODY, SECRET), Err(AuthError::MissingSignature));
        assert_eq!(verify_signature(Some("sha1=abc"), BODY, SECRET), Err(AuthError::MalformedSignature));
        assert_eq!(verify_signature(Some("sha256=xyz"), BODY, SECRET), Err(AuthError::MalformedSignature));
        assert_eq!(verify_signature(Some(&header), BODY, "another-secret"), Err(AuthError::BadSignature));
        let mut tampered = BODY.to_vec();
        let pos = tampered.iter().position(|&b| b == b'?').unwrap();
        tampered[pos] = b'!';
        assert_eq!(verify_signature(Some(&header), &tampered, SECRET), Err(AuthError::BadSignature));
        let mut flipped = header.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(verify_signature(Some(&flipped), BODY, SECRET), Err(AuthError::BadSignature));
        assert_eq!(verify_signature(Some(&header), BODY, ""), Err(AuthError::SecretNotConfigured));
    }

    #[test]
    fn subscription_handshake() {
        let ok = verify_subscription(Some("subscribe"), Some("tok-123"), Some("1158201444"), "tok-123");
        assert_eq!(ok, Ok("1158201444".to_string()));

        let cases = [
            (Some("subscribe"), None, Some("1"), AuthError::MissingToken),
            (Some("subscribe"), Some(""), Some("1"), AuthError::MissingToken),
            (Some("subscribe"), Some("tok-999"), Some("1"), AuthError::VerifyTokenMismatch),
            (Some("unsubscribe"), Some("tok-123"), Some("1"), AuthError::InvalidMode),
            (None, Some("tok-123"), Some("1"), AuthError::InvalidMode),
            (Some("subscribe"), Some("tok-123"), None, AuthError::InvalidChallenge),
            (Some("subscribe"), Some("tok-123"), Some(""), AuthError::InvalidChallenge),
            (Some("subscribe"), Some("tok-123"), Some("<script>alert(1)</script>"), AuthError::InvalidChallenge),
        ];
        for (mode, token, challenge, expected) in cases {
            assert_eq!(verify_subscription(mode, token, challenge, "tok-123"), Err(expected.clone()));
        }
        let long = "9".repeat(257);
        assert_eq!(
            verify_subscription(Some("subscribe"), Some("tok-123"), Some(&long), "tok-123"),
            Err(AuthError::InvalidChallenge)
        );
        assert_eq!(
            verify_subscription(Some("subscribe"), Some(""), Some("1"), ""),
            Err(AuthError::SecretNotConfigured)
        );
    }
}
