use super::InvalidValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A workspace (tenant). Lower-case letters, digits and `-`, so it is safe inside keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkspaceId(String);

impl WorkspaceId {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok =
            (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(WorkspaceId(s.to_string()))
        } else {
            Err(InvalidValue::new(format!("workspace id `{s}` must be 1 to 64 characters of a-z, 0-9 and -")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WorkspaceId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        WorkspaceId::parse(&s)
    }
}

impl From<WorkspaceId> for String {
    fn from(w: WorkspaceId) -> String {
        w.0
    }
}

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contact's number within its workspace: 1, 2, 3 …, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContactId(pub u64);

impl ContactId {
    /// Zero-padded so that ids sort as strings inside keys.
    pub fn padded(self) -> String {
        format!("{:012}", self.0)
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for ContactId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<u64>() {
            Ok(n) if n > 0 && n < 1_000_000_000_000 => Ok(ContactId(n)),
            _ => Err(InvalidValue::new(format!("`{s}` is not a contact id: expected a positive integer"))),
        }
    }
}

/// A generated id that sorts by creation time: `prefix`, the milliseconds since the epoch
/// (13 digits), then `tail_bytes` random bytes in hex so ids made in the same millisecond differ.
pub fn time_ordered_id(prefix: &str, at: DateTime<Utc>, tail_bytes: usize) -> String {
    format!("{prefix}{:013}{}", at.timestamp_millis().max(0), crate::hex::random(tail_bytes))
}

/// Whether `s` has the shape of a [`time_ordered_id`] made with `prefix` and a 4-byte tail
/// (`prefix`, then 21 hex digits), so it is safe inside a key.
pub fn is_time_ordered_id(s: &str, prefix: &str) -> bool {
    s.len() == prefix.len() + 21 && s.starts_with(prefix) && s[prefix.len()..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_ids_are_key_safe() {
        assert!(WorkspaceId::parse("acme-01").is_ok());
        for bad in ["", "Acme", "a#b", "a b", &"a".repeat(65)] {
            assert!(WorkspaceId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn contact_ids_are_positive() {
        assert_eq!("42".parse::<ContactId>().unwrap(), ContactId(42));
        assert_eq!(ContactId(42).padded(), "000000000042");
        for bad in ["0", "-1", "abc", "1.5", "99999999999999"] {
            assert!(bad.parse::<ContactId>().is_err(), "{bad:?}");
        }
    }
}
