//! Errors of the channel adapters: a payload that cannot be understood, or a request that
//! fails authentication.

use std::fmt;

/// The request body is not a payload of the channel's format: not JSON, wrong `object`, or a
/// required part missing or of the wrong type.
///
/// `Display` is the human-readable message alone (e.g. "`entry` must be an array"), suitable
/// as the `detail` of an HTTP 400 problem response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    pub message: String,
}

impl PayloadError {
    pub fn new(message: impl Into<String>) -> Self {
        PayloadError { message: message.into() }
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PayloadError {}

/// Why a webhook request was refused before its body was looked at.
///
/// Messages never echo the expected secret or signature; they are safe as the `detail` of an
/// HTTP problem response. Map to a status with [`AuthError::http_status`]: a missing
/// credential is 401, a wrong one 403 (see [`AuthError::is_missing`]), and a bot without a
/// configured secret is a server-side fault, 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No signature header (`X-Hub-Signature-256` or `X-Contacts-Signature`).
    #[error("the request is not signed: the signature header is missing")]
    MissingSignature,
    /// A signature header that is not `sha256=` followed by 64 hex digits.
    #[error("the signature header is malformed: expected `sha256=` followed by 64 hex digits")]
    MalformedSignature,
    /// A well-formed signature that does not match the body and the secret.
    #[error("the signature does not match the request body")]
    BadSignature,
    /// No `X-Contacts-Timestamp` header.
    #[error("the request has no timestamp: the X-Contacts-Timestamp header is missing")]
    MissingTimestamp,
    /// A timestamp header that is not a whole number of seconds since the Unix epoch.
    #[error("the X-Contacts-Timestamp header must be a Unix time in whole seconds")]
    InvalidTimestamp,
    /// A timestamp further than the replay window from the receiver's clock.
    #[error(
        "the request timestamp is {skew_seconds} s away from the server clock; at most {max_seconds} s is accepted"
    )]
    StaleTimestamp {
        /// Server time minus request time: positive when the request is old, negative when it
        /// claims to come from the future.
        skew_seconds: i64,
        /// The replay window: how far either way a timestamp may be.
        max_seconds: i64,
    },
    /// No `X-Telegram-Bot-Api-Secret-Token` header (or no `hub.verify_token` parameter).
    #[error("the request carries no secret token")]
    MissingToken,
    /// A secret token that does not match the bot's.
    #[error("the secret token does not match")]
    BadToken,
    /// The `hub.verify_token` of a subscription handshake does not match the bot's.
    #[error("hub.verify_token does not match the verify token configured for this bot")]
    VerifyTokenMismatch,
    /// A subscription handshake whose `hub.mode` is missing or not `subscribe`.
    #[error("hub.mode must be `subscribe`")]
    InvalidMode,
    /// A subscription handshake whose `hub.challenge` is missing, empty, or not a plain token.
    #[error("hub.challenge must be 1 to 256 letters, digits, `-` or `_`")]
    InvalidChallenge,
    /// The bot has no secret configured for this channel, so no request can be authenticated.
    #[error("this bot has no webhook secret configured for the channel")]
    SecretNotConfigured,
}
