//! Conversations and their messages, and how a captured event moves a contact's
//! conversations along.

use crate::channels::{CaptureKind, MessageRole};
use crate::domain::{Channel, ContactId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub contact_id: ContactId,
    pub channel: Channel,
    pub bot_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub started_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    pub status: ConversationStatus,
    pub message_count: u64,
    /// Bot and agent replies that answered a waiting visitor, and the seconds the visitor
    /// waited for them in all (kept in the live state while open, like `message_count`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub responses: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub response_seconds: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Conversation {
    /// From start to end, or to the last message while still open.
    pub fn duration(&self) -> Duration {
        self.ended_at.unwrap_or(self.last_message_at) - self.started_at
    }

    /// How long the visitor waited for a reply, on average; `None` before the first reply.
    pub fn avg_response_seconds(&self) -> Option<f64> {
        average(self.response_seconds, self.responses)
    }
}

/// `seconds / count` to a tenth; `None` when nothing was counted.
pub fn average(seconds: u64, count: u64) -> Option<f64> {
    (count > 0).then(|| (seconds as f64 / count as f64 * 10.0).round() / 10.0)
}

/// One message of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub conversation_id: String,
    pub role: MessageRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub message_type: String,
    pub occurred_at: DateTime<Utc>,
    pub event_id: String,
    /// How long the visitor waited for this reply, when it is the first answer to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_seconds: Option<i64>,
    /// The conversation's channel, so that the stream can count response times per channel
    /// (lines written before it have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
}

/// A new conversation id: time-ordered, with a random tail.
pub fn new_conversation_id(at: DateTime<Utc>) -> String {
    crate::domain::time_ordered_id("cv", at, 4)
}

/// What an event does to the contact's conversation on its channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationStep {
    /// The open conversation to close first (ended, idle, or replaced by a new one).
    pub close: Option<(OpenConversation, DateTime<Utc>)>,
    /// The conversation to open.
    pub open: Option<OpenConversation>,
    /// The conversation the event's message (if any) goes to.
    pub append_to: Option<String>,
}

/// Decides how an event moves the conversation on its channel along: a start opens a new
/// conversation (closing the one before), a message continues the open one unless it went
/// idle or the channel names another, an end closes it.
pub fn step(
    open: Option<&OpenConversation>,
    channel: Channel,
    kind: &CaptureKind,
    at: DateTime<Utc>,
    idle: Duration,
) -> ConversationStep {
    let reference = kind.conversation_ref().map(str::to_string);
    let current = open.filter(|o| at - o.last_message_at <= idle && (reference.is_none() || o.reference == reference));
    let stale = open.filter(|o| current.is_none_or(|c| c.id != o.id)).map(|o| (o.clone(), o.last_message_at));
    let fresh = || OpenConversation {
        channel,
        id: new_conversation_id(at),
        reference: reference.clone(),
        started_at: at,
        last_message_at: at,
        awaiting_reply_since: None,
        message_count: 0,
        responses: 0,
        response_seconds: 0,
    };
    match kind {
        CaptureKind::ConversationStarted { .. } => {
            let close = open.map(|o| (o.clone(), o.last_message_at));
            let opened = fresh();
            ConversationStep { close, append_to: None, open: Some(opened) }
        }
        CaptureKind::ConversationEnded { .. } => ConversationStep {
            close: current.map(|c| (c.clone(), at.max(c.last_message_at))).or(stale),
            open: None,
            append_to: None,
        },
        CaptureKind::Message { .. } | CaptureKind::ContactFormSubmitted { .. } | CaptureKind::EmailCollected { .. } => {
            match current {
                Some(c) => ConversationStep { close: None, open: None, append_to: Some(c.id.clone()) },
                None => {
                    let opened = fresh();
                    ConversationStep { close: stale, append_to: Some(opened.id.clone()), open: Some(opened) }
                }
            }
        }
        CaptureKind::OptedOut => ConversationStep { close: None, open: None, append_to: None },
    }
}

/// The transcript line an event adds, if any.
pub fn message_of(kind: &CaptureKind) -> Option<(MessageRole, Option<String>, String)> {
    match kind {
        CaptureKind::Message { role, text, message_type, .. } => Some((*role, text.clone(), message_type.clone())),
        CaptureKind::ContactFormSubmitted { message, .. } => {
            Some((MessageRole::User, message.clone(), "contact_form".to_string()))
        }
        _ => None,
    }
}

