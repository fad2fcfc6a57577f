//! Search by name, email, Telegram username or phone: its first digits or its last.
//!
//! Each contact gets one small index item per distinct searchable word ([`index_words`]),
//! filed under the word's first [`MIN_QUERY`] characters and sorted by the word, then
//! newest first. A query is then a single Query on its first characters' collection for
//! the words that begin with it: results come in the order of the word they matched
//! (Oliver Brown before Olivia Bennett), contacts of the same word newest first. A contact
//! with several such words is listed once, under the first of them
//! ([`SearchTerm::listed_under`]); candidates are checked on the list fields each entry
//! carries (`ListedContact`).
//!
//! Phrases (words with a space: a whole name) have collections of their own
//! ([`is_phrase`]). A term without a space can only begin a phrase where it begins the
//! phrase's first word, which is indexed too: kept apart, a whole name is never read by a
//! one-word search it could not be listed under, and a one-word search reads about half
//! the entries it would otherwise.
//!
//! A phone's last digits are found through its digits reversed, marked with
//! [`PHONE_END`] and filed in collections of their own ([`WordKind::PhoneEnd`]): "2671"
//! is then the start "~1762" of "~17625554141". A term of digits is looked up twice, by its
//! start and by its end ([`SearchTerm::phone_end`]); a contact found both ways is listed
//! once, by its start.

use crate::contact::ListedContact;
use crate::domain::InvalidValue;
use std::collections::{BTreeMap, BTreeSet};

pub const MIN_QUERY: usize = 2;
/// Marks a phone's reversed digits (its last digits first) among the index words.
pub const PHONE_END: char = '~';
/// Longer words are indexed by their first this many characters (a key stays small); a
/// longer query still finds them, through that start, and the check on the entry decides.
pub const MAX_INDEXED_WORD: usize = 100;
const MAX_QUERY: usize = 100;

/// What the user typed in the search box, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        // `@harper_m` is the handle `harper_m`; the index's own marker is never typed.
        let trimmed = input.trim().trim_start_matches(['@', PHONE_END]);
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

    /// The collection of index words this term is looked up in: its first characters, among
    /// the words of its kind ([`SearchTerm::kind`]).
    pub fn partition(&self) -> String {
        partition_of(&self.0)
    }

    /// What kind of words can begin with it: phrases for a term of several words.
    pub fn kind(&self) -> WordKind {
        kind_of(&self.0)
    }

    /// For a term of digits, the term that finds phones ending with them: its digits
    /// reversed, among the phones' reversed digits.
    pub fn phone_end(&self) -> Option<SearchTerm> {
        let digits = self.0.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| SearchTerm(std::iter::once(PHONE_END).chain(self.0.chars().rev()).collect()))
    }

    /// What the indexed words must begin with: the term, cut to the indexed length.
    pub fn indexed_start(&self) -> String {
        self.0.chars().take(MAX_INDEXED_WORD).collect()
    }

    /// Whether the contact really matches (the index only narrows candidates): a word
    /// begins with the term, or, for digits, a phone ends with them.
    pub fn matches(&self, contact: &ListedContact) -> bool {
        let words = searchable_words(contact);
        let begins = |term: &SearchTerm| words.iter().any(|w| w.starts_with(&term.0));
        begins(self) || self.phone_end().is_some_and(|end| begins(&end))
    }

    /// How many characters of the term the index compares: a word's entry is the one a
    /// contact is listed under when this exceeds its `shared` ([`index_entries`]).
    pub fn indexed_len(&self) -> usize {
        self.0.chars().count().min(MAX_INDEXED_WORD)
    }

    /// The one index word a matching contact is listed under: the first of its words in the
    /// term's collections that begin with the term, so that a contact with several is listed once.
    pub fn listed_under(&self, contact: &ListedContact) -> Option<String> {
        let start = self.indexed_start();
        index_words(contact).into_iter().find(|w| kind_of(w) == self.kind() && w.starts_with(&start))
    }
}

fn looks_like_phone(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

fn normalize_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The words a search can start with: each name word and the whole name, the email
/// and its domain, the channel handles, the phone's digits (E.164 with and without the
/// country code) and its digits reversed ([`PHONE_END`]).
pub fn searchable_words(contact: &ListedContact) -> Vec<String> {
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
        words.push(std::iter::once(PHONE_END).chain(phone.digits().chars().rev()).collect());
    }
    words.extend(contact.handles.iter().map(|h| h.to_lowercase()));
    words.retain(|w| !w.is_empty());
    words
}

/// The kinds of index words, each filed in collections of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordKind {
    Word,
    /// Several words: a whole name.
    Phrase,
    /// A phone's digits reversed.
    PhoneEnd,
}

/// What kind of index word (or term) it is.
pub fn kind_of(word: &str) -> WordKind {
    if word.starts_with(PHONE_END) {
        WordKind::PhoneEnd
    } else if word.contains(' ') {
        WordKind::Phrase
    } else {
        WordKind::Word
    }
}

/// The collection an index word (or a term) is filed under within its kind: its first
/// characters, the marker aside.
pub fn partition_of(word: &str) -> String {
    word.trim_start_matches(PHONE_END).chars().take(MIN_QUERY).collect()
}

