//! The normalized capture event: what every channel adapter produces.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Channel;

/// What the capture worker needs from one channel update, channel format already stripped.
///
/// Travels as JSON on SQS, so every field is plain data and the shape is stable:
///
/// ```json
/// {"event_id":"telegram:update:730501001","channel":"telegram","external_id":"5120034411",
///  "occurred_at":"2025-08-22T05:02:29Z","profile":{"name":"Harper Mitchell","username":"harper_m","language":"en"},
///  "kind":{"type":"message","role":"user","text":"Hi!","message_type":"text","conversation_ref":"5120034411"}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureEvent {
    /// Idempotency key, stable across channel retries of the same update, e.g.
    /// "telegram:update:{update_id}", "messenger:mid:{mid}", "whatsapp:msg:{id}",
    /// "frame:evt:{event_id}". Unique within one bot: combine it with the bot id when
    /// de-duplicating across bots (Telegram update ids and widget event ids are per bot).
    pub event_id: String,
    pub channel: Channel,
    /// The visitor's identity within the channel: Telegram user id, Messenger page-scoped id
    /// (PSID), WhatsApp wa_id (or the business-scoped user id when WhatsApp withholds the
    /// phone number), widget visitor id.
    pub external_id: String,
    pub occurred_at: DateTime<Utc>,
    /// Profile facts the channel states about the visitor; all optional.
    #[serde(default)]
    pub profile: ProfileHints,
    pub kind: CaptureKind,
    /// Breaks ties between a visitor's events of the same time (Telegram and WhatsApp give
    /// whole seconds): the channel's own order when it has one (a Telegram `message_id`),
    /// else the order the event arrived in its FIFO group, which the capture worker sets
    /// from SQS's `SequenceNumber` (128 bits) on receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u128>,
}

/// How far past its receipt an event's own time may lie: clocks drift a little, and a time
/// further ahead would keep its conversation open (and its contact undeletable) until then.
pub const MAX_SECONDS_AHEAD_OF_RECEIPT: i64 = 5 * 60;

impl CaptureEvent {
    /// Brings a time the channel dated after its receipt back to at most
    /// [`MAX_SECONDS_AHEAD_OF_RECEIPT`] past it. Earlier times are kept: channels deliver late
    /// (retries, queues), and a past time closes its conversation as idle rather than
    /// holding it open.
    pub fn clamp_time(&mut self, received_at: DateTime<Utc>) {
        let latest = received_at + chrono::Duration::seconds(MAX_SECONDS_AHEAD_OF_RECEIPT);
        self.occurred_at = self.occurred_at.min(latest);
    }
}

/// Profile facts a channel states about the visitor. Text is trimmed and capped; phone
/// numbers from Telegram and WhatsApp are in international form (`+` and digits), phone
/// numbers typed into the widget are passed on as typed (the worker normalizes them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileHints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Channel handle without `@` (Telegram username, WhatsApp username).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Stated by the widget's `visitor.email` only; an email the visitor typed in the chat
    /// comes as [`CaptureKind::EmailCollected`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Language tag as the channel gives it (Telegram `language_code`, widget `language`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl ProfileHints {
    /// True when the channel stated nothing about the visitor.
    pub fn is_empty(&self) -> bool {
        self == &ProfileHints::default()
    }
}

