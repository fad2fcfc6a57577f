//! Helpers shared by the adapters: path-aware JSON access with readable errors, text
//! clean-up, timestamps, hex and HMAC.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{AuthError, PayloadError};

/// Longest text kept from a message, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest username or language tag kept.
pub const MAX_SHORT_CHARS: usize = 64;
/// Longest phone number accepted as typed (the contact model's limit).
pub const MAX_PHONE_CHARS: usize = 40;

pub type Obj = Map<String, Value>;

// ---------------------------------------------------------------------------------------
// JSON access
// ---------------------------------------------------------------------------------------

/// Parses a request body as a JSON object.
pub fn parse_object(body: &[u8], what: &str) -> Result<Obj, PayloadError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(PayloadError::new(format!("the {what} body is empty")));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            Err(PayloadError::new(format!("the {what} body must be a JSON object, got {}", type_name(&other))))
        }
        Err(e) => Err(PayloadError::new(format!("the {what} body is not valid JSON: {e}"))),
    }
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `parent.key`, or `key` at the root.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `parent[index]`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

fn wrong_type(path: &str, key: &str, expected: &str, got: &Value) -> PayloadError {
    PayloadError::new(format!("`{}` must be {expected}, got {}", join(path, key), type_name(got)))
}

fn missing(path: &str, key: &str) -> PayloadError {
    PayloadError::new(format!("`{}` is missing", join(path, key)))
}

/// A present, non-null field.
pub fn field<'a>(obj: &'a Obj, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

pub fn opt_obj<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<Option<&'a Obj>, PayloadError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(wrong_type(path, key, "an object", other)),
    }
}

pub fn req_obj<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<&'a Obj, PayloadError> {
    opt_obj(obj, key, path)?.ok_or_else(|| missing(path, key))
}

pub fn opt_array<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<&'a [Value], PayloadError> {
    match field(obj, key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong_type(path, key, "an array", other)),
    }
}

pub fn req_array<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<&'a [Value], PayloadError> {
    match field(obj, key) {
        None => Err(missing(path, key)),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong_type(path, key, "an array", other)),
    }
}

/// An array element that must be an object.
pub fn item_obj<'a>(v: &'a Value, path: &str) -> Result<&'a Obj, PayloadError> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(PayloadError::new(format!("`{path}` must be an object, got {}", type_name(other)))),
    }
}

pub fn opt_str<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<Option<&'a str>, PayloadError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong_type(path, key, "a string", other)),
    }
}

/// A string field that must be present and not blank.
pub fn req_str<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<&'a str, PayloadError> {
    match opt_str(obj, key, path)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(PayloadError::new(format!("`{}` must not be empty", join(path, key)))),
        None => Err(missing(path, key)),
    }
}

pub fn opt_bool(obj: &Obj, key: &str, path: &str) -> Result<bool, PayloadError> {
    match field(obj, key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(wrong_type(path, key, "a boolean", other)),
    }
}

pub fn opt_i64(obj: &Obj, key: &str, path: &str) -> Result<Option<i64>, PayloadError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| wrong_type(path, key, "an integer", &Value::Number(n.clone())))
        }
        Some(other) => Err(wrong_type(path, key, "an integer", other)),
    }
}

pub fn req_i64(obj: &Obj, key: &str, path: &str) -> Result<i64, PayloadError> {
    opt_i64(obj, key, path)?.ok_or_else(|| missing(path, key))
}

/// An integer given either as a JSON number or as a string of digits (Meta sends both).
pub fn opt_int_or_str(obj: &Obj, key: &str, path: &str) -> Result<Option<i64>, PayloadError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Ok(Some(i)),
            None => Err(PayloadError::new(format!("`{}` must be an integer", join(path, key)))),
        },
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(i) => Ok(Some(i)),
            Err(_) => Err(PayloadError::new(format!(
                "`{}` must be an integer, got {:?}",
                join(path, key),
                truncate_chars(s, 40)
            ))),
        },
        Some(other) => Err(wrong_type(path, key, "an integer", other)),
    }
}

pub fn req_int_or_str(obj: &Obj, key: &str, path: &str) -> Result<i64, PayloadError> {
    opt_int_or_str(obj, key, path)?.ok_or_else(|| missing(path, key))
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

pub fn from_unix_seconds(secs: i64, path: &str) -> Result<DateTime<Utc>, PayloadError> {
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| PayloadError::new(format!("`{path}` is not a valid Unix time: {secs}")))
}

pub fn from_unix_millis(ms: i64, path: &str) -> Result<DateTime<Utc>, PayloadError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| PayloadError::new(format!("`{path}` is not a valid Unix time: {ms}")))
}

// ---------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------

/// The first `max` characters of `s` (never splits a character).
pub fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((byte, _)) => &s[..byte],
        None => s,
    }
}

