use super::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const MAX_NAME_CHARS: usize = 200;

/// A person's name: trimmed, inner whitespace collapsed, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let collapsed = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        if collapsed.chars().count() > MAX_NAME_CHARS {
            return Err(InvalidValue::new(format!("must be at most {MAX_NAME_CHARS} characters")));
        }
        if collapsed.chars().any(char::is_control) {
            return Err(InvalidValue::new("must not contain control characters"));
        }
        Ok(Name(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Name::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_collapses_whitespace() {
        assert_eq!(Name::parse("  Olivia \t Bennett ").unwrap().as_str(), "Olivia Bennett");
    }

    #[test]
    fn limits_length_in_characters_not_bytes() {
        assert!(Name::parse(&"é".repeat(200)).is_ok());
        assert!(Name::parse(&"é".repeat(201)).is_err());
        assert!(Name::parse("   ").is_err());
    }
}
