//! Search by name, email or phone prefix.
//!
//! Each contact gets one small index item per distinct prefix of its searchable words
//! (2 to [`MAX_PREFIX`] characters). A query is then a single Query on the item
//! collection of its own prefix, newest first. Queries longer than the indexed prefix
//! are narrowed by checking the candidates' profiles, which also makes index items
//! left stale by an edit harmless.

use crate::contact::Contact;
use crate::domain::InvalidValue;
use std::collections::BTreeSet;

pub const MIN_QUERY: usize = 2;
pub const MAX_PREFIX: usize = 6;
pub const MAX_PREFIXES_PER_CONTACT: usize = 40;
const MAX_QUERY: usize = 100;

/// What the user typed in the search box, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let trimmed = input.trim();
        let normalized = if looks_like_phone(trimmed) {
            trimmed.chars().filter(char::is_ascii_digit).collect()
        } else {
            normalize_text(trimmed)
        };
        let len = normalized.chars().count();
        if len < MIN_QUERY {
            return Err(InvalidValue::new(format!("search needs at least {MIN_QUERY} letters or digits")));
        }
        if len > MAX_QUERY {
            return Err(InvalidValue::new(format!("search must be at most {MAX_QUERY} characters")));
        }
        Ok(SearchTerm(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The indexed prefix this term is looked up under.
    pub fn index_prefix(&self) -> String {
        self.0.chars().take(MAX_PREFIX).collect()
    }

    /// Whether the contact really matches (the index only narrows candidates).
    pub fn matches(&self, contact: &Contact) -> bool {
        searchable_words(contact).iter().any(|w| w.starts_with(&self.0))
    }
}

fn looks_like_phone(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

fn normalize_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The words a search can start with: each name word and the whole name, the email
/// and its domain, and the phone's digits (E.164 with and without the country code).
pub fn searchable_words(contact: &Contact) -> Vec<String> {
    let mut words = Vec::new();
    if let Some(name) = &contact.name {
        let full = normalize_text(name.as_str());
        words.extend(full.split(' ').map(str::to_string));
        words.push(full);
    }
    for email in contact.email.iter().chain(&contact.other_emails) {
        words.push(email.key());
        words.push(email.domain().to_lowercase());
    }
    for phone in contact.phone.iter().chain(&contact.other_phones) {
        let digits = phone.digits();
        let raw_digits: String = phone.raw().chars().filter(char::is_ascii_digit).collect();
        words.push(digits);
        words.extend(phone.national_digits());
        words.push(raw_digits.trim_start_matches('0').to_string());
        words.push(raw_digits);
    }
    words.retain(|w| !w.is_empty());
    words
}

/// The index prefixes of a contact, most useful first, capped so that a contact's
/// index items always fit in one transaction with its other items.
pub fn index_prefixes(contact: &Contact) -> BTreeSet<String> {
    let mut prefixes = BTreeSet::new();
    for word in searchable_words(contact) {
        let chars: Vec<char> = word.chars().collect();
        for len in MIN_QUERY..=chars.len().min(MAX_PREFIX) {
            if prefixes.len() == MAX_PREFIXES_PER_CONTACT {
                return prefixes;
            }
            prefixes.insert(chars[..len].iter().collect());
        }
    }
    prefixes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, ContactId, Email, Name, Phone};
    use crate::new_contact::NewContact;

    fn olivia() -> Contact {
        let mut n = NewContact::on(Channel::Frame);
        n.name = Some(Name::parse("Olivia Bennett").unwrap());
        n.email = Some(Email::parse("Olivia@LumoCo.dev").unwrap());
        n.phone = Some(Phone::parse("+1 415-555-2671", None).unwrap());
        n.into_contact(ContactId(1), chrono::Utc::now())
    }

    #[test]
    fn finds_by_any_name_word_email_domain_or_phone_digits() {
        let c = olivia();
        for q in ["oli", "OLIVIA B", "benn", "olivia@lumo", "lumoco", "415 555", "+1 415", "14155552671"] {
            assert!(SearchTerm::parse(q).unwrap().matches(&c), "{q} should match");
        }
        for q in ["bennet x", "lumox", "555 2671"] {
            assert!(!SearchTerm::parse(q).unwrap().matches(&c), "{q} should not match");
        }
    }

    #[test]
    fn every_match_is_reachable_through_an_indexed_prefix() {
        let c = olivia();
        let prefixes = index_prefixes(&c);
        assert!(prefixes.len() <= MAX_PREFIXES_PER_CONTACT);
        for q in ["ol", "olivia ben", "olivia bennett", "lumoco.dev", "4155552671"] {
            let term = SearchTerm::parse(q).unwrap();
            assert!(prefixes.contains(&term.index_prefix()), "{q} not indexed");
        }
    }

    #[test]
    fn phone_like_input_searches_digits() {
        assert_eq!(SearchTerm::parse(" (415) 555-26 ").unwrap().as_str(), "41555526");
        assert_eq!(SearchTerm::parse("Route 66").unwrap().as_str(), "route 66");
    }

    #[test]
    fn refuses_too_short_or_long_queries() {
        assert!(SearchTerm::parse("a").is_err());
        assert!(SearchTerm::parse("  ").is_err());
        assert!(SearchTerm::parse(&"a".repeat(101)).is_err());
    }
}