/// Trimmed, capped at `max` characters; `None` when blank.
pub fn clean(s: &str, max: usize) -> Option<String> {
    let t = truncate_chars(s.trim(), max).trim_end();
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

pub fn clean_text(s: Option<&str>) -> Option<String> {
    s.and_then(|s| clean(s, MAX_TEXT_CHARS))
}

pub fn clean_name(s: Option<&str>) -> Option<String> {
    s.and_then(|s| clean(s, MAX_NAME_CHARS))
}

pub fn clean_short(s: Option<&str>) -> Option<String> {
    s.and_then(|s| clean(s, MAX_SHORT_CHARS))
}

/// "First Last" from optional parts, trimmed and capped.
pub fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let joined = format!("{} {}", first.unwrap_or("").trim(), last.unwrap_or("").trim());
    clean(&joined, MAX_NAME_CHARS)
}

/// A phone number that the channel guarantees to be international (Telegram contact,
/// WhatsApp wa_id) as `+` and digits. `None` unless it has 5 to 15 digits and only phone
/// punctuation.
pub fn international_phone(raw: &str) -> Option<String> {
    let t = raw.trim();
    if !t.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if (5..=15).contains(&digits.len()) {
        Some(format!("+{digits}"))
    } else {
        None
    }
}

/// A loose shape check for an email address: one `@`, something on each side, a dot in the
/// domain, no whitespace, at most 254 characters. The capture worker validates properly.
pub fn looks_like_email(s: &str) -> bool {
    if s.is_empty() || s.chars().count() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// A trimmed email address: `Ok(None)` when absent or blank, `Err(())` when it does not look
/// like an address.
pub fn clean_email(s: Option<&str>) -> Result<Option<String>, ()> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(e) if looks_like_email(e) => Ok(Some(e.to_string())),
        Some(_) => Err(()),
    }
}

/// A phone number as typed, trimmed: `Ok(None)` when absent or blank, `Err(())` when longer
/// than [`MAX_PHONE_CHARS`].
pub fn clean_phone(s: Option<&str>) -> Result<Option<String>, ()> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) if p.chars().count() <= MAX_PHONE_CHARS => Ok(Some(p.to_string())),
        Some(_) => Err(()),
    }
}

/// A channel type string safe to pass through as `message_type`: lowercase ASCII letters,
/// digits and `_`, at most 32 characters; anything else becomes "other".
pub fn passthrough_type(raw: &str) -> String {
    let t = raw.trim().to_ascii_lowercase();
    if !t.is_empty() && t.len() <= 32 && t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        t
    } else {
        "other".to_string()
    }
}

// ---------------------------------------------------------------------------------------
// Crypto
// ---------------------------------------------------------------------------------------

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
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("héllo", 2), "hé");
        assert_eq!(truncate_chars("日本語", 5), "日本語");
        assert_eq!(truncate_chars("", 3), "");
        let long = "é".repeat(MAX_TEXT_CHARS + 10);
        assert_eq!(clean_text(Some(&long)).unwrap().chars().count(), MAX_TEXT_CHARS);
        assert_eq!(clean_text(Some("   ")), None);
        assert_eq!(clean_text(Some("  hi \n")), Some("hi".into()));
        assert_eq!(clean_name(Some(&"x".repeat(500))).unwrap().len(), MAX_NAME_CHARS);
    }

    #[test]
    fn names_and_phones() {
        assert_eq!(full_name(Some(" Ann "), None), Some("Ann".into()));
        assert_eq!(full_name(Some("Ann"), Some("Lee")), Some("Ann Lee".into()));
        assert_eq!(full_name(None, Some("")), None);
        assert_eq!(international_phone("79001234567"), Some("+79001234567".into()));
        assert_eq!(international_phone("+1 (650) 555-1234"), Some("+16505551234".into()));
        assert_eq!(international_phone("12"), None);
        assert_eq!(international_phone("call me"), None);
        assert_eq!(international_phone("1234567890123456"), None);
    }

    #[test]
    fn email_shape() {
        assert!(looks_like_email("ann@example.com"));
        assert!(!looks_like_email("ann@example"));
        assert!(!looks_like_email("ann example.com"));
        assert!(!looks_like_email("a@b@c.com"));
        assert!(!looks_like_email("@example.com"));
        assert!(!looks_like_email("ann@.com"));
    }

    #[test]
    fn hex_round_trip_and_header() {
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

    #[test]
    fn passthrough_types() {
        assert_eq!(passthrough_type("ig_reel"), "ig_reel");
        assert_eq!(passthrough_type("Reel"), "reel");
        assert_eq!(passthrough_type("<script>"), "other");
        assert_eq!(passthrough_type(&"a".repeat(40)), "other");
    }
}
