use super::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;

const MAX_TAG_CHARS: usize = 50;

/// A tag: lower-cased, trimmed, letters, digits, spaces, `-`, `_`, `.` and `:` only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Tag(String);

impl Tag {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let tag = input.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        if tag.is_empty() {
            return Err(InvalidValue::new("a tag must not be empty"));
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(InvalidValue::new(format!("a tag must be at most {MAX_TAG_CHARS} characters")));
        }
        if let Some(c) = tag.chars().find(|c| !(c.is_alphanumeric() || " -_.:".contains(*c))) {
            return Err(InvalidValue::new(format!(
                "tag `{tag}` contains `{c}`: use letters, digits, spaces, `-`, `_`, `.` or `:`"
            )));
        }
        Ok(Tag(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Tag::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_spaces() {
        assert_eq!(Tag::parse("  VIP   Lead ").unwrap().as_str(), "vip lead");
        assert_eq!(Tag::parse("Größe:XL").unwrap().as_str(), "größe:xl");
    }

    #[test]
    fn refuses_separators_used_in_keys() {
        assert!(Tag::parse("a#b").is_err());
        assert!(Tag::parse("").is_err());
        assert!(Tag::parse(&"x".repeat(51)).is_err());
    }
}
