//! The JSON event API of the website widget (`frame`) and of live chat (`livechat`): the
//! format is ours, so it is strict: unknown fields are rejected, so that integrators learn of
//! typos at once.
//!
//! ```json
//! {
//!   "event_id": "evt_01J5Z8M4",            // unique per bot; retries reuse it
//!   "type": "message",                     // conversation_started | message | email_collected
//!                                          // | contact_form_submitted | conversation_ended
//!   "visitor_id": "v_8f14e45f",            // the widget's visitor id
//!   "conversation_id": "c_1842",           // optional
//!   "occurred_at": "2025-08-22T05:02:29Z", // RFC 3339
//!   "visitor": {"name": "…", "email": "…", "phone": "…", "language": "en"},  // optional, each optional
//!   "role": "user", "text": "Hello"        // message: role user|bot|agent, text
//! }
//! ```
//!
//! `email_collected` takes `email`; `contact_form_submitted` takes `name`, `email`, `phone`,
//! `message` (at least one). A type's fields are rejected on other types.
//!
//! Requests are signed: `X-Contacts-Timestamp: <Unix seconds>` and
//! `X-Contacts-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>`,
//! accepted within [`REPLAY_WINDOW_SECONDS`] of the server clock either way.

use super::signature;
use super::text;
use chrono::{DateTime, Utc};
use hmac::Mac;
use serde::Deserialize;

use super::error::{AuthError, PayloadError};
use super::event::{CaptureEvent, CaptureKind, MessageRole, ProfileHints};
use crate::domain::Channel;

/// Header carrying the Unix time (seconds) the request was signed at.
pub const TIMESTAMP_HEADER: &str = "X-Contacts-Timestamp";
/// Header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Contacts-Signature";
/// How far, in seconds, a request's timestamp may be from the server clock, either way.
pub const REPLAY_WINDOW_SECONDS: i64 = 300;
/// The event types, as they appear in `type`.
pub const EVENT_TYPES: [&str; 5] =
    ["conversation_started", "message", "email_collected", "contact_form_submitted", "conversation_ended"];
/// Longest `event_id`, `visitor_id` and `conversation_id`.
pub const MAX_ID_CHARS: usize = 128;

/// `sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`: the `X-Contacts-Signature` value
/// for a body sent with `X-Contacts-Timestamp: {timestamp}`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = signature::hmac_sha256(secret.as_bytes());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", crate::hex::encode(&mac.finalize().into_bytes()))
}

