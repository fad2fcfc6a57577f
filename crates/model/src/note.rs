//! Notes: timestamped entries on a contact, written by people.

use crate::domain::InvalidValue;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_NOTE_CHARS: usize = 5_000;

/// Notes a contact may hold: they are read whole by the access export and the purge, so
/// an unbounded number would outgrow both. A merge may bring a contact past it; adding is
/// then refused until notes are deleted.
pub const MAX_NOTES_PER_CONTACT: u64 = 1_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub text: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

impl Note {
    pub fn new(text: &str, author: &str) -> Result<Self, InvalidValue> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
            return Err(InvalidValue::new(format!("a note needs 1 to {MAX_NOTE_CHARS} characters")));
        }
        let at = Utc::now().trunc_subsecs(0);
        let id = crate::domain::time_ordered_id("n", Utc::now(), 3);
        Ok(Note { id, text: text.to_string(), author: author.to_string(), created_at: at })
    }
}
