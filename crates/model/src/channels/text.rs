//! Clean-up of what visitors and channels send: trimmed, bounded text, names, emails and
//! phone numbers in their raw shape (parsed into domain values later, by capture).

/// Longest text kept from a message, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest username or language tag kept.
pub const MAX_SHORT_CHARS: usize = 64;
/// Longest phone number accepted as typed (the contact model's limit).
pub const MAX_PHONE_CHARS: usize = 40;

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
    fn passthrough_types() {
        assert_eq!(passthrough_type("ig_reel"), "ig_reel");
        assert_eq!(passthrough_type("Reel"), "reel");
        assert_eq!(passthrough_type("<script>"), "other");
        assert_eq!(passthrough_type(&"a".repeat(40)), "other");
    }
}