/// Each index word of a contact with the number of leading characters it shares with the
/// contact's word just before it among the words of its kind (phrases or single words; 0
/// for the first). Words that begin with a term are adjacent in order, so a word is the
/// first of them exactly when the term is longer than what it shares with the word before:
/// the index can tell, without the profile, which of a contact's entries lists it for a term.
pub fn index_entries(contact: &ListedContact) -> BTreeMap<String, usize> {
    let mut previous: [Option<String>; 3] = [None, None, None];
    let mut entries = BTreeMap::new();
    for word in index_words(contact) {
        let previous = &mut previous[kind_of(&word) as usize];
        let shared = previous.as_ref().map_or(0, |p| p.chars().zip(word.chars()).take_while(|(a, b)| a == b).count());
        *previous = Some(word.clone());
        entries.insert(word, shared);
    }
    entries
}

/// The distinct words a contact is indexed under (every searchable word of at least
/// [`MIN_QUERY`] characters besides the marker, cut to [`MAX_INDEXED_WORD`]): none is left out.
pub fn index_words(contact: &ListedContact) -> BTreeSet<String> {
    searchable_words(contact)
        .into_iter()
        .map(|w| w.chars().take(MAX_INDEXED_WORD).collect::<String>())
        .filter(|w| partition_of(w).chars().count() >= MIN_QUERY)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, ContactId, Email, Name, Phone};
    use crate::new_contact::NewContact;

    fn olivia() -> ListedContact {
        let mut n = NewContact::on(Channel::Frame);
        n.name = Some(Name::parse("Olivia Bennett").unwrap());
        n.email = Some(Email::parse("Olivia@LumoCo.dev").unwrap());
        n.phone = Some(Phone::parse("+1 415-555-2671", None).unwrap());
        n.into_contact(ContactId(1), chrono::Utc::now()).listed()
    }

    #[test]
    fn finds_by_any_name_word_email_domain_or_phone_digits() {
        let c = olivia();
        for q in ["oli", "OLIVIA B", "benn", "olivia@lumo", "lumoco", "415 555", "+1 415", "14155552671"] {
            assert!(SearchTerm::parse(q).unwrap().matches(&c), "{q} should match");
        }
        for q in ["bennet x", "lumox", "555 267", "2672"] {
            assert!(!SearchTerm::parse(q).unwrap().matches(&c), "{q} should not match");
        }
    }

    #[test]
    fn finds_a_phone_by_its_last_digits_and_a_handle_with_or_without_its_at() {
        let mut c = olivia();
        c.handles = vec!["Liv_B".into()];
        for q in ["2671", "555 2671", "52671", "@liv", "liv_b"] {
            assert!(SearchTerm::parse(q).unwrap().matches(&c), "{q} should match");
        }
        let end = SearchTerm::parse("2671").unwrap().phone_end().unwrap();
        assert_eq!((end.as_str(), end.kind(), end.partition().as_str()), ("~1762", WordKind::PhoneEnd, "17"));
        assert_eq!(end.listed_under(&c).as_deref(), Some("~17625555141"));
        assert_eq!(SearchTerm::parse("liv").unwrap().phone_end(), None, "only digits have an end");
        assert_eq!(SearchTerm::parse("~1762").unwrap().as_str(), "1762", "the marker is never typed");
    }

    #[test]
    fn every_match_is_listed_under_exactly_one_indexed_word() {
        let c = olivia();
        let words = index_words(&c);
        for q in ["ol", "oli", "olivia ben", "olivia bennett", "lumoco.dev", "4155552671", "1415"] {
            let term = SearchTerm::parse(q).unwrap();
            let under = term.listed_under(&c).unwrap_or_else(|| panic!("{q} not indexed"));
            assert!(words.contains(&under) && under.starts_with(&term.partition()), "{q} under {under}");
        }
        // "oli" begins the first name, the full name and the email: listed once, under the first.
        assert_eq!(SearchTerm::parse("oli").unwrap().listed_under(&c).as_deref(), Some("olivia"));
        assert_eq!(SearchTerm::parse("olivia b").unwrap().listed_under(&c).as_deref(), Some("olivia bennett"));
        assert_eq!(SearchTerm::parse("zz").unwrap().listed_under(&c), None);
    }

    #[test]
    fn the_entry_a_contact_is_listed_under_is_known_from_the_index_alone() {
        let c = olivia();
        let entries = index_entries(&c);
        for q in ["ol", "oli", "olivia", "olivia ", "olivia b", "olivia@", "lumo", "41", "4155", "1415"] {
            let term = SearchTerm::parse(q).unwrap();
            let listed: Vec<&String> = entries
                .iter()
                .filter(|(w, _)| kind_of(w) == term.kind())
                .filter(|(w, shared)| w.starts_with(&term.indexed_start()) && **shared < term.indexed_len())
                .map(|(w, _)| w)
                .collect();
            assert_eq!(listed, term.listed_under(&c).iter().collect::<Vec<_>>(), "{q}");
        }
    }

    #[test]
    fn a_whole_name_is_filed_apart_and_first_among_phrases() {
        let entries = index_entries(&olivia());
        assert_eq!(entries.get("olivia bennett"), Some(&0), "{entries:?}");
        assert_eq!(entries.get("olivia"), Some(&0));
        assert_eq!(entries.get("olivia@lumoco.dev"), Some(&6), "the email follows the first name among single words");
    }

    #[test]
    fn many_words_are_all_indexed() {
        let mut c = olivia();
        c.other_emails = (0..30).map(|i| Email::parse(&format!("alias{i}@example{i}.org")).unwrap()).collect();
        let words = index_words(&c);
        assert!(words.contains("alias29@example29.org") && words.contains("example29.org"), "{words:?}");
        assert!(SearchTerm::parse("alias29").unwrap().listed_under(&c).is_some());
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
