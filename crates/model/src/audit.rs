//! The audit log: every change a person or a key makes, as who, what, when, on which ids
//! and which fields, never the values (they are personal data; the contacts hold them).

use crate::domain::WorkspaceId;
use chrono::{DateTime, Utc};

/// Entries are kept this long by default (DynamoDB's TTL removes them after).
pub const DEFAULT_RETENTION_DAYS: i64 = 365;
/// Field names an entry keeps, at most (a bulk body could name many).
pub const MAX_FIELDS: usize = 30;
/// Target ids an entry keeps, at most.
pub const MAX_TARGETS: usize = 10;

/// Who made a change: a person (by id, with the name they had then), an API key (by name),
/// or one of the service's scheduled jobs (by name, e.g. `retention`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditActor {
    Person { id: String, name: String },
    Key { name: String },
    Job { name: String },
}

impl AuditActor {
    /// The id an entry is filtered by: a person's `usr_…`, `key:<name>` or `job:<name>`.
    pub fn id(&self) -> String {
        match self {
            AuditActor::Person { id, .. } => id.clone(),
            AuditActor::Key { name } => format!("key:{name}"),
            AuditActor::Job { name } => format!("job:{name}"),
        }
    }

    /// The actor an entry's id and name are read back as.
    pub fn from_id(id: &str, name: String) -> AuditActor {
        if let Some(key) = id.strip_prefix("key:") {
            AuditActor::Key { name: key.to_string() }
        } else if let Some(job) = id.strip_prefix("job:") {
            AuditActor::Job { name: job.to_string() }
        } else {
            AuditActor::Person { id: id.to_string(), name }
        }
    }

    pub fn name(&self) -> &str {
        match self {
            AuditActor::Person { name, .. } | AuditActor::Key { name } | AuditActor::Job { name } => name,
        }
    }

    /// What kind of actor it is: `person`, `key` or `job`.
    pub fn kind(&self) -> &'static str {
        match self {
            AuditActor::Person { .. } => "person",
            AuditActor::Key { .. } => "key",
            AuditActor::Job { .. } => "job",
        }
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    pub workspace_id: WorkspaceId,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    /// The route that made it, e.g. `PATCH /api/v1/contacts/{id}` or `POST /team/invite`.
    pub action: String,
    /// The ids in the route's path (a contact, a person, a key…).
    pub targets: Vec<String>,
    /// The names of the fields sent (never their values).
    pub fields: Vec<String>,
    /// The answer's status.
    pub status: u16,
}

impl AuditEntry {
    /// A new entry; targets and fields are capped, fields sorted and deduplicated.
    pub fn new(
        ws: &WorkspaceId,
        at: DateTime<Utc>,
        actor: AuditActor,
        action: String,
        mut targets: Vec<String>,
        mut fields: Vec<String>,
        status: u16,
    ) -> Self {
        targets.truncate(MAX_TARGETS);
        fields.sort();
        fields.dedup();
        fields.truncate(MAX_FIELDS);
        AuditEntry { id: crate::hex::random(6), workspace_id: ws.clone(), at, actor, action, targets, fields, status }
    }
}

/// What a reader of the log asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// An actor's id (`usr_…` or `key:<name>`).
    pub actor: Option<String>,
    /// Part of the action (e.g. `contacts`, `DELETE`).
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// The listing's name for its cursors: a cursor from another filter is refused.
    pub fn scope(&self) -> String {
        format!(
            "audit?actor={}&action={}&from={:?}&to={:?}",
            self.actor.as_deref().unwrap_or(""),
            self.action.as_deref().unwrap_or(""),
            self.from,
            self.to
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_field_names_sorted_and_capped() {
        let ws = WorkspaceId::parse("acme").unwrap();
        let fields = (0..40).map(|i| format!("f{i:02}")).chain(["f00".to_string()]).collect();
        let e = AuditEntry::new(&ws, Utc::now(), AuditActor::Key { name: "k".into() }, "x".into(), vec![], fields, 200);
        assert_eq!(e.fields.len(), MAX_FIELDS);
        assert_eq!(e.fields[0], "f00");
        assert_eq!(e.fields[1], "f01");
        assert_eq!(e.actor.id(), "key:k");
        let job = AuditActor::Job { name: "retention".into() };
        assert_eq!(AuditActor::from_id(&job.id(), job.name().to_string()), job);
        assert_eq!(AuditActor::from_id("key:k", "k".into()), e.actor);
    }

    #[test]
    fn cursors_belong_to_their_filter() {
        let a = AuditFilter { actor: Some("usr_1".into()), ..Default::default() };
        assert_ne!(a.scope(), AuditFilter::default().scope());
    }
}