/// What happened. Serialized with a `type` tag in snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaptureKind {
    /// The visitor opened a conversation: Telegram `/start`, a Telegram unblock, a WhatsApp
    /// `request_welcome`, a Messenger postback that carries a referral, the widget's
    /// `conversation_started`.
    ConversationStarted {
        #[serde(default)]
        conversation_ref: Option<String>,
    },
    /// A message in the conversation: the visitor's (`user`), or the bot's or an agent's
    /// (widget and live chat events, Messenger echoes, `POST /api/v1/bots/{id}/messages`).
    Message {
        role: MessageRole,
        /// Trimmed, at most 4096 characters; `None` for media without a caption, stickers, etc.
        #[serde(default)]
        text: Option<String>,
        /// Normalized kind of message: "text", "command", "image", "video", "audio",
        /// "document", "sticker", "location", "contact", "postback", "callback",
        /// "quick_reply", "button", "button_reply", "list_reply", "flow_reply", "reaction",
        /// "edited", … (see docs/webhooks.md for the full table); unknown channel types pass
        /// through as the channel names them.
        message_type: String,
        #[serde(default)]
        conversation_ref: Option<String>,
    },
    /// The visitor gave an email address (widget `email_collected`, or a Messenger email
    /// quick reply).
    EmailCollected {
        email: String,
        #[serde(default)]
        conversation_ref: Option<String>,
    },
    /// The visitor submitted the widget's contact form.
    ContactFormSubmitted {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        phone: Option<String>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        conversation_ref: Option<String>,
    },
    /// The conversation closed (widget `conversation_ended`).
    ConversationEnded {
        #[serde(default)]
        conversation_ref: Option<String>,
    },
    /// The visitor blocked the bot or unsubscribed: Telegram `my_chat_member` → `kicked`,
    /// WhatsApp `user_preferences` → `stop`, Messenger `optin` → `STOP NOTIFICATIONS`.
    /// Recorded as an opt-out.
    OptedOut,
}

impl CaptureKind {
    /// The conversation this event belongs to, where the channel names one.
    pub fn conversation_ref(&self) -> Option<&str> {
        match self {
            CaptureKind::ConversationStarted { conversation_ref }
            | CaptureKind::Message { conversation_ref, .. }
            | CaptureKind::EmailCollected { conversation_ref, .. }
            | CaptureKind::ContactFormSubmitted { conversation_ref, .. }
            | CaptureKind::ConversationEnded { conversation_ref } => conversation_ref.as_deref(),
            CaptureKind::OptedOut => None,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    /// The visitor.
    User,
    /// The AI bot.
    Bot,
    /// A human agent of the bot's owner.
    Agent,
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_after_receipt_are_clamped_and_earlier_ones_kept() {
        let received: DateTime<Utc> = "2025-08-22T05:00:00Z".parse().unwrap();
        let mut event = CaptureEvent {
            event_id: "e".into(),
            channel: Channel::Frame,
            external_id: "v".into(),
            occurred_at: "2099-01-01T00:00:00Z".parse().unwrap(),
            profile: ProfileHints::default(),
            kind: CaptureKind::ConversationStarted { conversation_ref: None },
            sequence: None,
        };
        event.clamp_time(received);
        assert_eq!(event.occurred_at, received + chrono::Duration::minutes(5));
        let earlier: DateTime<Utc> = "2025-08-01T00:00:00Z".parse().unwrap();
        event.occurred_at = earlier;
        event.clamp_time(received);
        assert_eq!(event.occurred_at, earlier);
    }

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn capture_event_round_trips_through_json() {
        let event = CaptureEvent {
            event_id: "telegram:update:1".into(),
            channel: Channel::Telegram,
            external_id: "42".into(),
            occurred_at: Utc.with_ymd_and_hms(2025, 8, 22, 5, 2, 29).unwrap(),
            profile: ProfileHints { name: Some("Ann".into()), ..Default::default() },
            kind: CaptureKind::Message {
                role: MessageRole::User,
                text: Some("hi".into()),
                message_type: "text".into(),
                conversation_ref: Some("42".into()),
            },
            sequence: None,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"]["type"], "message");
        assert_eq!(json["kind"]["role"], "user");
        assert_eq!(json["channel"], "telegram");
        assert_eq!(json["occurred_at"], "2025-08-22T05:02:29Z");
        assert_eq!(json["profile"], serde_json::json!({"name": "Ann"}));
        let back: CaptureEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);

        let opted = serde_json::to_value(CaptureKind::OptedOut).unwrap();
        assert_eq!(opted, serde_json::json!({"type": "opted_out"}));
        let kind: CaptureKind = serde_json::from_str(r#"{"type":"conversation_started"}"#).unwrap();
        assert_eq!(kind, CaptureKind::ConversationStarted { conversation_ref: None });
        assert_eq!(kind.conversation_ref(), None);
    }
}
