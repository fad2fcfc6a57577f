//! Retention: what happens to contacts inactive for longer than a workspace allows.
//!
//! The policy names a threshold (12 months by default) and an action: flag for review
//! (the `inactive-review` tag), archive (lead status), or delete (a soft delete with the
//! workspace's grace period; the hourly purge removes them for good afterwards).

use crate::contact::Contact;
use crate::domain::{InvalidValue, LeadStatus, Tag};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const REVIEW_TAG: &str = "inactive-review";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    Flag,
    Archive,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    pub enabled: bool,
    pub inactive_after_days: u32,
    pub action: RetentionAction,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy { enabled: true, inactive_after_days: 365, action: RetentionAction::Flag }
    }
}

impl RetentionPolicy {
    pub fn validate(self) -> Result<Self, InvalidValue> {
        if !(30..=3650).contains(&self.inactive_after_days) {
            return Err(InvalidValue::new("inactive_after_days must be 30 to 3650"));
        }
        Ok(self)
    }
}

/// What the policy does to one inactive contact: `None` when it is already done.
pub fn apply(policy: &RetentionPolicy, contact: &Contact) -> Option<RetentionOutcome> {
    match policy.action {
        RetentionAction::Flag => {
            let tag = Tag::parse(REVIEW_TAG).expect("the review tag is valid");
            if contact.tags.contains(&tag) {
                return None;
            }
            let mut next = contact.clone();
            next.tags.insert(tag);
            Some(RetentionOutcome::Flagged(next))
        }
        RetentionAction::Archive => {
            if contact.status == LeadStatus::Archived {
                return None;
            }
            let mut next = contact.clone();
            next.status = LeadStatus::Archived;
            // A policy's decision sticks like a person's: activity alone does not undo it.
            next.status_manual = true;
            next.archived_reason = Some(crate::contact::ARCHIVED_INACTIVE.to_string());
            Some(RetentionOutcome::Archived(next))
        }
        RetentionAction::Delete => Some(RetentionOutcome::Delete),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RetentionOutcome {
    Flagged(Contact),
    Archived(Contact),
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionRun {
    pub id: String,
    pub dry_run: bool,
    pub status: RunStatus,
    pub policy: RetentionPolicy,
    /// Contacts idle since before this are in scope (fixed when the run starts).
    pub cutoff: DateTime<Utc>,
    /// An incremental run looks only at contacts last active at or after this: the cutoff
    /// of the workspace's last finished run with the same policy, which looked at the rest.
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Grows with each save of the run; a save is conditional on the one it follows, so
    /// that only one worker at a time advances a run.
    #[serde(default)]
    pub step: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// examined, flagged, archived, deleted (a dry run counts what it would do).
    pub counts: BTreeMap<String, u64>,
    /// The activity-index position after the last finished batch.
    pub checkpoint: Option<String>,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, ContactId};
    use crate::new_contact::NewContact;

    fn contact() -> Contact {
        NewContact::on(Channel::Frame).into_contact(ContactId(1), chrono::Utc::now())
    }

    #[test]
    fn actions_are_applied_once() {
        let flag = RetentionPolicy::default();
        let Some(RetentionOutcome::Flagged(flagged)) = apply(&flag, &contact()) else { panic!("flags") };
        assert!(flagged.tags.iter().any(|t| t.as_str() == REVIEW_TAG));
        assert_eq!(apply(&flag, &flagged), None, "already flagged");
        let archive = RetentionPolicy { action: RetentionAction::Archive, ..flag };
        let Some(RetentionOutcome::Archived(archived)) = apply(&archive, &contact()) else { panic!("archives") };
        assert_eq!(apply(&archive, &archived), None);
        assert!(RetentionPolicy { inactive_after_days: 5, ..flag }.validate().is_err());
    }
}
