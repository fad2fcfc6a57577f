use super::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;

const MAX_LEN: usize = 254;

/// An email address: trimmed, syntax-checked, domain lower-cased.
/// Two addresses are the same contact when their [`Email::key`]s match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        if trimmed.len() > MAX_LEN {
            return Err(InvalidValue::new(format!("must be at most {MAX_LEN} characters")));
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(InvalidValue::new(format!("`{trimmed}` is not an email address: it has no `@`")));
        };
        // Bare `user@host` is valid RFC 5322 but never a reachable visitor address.
        if !domain.contains('.') || !email_address::EmailAddress::is_valid(trimmed) {
            return Err(InvalidValue::new(format!("`{trimmed}` is not a valid email address")));
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The comparison form: the whole address lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases_the_domain_only() {
        let e = Email::parse("  Olivia.B@LumoCo.DEV ").unwrap();
        assert_eq!(e.as_str(), "Olivia.B@lumoco.dev");
        assert_eq!(e.key(), "olivia.b@lumoco.dev");
        assert_eq!(e.domain(), "lumoco.dev");
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in ["", "   ", "olivia", "olivia@", "@lumoco.dev", "olivia@localhost", "a b@c.de", "olivia@@x.io"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn refuses_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}