/// Checks the widget's signature headers against the raw body, at time `now`.
///
/// Order of checks: headers present (401 otherwise), timestamp well-formed and within
/// [`REPLAY_WINDOW_SECONDS`] (403), signature well-formed and matching (403, constant time).
/// The timestamp is signed exactly as it appears in the header.
pub fn verify_signature(
    timestamp_header: Option<&str>,
    signature_header: Option<&str>,
    body: &[u8],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if secret.is_empty() {
        return Err(AuthError::SecretNotConfigured);
    }
    let signature = match signature_header {
        Some(s) if !s.trim().is_empty() => s,
        _ => return Err(AuthError::MissingSignature),
    };
    let timestamp = match timestamp_header {
        Some(t) if !t.trim().is_empty() => t.trim(),
        _ => return Err(AuthError::MissingTimestamp),
    };
    if timestamp.len() > 12 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::InvalidTimestamp);
    }
    let seconds: i64 = timestamp.parse().map_err(|_| AuthError::InvalidTimestamp)?;
    let skew = now.timestamp() - seconds;
    if skew.unsigned_abs() > REPLAY_WINDOW_SECONDS.unsigned_abs() {
        return Err(AuthError::StaleTimestamp { skew_seconds: skew, max_seconds: REPLAY_WINDOW_SECONDS });
    }
    let expected = signature::parse_sha256_header(signature)?;
    let mut mac = signature::hmac_sha256(secret.as_bytes());
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| AuthError::BadSignature)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    visitor_id: String,
    #[serde(default)]
    conversation_id: Option<String>,
    occurred_at: String,
    #[serde(default)]
    visitor: Option<RawVisitor>,
    #[serde(default)]
    role: Option<MessageRole>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVisitor {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

/// Parses one widget or live-chat event. `channel` must be [`Channel::Frame`] or
/// [`Channel::Livechat`] (the endpoint's path says which); the event id becomes
/// `"{channel}:evt:{event_id}"`.
pub fn parse(channel: Channel, body: &[u8]) -> Result<Vec<CaptureEvent>, PayloadError> {
    if !matches!(channel, Channel::Frame | Channel::Livechat) {
        return Err(PayloadError::new(format!(
            "widget events are accepted for the frame and livechat channels only, not {channel}"
        )));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(PayloadError::new("the widget event body is empty"));
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(PayloadError::new("the widget event body must be a JSON object"));
    }
    let raw: RawEvent =
        serde_json::from_slice(body).map_err(|e| PayloadError::new(format!("invalid widget event: {e}")))?;

    let kind_name = raw.kind.as_str();
    if !EVENT_TYPES.contains(&kind_name) {
        return Err(PayloadError::new(format!(
            "unknown event type {:?}: expected one of {}",
            text::truncate_chars(kind_name, 40),
            EVENT_TYPES.join(", ")
        )));
    }
    let event_id = check_id(&raw.event_id, "event_id")?;
    let visitor_id = check_id(&raw.visitor_id, "visitor_id")?;
    let conversation_ref = match raw.conversation_id.as_deref() {
        Some(c) => Some(check_id(c, "conversation_id")?),
        None => None,
    };
    let occurred_at =
        DateTime::parse_from_rfc3339(raw.occurred_at.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| {
            PayloadError::new(format!(
                "`occurred_at` must be an RFC 3339 timestamp such as \"2025-08-22T05:02:29Z\", got {:?}",
                text::truncate_chars(&raw.occurred_at, 40)
            ))
        })?;

    // A type's own fields are rejected on the other types.
    let allowed: &[&str] = match kind_name {
        "message" => &["role", "text"],
        "email_collected" => &["email"],
        "contact_form_submitted" => &["name", "email", "phone", "message"],
        _ => &[],
    };
    let present = [
        ("role", raw.role.is_some()),
        ("text", raw.text.is_some()),
        ("email", raw.email.is_some()),
        ("name", raw.name.is_some()),
        ("phone", raw.phone.is_some()),
        ("message", raw.message.is_some()),
    ];
    for (field, is_present) in present {
        if is_present && !allowed.contains(&field) {
            let takes = if allowed.is_empty() {
                "no fields beyond the common ones".to_string()
            } else {
                allowed.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
            };
            return Err(PayloadError::new(format!(
                "`{field}` is not allowed in a `{kind_name}` event, which takes {takes}"
            )));
        }
    }

    let profile = match raw.visitor {
        Some(v) => ProfileHints {
            name: text::clean_name(v.name.as_deref()),
            username: None,
            phone: text::clean_phone(v.phone.as_deref()).map_err(|()| {
                PayloadError::new(format!("`visitor.phone` must be at most {} characters", text::MAX_PHONE_CHARS))
            })?,
            email: match text::clean_email(v.email.as_deref()) {
                Ok(email) => email,
                Err(()) => return Err(PayloadError::new("`visitor.email` is not a valid email address")),
            },
            language: text::clean_short(v.language.as_deref()),
        },
        None => ProfileHints::default(),
    };

    let kind = match kind_name {
        "conversation_started" => CaptureKind::ConversationStarted { conversation_ref },
        "conversation_ended" => CaptureKind::ConversationEnded { conversation_ref },
        "message" => {
            let role = raw
                .role
                .ok_or_else(|| PayloadError::new("`role` is required in a `message` event: one of user, bot, agent"))?;
            let text = text::clean_text(raw.text.as_deref())
                .ok_or_else(|| PayloadError::new("`text` is required in a `message` event and must not be blank"))?;
            CaptureKind::Message { role, text: Some(text), message_type: "text".to_string(), conversation_ref }
        }
        "email_collected" => {
            let email = text::clean_email(raw.email.as_deref())
                .map_err(|()| PayloadError::new("`email` is not a valid email address"))?
                .ok_or_else(|| PayloadError::new("`email` is required in an `email_collected` event"))?;
            CaptureKind::EmailCollected { email, conversation_ref }
        }
        _ => {
            let email = text::clean_email(raw.email.as_deref())
                .map_err(|()| PayloadError::new("`email` is not a valid email address"))?;
            let name = text::clean_name(raw.name.as_deref());
            let phone = text::clean_phone(raw.phone.as_deref()).map_err(|()| {
                PayloadError::new(format!("`phone` must be at most {} characters", text::MAX_PHONE_CHARS))
            })?;
            let message = text::clean_text(raw.message.as_deref());
            if name.is_none() && email.is_none() && phone.is_none() && message.is_none() {
                return Err(PayloadError::new(
                    "a `contact_form_submitted` event needs at least one of `name`, `email`, `phone`, `message`",
                ));
            }
            CaptureKind::ContactFormSubmitted { name, email, phone, message, conversation_ref }
        }
    };

    Ok(vec![CaptureEvent {
        event_id: format!("{channel}:evt:{event_id}"),
        channel,
        external_id: visitor_id,
        occurred_at,
        profile,
        kind,
        sequence: None,
    }])
}

/// 1 to 128 printable ASCII characters, no spaces.
fn check_id(value: &str, field: &str) -> Result<String, PayloadError> {
    let ok = !value.is_empty() && value.len() <= MAX_ID_CHARS && value.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if ok {
        Ok(value.to_string())
    } else {
        Err(PayloadError::new(format!(
            "`{field}` must be 1 to {MAX_ID_CHARS} printable ASCII characters without spaces"
        )))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    const STARTED: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/frame-conversation-started.json");
    const MESSAGE: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/frame-message.json");
    const EMAIL: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/frame-email-collected.json");
    const FORM: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/frame-contact-form-submitted.json");
    const ENDED: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/frame-conversation-ended.json");
    const AGENT: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/livechat-agent-message.json");

    pub(crate) const FIXTURES: &[&[u8]] = &[STARTED, MESSAGE, EMAIL, FORM, ENDED, AGENT];

    const SECRET: &str = "whsec_9a1c5e77d2b84f0e";

    fn one(channel: Channel, body: &[u8]) -> CaptureEvent {
        let mut events = parse(channel, body).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    fn err(body: serde_json::Value) -> String {
        parse(Channel::Frame, body.to_string().as_bytes()).unwrap_err().message
    }

    fn base() -> serde_json::Value {
        serde_json::from_slice(MESSAGE).unwrap()
    }

    #[test]
    fn every_event_type() {
        let e = one(Channel::Frame, STARTED);
        assert_eq!(e.event_id, "frame:evt:evt_01J5Z8M4QK");
        assert_eq!(e.channel, Channel::Frame);
        assert_eq!(e.external_id, "v_8f14e45fceea167a");
        assert_eq!(e.occurred_at, Utc.with_ymd_and_hms(2025, 8, 22, 5, 0, 0).unwrap());
        assert_eq!(e.kind, CaptureKind::ConversationStarted { conversation_ref: Some("c_1842".into()) });
        assert_eq!(e.profile.language.as_deref(), Some("de-DE"));

        let e = one(Channel::Frame, MESSAGE);
        assert_eq!(
            e.kind,
            CaptureKind::Message {
                role: MessageRole::User,
                text: Some("Do you integrate with Shopify?".into()),
                message_type: "text".into(),
                conversation_ref: Some("c_1842".into()),
            }
        );
        // Offsets are converted to UTC.
        assert_eq!(e.occurred_at, Utc.with_ymd_and_hms(2025, 8, 22, 5, 0, 12).unwrap());

        let e = one(Channel::Frame, EMAIL);
        assert_eq!(
            e.kind,
            CaptureKind::EmailCollected {
                email: "lena.fischer@example.de".into(),
                conversation_ref: Some("c_1842".into())
            }
        );
        assert_eq!(e.profile.name.as_deref(), Some("Lena Fischer"));
        assert_eq!(e.profile.email.as_deref(), Some("lena.fischer@example.de"));

        let e = one(Channel::Frame, FORM);
        assert_eq!(
            e.kind,
            CaptureKind::ContactFormSubmitted {
                name: Some("Lena Fischer".into()),
                email: Some("lena.fischer@example.de".into()),
                phone: Some("+49 30 1234567".into()),
                message: Some("Please call me about the Enterprise plan.".into()),
                conversation_ref: Some("c_1842".into()),
            }
        );

        let e = one(Channel::Frame, ENDED);
        assert_eq!(e.kind, CaptureKind::ConversationEnded { conversation_ref: Some("c_1842".into()) });

        let e = one(Channel::Livechat, AGENT);
        assert_eq!(e.event_id, "livechat:evt:lc-20250822-000731");
        assert_eq!(e.channel, Channel::Livechat);
        assert!(matches!(e.kind, CaptureKind::Message { role: MessageRole::Agent, .. }));
        assert!(e.profile.is_empty());
    }

    #[test]
    fn bot_messages_and_minimal_events() {
        let body = serde_json::json!({"event_id": "e1", "type": "message", "visitor_id": "v1",
            "occurred_at": "2025-08-22T05:00:00Z", "role": "bot", "text": "  Hello!  "});
        let e = one(Channel::Frame, body.to_string().as_bytes());
        assert_eq!(
            e.kind,
            CaptureKind::Message {
                role: MessageRole::Bot,
                text: Some("Hello!".into()),
                message_type: "text".into(),
                conversation_ref: None
            }
        );
    }

    #[test]
    fn unknown_type_names_the_allowed_values() {
        let mut v = base();
        v["type"] = "chat_message".into();
        let message = err(v);
        assert_eq!(
            message,
            "unknown event type \"chat_message\": expected one of conversation_started, message, email_collected, contact_form_submitted, conversation_ended"
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let mut v = base();
        v["visitorId"] = "v_1".into();
        let message = err(v);
        assert!(message.starts_with("invalid widget event: unknown field `visitorId`"), "{message}");

        let mut v = base();
        v["visitor"]["nickname"] = "lf".into();
        assert!(err(v).contains("unknown field `nickname`"));
    }

    #[test]
    fn fields_of_other_types_are_rejected() {
        let mut v = base();
        v["email"] = "a@example.com".into();
        assert_eq!(err(v), "`email` is not allowed in a `message` event, which takes `role`, `text`");
        let body = serde_json::json!({"event_id": "e1", "type": "conversation_ended", "visitor_id": "v1",
            "occurred_at": "2025-08-22T05:00:00Z", "text": "bye"});
        assert_eq!(
            err(body),
            "`text` is not allowed in a `conversation_ended` event, which takes no fields beyond the common ones"
        );
    }

    #[test]
    fn invalid_values_are_explained() {
        let cases: Vec<(serde_json::Value, &str)> = vec![
            (
                {
                    let mut v = base();
                    v.as_object_mut().unwrap().remove("visitor_id");
                    v
                },
                "invalid widget event: missing field `visitor_id`",
            ),
            (
                {
                    let mut v = base();
                    v["role"] = "robot".into();
                    v
                },
                "unknown variant `robot`, expected one of `user`, `bot`, `agent`",
            ),
            (
                {
                    let mut v = base();
                    v.as_object_mut().unwrap().remove("role");
                    v
                },
                "`role` is required in a `message` event",
            ),
            (
                {
                    let mut v = base();
                    v["text"] = "   ".into();
                    v
                },
                "`text` is required in a `message` event and must not be blank",
            ),
            (
                {
                    let mut v = base();
                    v["occurred_at"] = "22/08/2025 05:00".into();
                    v
                },
                "`occurred_at` must be an RFC 3339 timestamp",
            ),
            (
                {
                    let mut v = base();
                    v["event_id"] = "has space".into();
                    v
                },
                "`event_id` must be 1 to 128 printable ASCII characters without spaces",
            ),
            (
                {
                    let mut v = base();
                    v["visitor_id"] = "".into();
                    v
                },
                "`visitor_id` must be 1 to 128",
            ),
            (
                {
                    let mut v = base();
                    v["conversation_id"] = "x".repeat(129).into();
                    v
                },
                "`conversation_id` must be 1 to 128",
            ),
            (
                {
                    let mut v = base();
                    v["visitor"]["email"] = "not-an-email".into();
                    v
                },
                "`visitor.email` is not a valid email address",
            ),
            (
                {
                    let mut v = base();
                    v["visitor_id"] = 42.into();
                    v
                },
                "invalid type: integer `42`, expected a string",
            ),
            (
                {
                    let mut v = base();
                    v["visitor"]["phone"] = "1".repeat(41).into();
                    v
                },
                "`visitor.phone` must be at most 40 characters",
            ),
            (
                serde_json::json!({"event_id": "e", "type": "contact_form_submitted", "visitor_id": "v", "occurred_at": "2025-08-22T05:00:00Z", "phone": "9".repeat(41)}),
                "`phone` must be at most 40 characters",
            ),
            (
                serde_json::json!({"event_id": "e", "type": "email_collected", "visitor_id": "v", "occurred_at": "2025-08-22T05:00:00Z"}),
                "`email` is required in an `email_collected` event",
            ),
            (
                serde_json::json!({"event_id": "e", "type": "email_collected", "visitor_id": "v", "occurred_at": "2025-08-22T05:00:00Z", "email": "lena@"}),
                "`email` is not a valid email address",
            ),
            (
                serde_json::json!({"event_id": "e", "type": "contact_form_submitted", "visitor_id": "v", "occurred_at": "2025-08-22T05:00:00Z", "name": " "}),
                "needs at least one of `name`, `email`, `phone`, `message`",
            ),
            (serde_json::json!([1]), "the widget event body must be a JSON object"),
        ];
        for (body, expected) in cases {
            let message = err(body.clone());
            assert!(message.contains(expected), "{body} → {message}");
        }
        assert_eq!(parse(Channel::Frame, b"").unwrap_err().message, "the widget event body is empty");
        assert!(parse(Channel::Frame, b"{oops").unwrap_err().message.starts_with("invalid widget event: "));
        assert_eq!(
            parse(Channel::Telegram, MESSAGE).unwrap_err().message,
            "widget events are accepted for the frame and livechat channels only, not telegram"
        );
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn signature_round_trip() {
        let ts = 1_755_838_949;
        let signature = sign(SECRET, ts, MESSAGE);
        assert_eq!(verify_signature(Some(&ts.to_string()), Some(&signature), MESSAGE, SECRET, at(ts)), Ok(()));
        // Inside the window, either way.
        for offset in [-REPLAY_WINDOW_SECONDS, -1, 1, REPLAY_WINDOW_SECONDS] {
            assert_eq!(
                verify_signature(Some(&ts.to_string()), Some(&signature), MESSAGE, SECRET, at(ts + offset)),
                Ok(()),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn signature_known_vector() {
        // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'secret'
        assert_eq!(
            sign("secret", 1_700_000_000, br#"{"a":1}"#),
            "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn replay_window() {
        let ts = 1_755_838_949;
        let signature = sign(SECRET, ts, MESSAGE);
        let header = ts.to_string();
        assert_eq!(
            verify_signature(Some(&header), Some(&signature), MESSAGE, SECRET, at(ts + REPLAY_WINDOW_SECONDS + 1)),
            Err(AuthError::StaleTimestamp { skew_seconds: 301, max_seconds: REPLAY_WINDOW_SECONDS })
        );
        assert_eq!(
            verify_signature(Some(&header), Some(&signature), MESSAGE, SECRET, at(ts - REPLAY_WINDOW_SECONDS - 1)),
            Err(AuthError::StaleTimestamp { skew_seconds: -301, max_seconds: REPLAY_WINDOW_SECONDS })
        );
        let stale = AuthError::StaleTimestamp { skew_seconds: 301, max_seconds: REPLAY_WINDOW_SECONDS };
        assert_eq!(
            stale.to_string(),
            "the request timestamp is 301 s away from the server clock; at most 300 s is accepted"
        );
    }

    #[test]
    fn signature_failures() {
        let ts = 1_755_838_949;
        let now = at(ts);
        let header = ts.to_string();
        let signature = sign(SECRET, ts, MESSAGE);
        assert_eq!(verify_signature(Some(&header), None, MESSAGE, SECRET, now), Err(AuthError::MissingSignature));
        assert_eq!(verify_signature(None, Some(&signature), MESSAGE, SECRET, now), Err(AuthError::MissingTimestamp));
        assert_eq!(
            verify_signature(Some(" "), Some(&signature), MESSAGE, SECRET, now),
            Err(AuthError::MissingTimestamp)
        );
        for bad in ["-5", "1755838949.5", "abc", "9999999999999", "+1755838949"] {
            assert_eq!(
                verify_signature(Some(bad), Some(&signature), MESSAGE, SECRET, now),
                Err(AuthError::InvalidTimestamp),
                "{bad}"
            );
        }
        assert_eq!(
            verify_signature(Some(&header), Some("sha256=00"), MESSAGE, SECRET, now),
            Err(AuthError::MalformedSignature)
        );
        // Tampered body, wrong secret, signature of another timestamp.
        let mut tampered = MESSAGE.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            verify_signature(Some(&header), Some(&signature), &tampered, SECRET, now),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_signature(Some(&header), Some(&signature), MESSAGE, "other", now),
            Err(AuthError::BadSignature)
        );
        let other_ts = sign(SECRET, ts - 1, MESSAGE);
        assert_eq!(
            verify_signature(Some(&header), Some(&other_ts), MESSAGE, SECRET, now),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_signature(Some(&header), Some(&signature), MESSAGE, "", now),
            Err(AuthError::SecretNotConfigured)
        );
    }
}
