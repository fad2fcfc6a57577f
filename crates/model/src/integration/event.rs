//! The changes an integration hears of, and the body a webhook receives for each.

use crate::domain::ContactId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "contact.created")]
    Created,
    #[serde(rename = "contact.updated")]
    Updated,
    #[serde(rename = "contact.merged")]
    Merged,
    #[serde(rename = "contact.deleted")]
    Deleted,
    #[serde(rename = "contact.erased")]
    Erased,
    #[serde(rename = "conversation.closed")]
    ConversationClosed,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::Created,
        EventKind::Updated,
        EventKind::Merged,
        EventKind::Deleted,
        EventKind::Erased,
        EventKind::ConversationClosed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "contact.created",
            EventKind::Updated => "contact.updated",
            EventKind::Merged => "contact.merged",
            EventKind::Deleted => "contact.deleted",
            EventKind::Erased => "contact.erased",
            EventKind::ConversationClosed => "conversation.closed",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A change to one contact, as the table's stream told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContactEvent {
    Created,
    /// `fields`: the names of the profile fields that changed.
    Updated {
        fields: Vec<String>,
    },
    /// Merged away into `survivor`.
    Merged {
        survivor: ContactId,
    },
    Deleted,
    /// The vendor's ids for it are all the sync keeps: the event carries none of its data.
    Erased,
    ConversationClosed {
        conversation: String,
    },
}

impl ContactEvent {
    pub fn kind(&self) -> EventKind {
        match self {
            ContactEvent::Created => EventKind::Created,
            ContactEvent::Updated { .. } => EventKind::Updated,
            ContactEvent::Merged { .. } => EventKind::Merged,
            ContactEvent::Deleted => EventKind::Deleted,
            ContactEvent::Erased => EventKind::Erased,
            ContactEvent::ConversationClosed { .. } => EventKind::ConversationClosed,
        }
    }

    /// Whether the contact leaves the vendor (its record there is archived or deleted).
    pub fn removes(&self) -> bool {
        matches!(self, ContactEvent::Merged { .. } | ContactEvent::Deleted | ContactEvent::Erased)
    }
}

/// A webhook's body: `type`, `timestamp` and `data`, the shape Standard Webhooks recommends.
/// `contact` is the contact's API representation where the event has one (created,
/// updated); deletions, merges and erasures carry ids only.
pub fn webhook_body(
    contact: ContactId,
    event: &ContactEvent,
    occurred_at: DateTime<Utc>,
    representation: Option<Value>,
) -> Value {
    let mut data = json!({ "contact_id": contact.0 });
    match event {
        ContactEvent::Created => data["contact"] = representation.unwrap_or(Value::Null),
        ContactEvent::Updated { fields } => {
            data["changed"] = json!(fields);
            data["contact"] = representation.unwrap_or(Value::Null);
        }
        ContactEvent::Merged { survivor } => data["survivor_id"] = json!(survivor.0),
        ContactEvent::Deleted | ContactEvent::Erased => {}
        ContactEvent::ConversationClosed { conversation } => data["conversation_id"] = json!(conversation),
    }
    json!({
        "type": event.kind().as_str(),
        "timestamp": crate::listing::api_time(occurred_at),
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erasure_carries_ids_only() {
        let at = "2026-11-29T10:00:00Z".parse().unwrap();
        let body = webhook_body(ContactId(7), &ContactEvent::Erased, at, Some(json!({"email": "a@b.c"})));
        assert_eq!(
            body,
            json!({"type": "contact.erased", "timestamp": "2026-11-29T10:00:00Z", "data": {"contact_id": 7}})
        );
    }

    #[test]
    fn kinds_read_back_from_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
    }
}
