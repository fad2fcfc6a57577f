use super::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const MAX_LEN: usize = 40;

/// A region (ISO 3166-1 alpha-2) used to read numbers written without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(phonenumber::country::Id);

impl Region {
    pub fn code(self) -> String {
        format!("{:?}", self.0)
    }
}

impl FromStr for Region {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .to_uppercase()
            .parse()
            .map(Region)
            .map_err(|_| InvalidValue::new(format!("`{s}` is not an ISO 3166-1 region code such as US or DE")))
    }
}

/// A phone number as the person gave it, with its E.164 form when it parses.
/// A number that does not parse is kept (and flagged by `e164: None`), never dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    raw: String,
    e164: Option<String>,
}

impl Phone {
    pub fn parse(input: &str, default_region: Option<Region>) -> Result<Self, InvalidValue> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        if raw.chars().count() > MAX_LEN {
            return Err(InvalidValue::new(format!("must be at most {MAX_LEN} characters")));
        }
        if !raw.chars().any(|c| c.is_ascii_digit()) {
            return Err(InvalidValue::new(format!("`{raw}` has no digits")));
        }
        let e164 = phonenumber::parse(default_region.map(|r| r.0), raw)
            .ok()
            .filter(phonenumber::is_valid)
            .map(|n| n.format().mode(phonenumber::Mode::E164).to_string());
        Ok(Phone { raw: raw.to_string(), e164 })
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn e164(&self) -> Option<&str> {
        self.e164.as_deref()
    }

    pub fn is_valid(&self) -> bool {
        self.e164.is_some()
    }

    /// As people read it across borders, e.g. `+1 415-555-2671`, `+49 30 123456`; as given
    /// when the number does not parse.
    pub fn international(&self) -> String {
        self.e164
            .as_deref()
            .and_then(|e| phonenumber::parse(None, e).ok())
            .map(|n| n.format().mode(phonenumber::Mode::International).to_string())
            .unwrap_or_else(|| self.raw.clone())
    }

    /// Digits only: the E.164 digits when valid, else the digits as given.
    pub fn digits(&self) -> String {
        self.e164.as_deref().unwrap_or(&self.raw).chars().filter(char::is_ascii_digit).collect()
    }

    /// The national significant number's digits (without the country code), when valid.
    pub fn national_digits(&self) -> Option<String> {
        let e164 = self.e164.as_deref()?;
        phonenumber::parse(None, e164).ok().map(|n| n.national().value().to_string())
    }

    /// The uniqueness key within a workspace.
    pub fn key(&self) -> String {
        match &self.e164 {
            Some(e) => e.clone(),
            None => format!("raw:{}", self.digits()),
        }
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_show_in_international_format_and_invalid_ones_as_given() {
        let us = Phone::parse("(415) 555-2671", Some("US".parse().unwrap())).unwrap();
        assert_eq!(us.international(), "+1 415-555-2671");
        let de = Phone::parse("030 1234567", Some("DE".parse().unwrap())).unwrap();
        assert_eq!(de.international(), "+49 30 1234567");
        assert_eq!(Phone::parse("ext 12", None).unwrap().international(), "ext 12");
    }

    #[test]
    fn international_numbers_get_their_e164_form() {
        let p = Phone::parse(" +1 (415) 555-2671 ", None).unwrap();
        assert_eq!(p.raw(), "+1 (415) 555-2671");
        assert_eq!(p.e164(), Some("+14155552671"));
        assert_eq!(p.key(), "+14155552671");
        assert_eq!(p.national_digits().as_deref(), Some("4155552671"));
    }

    #[test]
    fn national_numbers_use_the_default_region() {
        let de: Region = "de".parse().unwrap();
        let p = Phone::parse("030 901820", Some(de)).unwrap();
        assert_eq!(p.e164(), Some("+4930901820"));
        assert!(Phone::parse("030 901820", None).unwrap().e164().is_none());
    }

    #[test]
    fn unparseable_numbers_are_kept_and_flagged() {
        let p = Phone::parse("+482-719-364", None).unwrap();
        assert_eq!(p.raw(), "+482-719-364");
        assert!(!p.is_valid());
        assert_eq!(p.digits(), "482719364");
        assert_eq!(p.key(), "raw:482719364");
    }

    #[test]
    fn refuses_empty_and_digitless_input() {
        assert!(Phone::parse("  ", None).is_err());
        assert!(Phone::parse("call me", None).is_err());
        assert!(Phone::parse(&"1".repeat(41), None).is_err());
    }

    #[test]
    fn regions_are_iso_codes() {
        assert_eq!("us".parse::<Region>().unwrap().code(), "US");
        assert!("XX1".parse::<Region>().is_err());
    }
}