/// A conversation still open on a channel, kept on the profile so that capturing a
/// message is one read and one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenConversation {
    pub channel: Channel,
    pub id: String,
    /// The channel's own conversation id, when it has one (widget `conversation_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub started_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    /// The visitor's message still waiting for a bot or agent reply (response times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_reply_since: Option<DateTime<Utc>>,
    /// Messages so far: the header is written when the conversation opens and closes, not
    /// with every message.
    #[serde(default)]
    pub message_count: u64,
    /// Replies to a waiting visitor so far, and the seconds waited for them in all.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub responses: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub response_seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        "2025-08-22T05:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(min)
    }

    fn message(reference: Option<&str>) -> CaptureKind {
        CaptureKind::Message {
            role: MessageRole::User,
            text: Some("hi".into()),
            message_type: "text".into(),
            conversation_ref: reference.map(str::to_string),
        }
    }

    fn open(last: i64, reference: Option<&str>) -> OpenConversation {
        OpenConversation {
            channel: Channel::Frame,
            id: "cv1".into(),
            reference: reference.map(str::to_string),
            started_at: t(0),
            last_message_at: t(last),
            awaiting_reply_since: None,
            message_count: 0,
            responses: 0,
            response_seconds: 0,
        }
    }

    const IDLE: i64 = 30;

    #[test]
    fn a_first_message_opens_a_conversation() {
        let s = step(None, Channel::Frame, &message(None), t(0), Duration::minutes(IDLE));
        let opened = s.open.unwrap();
        assert_eq!(s.append_to.as_deref(), Some(opened.id.as_str()));
        assert!(s.close.is_none());
    }

    #[test]
    fn messages_continue_the_open_conversation_until_it_idles() {
        let o = open(5, None);
        let s = step(Some(&o), Channel::Frame, &message(None), t(20), Duration::minutes(IDLE));
        assert_eq!((s.append_to.as_deref(), s.open, s.close), (Some("cv1"), None, None));
        let s = step(Some(&o), Channel::Frame, &message(None), t(5 + IDLE + 1), Duration::minutes(IDLE));
        let (closed, ended) = s.close.unwrap();
        assert_eq!((closed.id.as_str(), ended), ("cv1", t(5)), "an idle conversation ends at its last message");
        assert_ne!(s.append_to.as_deref(), Some("cv1"));
    }

    #[test]
    fn another_channel_reference_starts_a_new_conversation() {
        let o = open(5, Some("widget-a"));
        let s = step(Some(&o), Channel::Frame, &message(Some("widget-b")), t(6), Duration::minutes(IDLE));
        assert_eq!(s.close.unwrap().0.id, "cv1");
        assert_eq!(s.open.unwrap().reference.as_deref(), Some("widget-b"));
        let same = step(Some(&o), Channel::Frame, &message(Some("widget-a")), t(6), Duration::minutes(IDLE));
        assert_eq!(same.append_to.as_deref(), Some("cv1"));
    }

    #[test]
    fn start_and_end_events() {
        let o = open(5, None);
        let s = step(
            Some(&o),
            Channel::Frame,
            &CaptureKind::ConversationStarted { conversation_ref: None },
            t(7),
            Duration::minutes(IDLE),
        );
        assert_eq!(s.close.unwrap().0.id, "cv1");
        assert!(s.open.is_some() && s.append_to.is_none());
        let s = step(
            Some(&o),
            Channel::Frame,
            &CaptureKind::ConversationEnded { conversation_ref: None },
            t(9),
            Duration::minutes(IDLE),
        );
        assert_eq!(s.close.unwrap(), (o.clone(), t(9)));
        assert!(s.open.is_none());
        let nothing = step(
            None,
            Channel::Frame,
            &CaptureKind::ConversationEnded { conversation_ref: None },
            t(9),
            Duration::minutes(IDLE),
        );
        assert_eq!(nothing, ConversationStep { close: None, open: None, append_to: None });
    }

    #[test]
    fn durations_run_to_the_end_or_the_last_message() {
        let mut c = Conversation {
            id: "cv1".into(),
            contact_id: ContactId(1),
            channel: Channel::Frame,
            bot_id: "b".into(),
            reference: None,
            started_at: t(0),
            last_message_at: t(4),
            ended_at: None,
            status: ConversationStatus::Open,
            message_count: 3,
            responses: 0,
            response_seconds: 0,
        };
        assert_eq!(c.duration(), Duration::minutes(4));
        c.ended_at = Some(t(5));
        assert_eq!(c.duration(), Duration::minutes(5));
        assert_eq!(c.avg_response_seconds(), None);
        (c.responses, c.response_seconds) = (3, 50);
        assert_eq!(c.avg_response_seconds(), Some(16.7));
    }
}
