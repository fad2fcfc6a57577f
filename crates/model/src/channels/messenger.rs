//! Messenger Platform webhooks: `{"object": "page", "entry": [{"messaging": [...]}]}`, one or
//! more entries per POST, each with one or more messaging events. Authenticate with
//! [`super::meta::verify_signature`] first.
//!
//! What each messaging event becomes (identity = `sender.id`, the page-scoped id; time =
//! `timestamp`, milliseconds):
//!
//! | event | events |
//! |---|---|
//! | `message` with text | `Message` "text" (event id `messenger:mid:{mid}`) |
//! | `message` with `quick_reply` | `Message` "quick_reply", text = the tapped title; an email quick reply also yields `EmailCollected`, a phone quick reply sets `profile.phone` |
//! | `message` with attachments | `Message` "image", "video", "audio", "document" (`file`), "location", "sticker", "fallback", "template", … with the text if any |
//! | `message_edit` | `Message` "edited" with the new text |
//! | `postback` | `Message` "postback", text = `title` (else `payload`); with a `referral` it is preceded by `ConversationStarted` |
//! | `reaction` with action `react` | `Message` "reaction", text = the emoji |
//! | `optin` with `notification_messages_status: STOP NOTIFICATIONS` | `OptedOut` |
//!
//! | echo (`message.is_echo: true`, the page's own message; the visitor is `recipient.id`) | `Message` with role `bot` when its `app_id` is the bot's app (or the bot names no app), `agent` otherwise (a person answering from the Page inbox, another app) |
//!
//! No event for: deleted messages, `delivery`, `read`, `unreact`, other opt-ins, referrals
//! without a message, handover and account-linking events, people known only by `user_ref`,
//! and entries carrying `changes` (page feed) instead of `messaging`. `standby` events
//! (received while another app owns the thread) are read like `messaging` events.

use super::text;
use chrono::{DateTime, Utc};

use super::error::PayloadError;
use super::event::{CaptureEvent, CaptureKind, MessageRole, ProfileHints};
use super::json::{self, field, index, join, Obj};
use crate::domain::Channel;

/// Parses one Messenger webhook POST into capture events, in payload order. `own_app_id` is
/// the bot's Meta app: its echoes are the bot's messages, other apps' are agents'.
pub fn parse(body: &[u8], own_app_id: Option<&str>) -> Result<Vec<CaptureEvent>, PayloadError> {
    let root = json::parse_object(body, "Messenger webhook")?;
    super::meta::check_object(&root, "page", "Messenger")?;
    let entries = json::req_array(&root, "entry", "")?;
    let mut events = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let entry_path = index("entry", i);
        let entry = json::item_obj(entry, &entry_path)?;
        for key in ["messaging", "standby"] {
            let list_path = join(&entry_path, key);
            for (j, item) in json::opt_array(entry, key, &entry_path)?.iter().enumerate() {
                let path = index(&list_path, j);
                messaging_event(json::item_obj(item, &path)?, &path, own_app_id, &mut events)?;
            }
        }
    }
    Ok(events)
}

/// The person an event is about, and when it happened.
struct Origin {
    psid: String,
    timestamp: i64,
    occurred_at: DateTime<Utc>,
}

impl Origin {
    fn event(&self, event_id: String, profile: ProfileHints, kind: CaptureKind) -> CaptureEvent {
        CaptureEvent {
            event_id,
            channel: Channel::Messenger,
            external_id: self.psid.clone(),
            occurred_at: self.occurred_at,
            profile,
            kind,
            sequence: None,
        }
    }

    fn message(
        &self,
        event_id: String,
        profile: ProfileHints,
        message_type: &str,
        text: Option<String>,
    ) -> CaptureEvent {
        self.said_by(MessageRole::User, event_id, profile, message_type, text)
    }

    fn said_by(
        &self,
        role: MessageRole,
        event_id: String,
        profile: ProfileHints,
        message_type: &str,
        text: Option<String>,
    ) -> CaptureEvent {
        self.event(
            event_id,
            profile,
            CaptureKind::Message { role, text, message_type: message_type.to_string(), conversation_ref: None },
        )
    }
}

/// `sender.id` and `timestamp`; `None` when the sender has no page-scoped id (`user_ref`).
fn origin(item: &Obj, path: &str) -> Result<Option<Origin>, PayloadError> {
    party(item, path, "sender")
}

/// The visitor (`sender`, or `recipient` in an echo) and `timestamp`; `None` when the visitor
/// has no page-scoped id (`user_ref`).
fn party(item: &Obj, path: &str, member: &str) -> Result<Option<Origin>, PayloadError> {
    let sender_path = join(path, member);
    let sender = json::req_obj(item, member, path)?;
    let Some(psid) = json::opt_str(sender, "id", &sender_path)? else {
        if field(sender, "user_ref").is_some() {
            return Ok(None);
        }
        return Err(PayloadError::new(format!("`{sender_path}.id` is missing")));
    };
    let psid = psid.trim();
    if psid.is_empty() {
        return Err(PayloadError::new(format!("`{sender_path}.id` must not be empty")));
    }
    let timestamp = json::req_int_or_str(item, "timestamp", path)?;
    // Documented in milliseconds; some test tools send seconds.
    let ts_path = join(path, "timestamp");
    let occurred_at = if timestamp.unsigned_abs() < 100_000_000_000 {
        json::from_unix_seconds(timestamp, &ts_path)?
    } else {
        json::from_unix_millis(timestamp, &ts_path)?
    };
    Ok(Some(Origin { psid: psid.to_string(), timestamp, occurred_at }))
}

fn messaging_event(
    item: &Obj,
    path: &str,
    own_app_id: Option<&str>,
    out: &mut Vec<CaptureEvent>,
) -> Result<(), PayloadError> {
    if let Some(message) = json::opt_obj(item, "message", path)? {
        let message_path = join(path, "message");
        if json::opt_bool(message, "is_deleted", &message_path)? {
            return Ok(());
        }
        if json::opt_bool(message, "is_echo", &message_path)? {
            return echo(item, path, message, &message_path, own_app_id, out);
        }
        let Some(origin) = origin(item, path)? else {
            return Ok(());
        };
        return incoming_message(&origin, message, &message_path, out);
    }
    if let Some(postback) = json::opt_obj(item, "postback", path)? {
        let Some(origin) = origin(item, path)? else {
            return Ok(());
        };
        let postback_path = join(path, "postback");
        let title = text::clean_text(json::opt_str(postback, "title", &postback_path)?);
        let payload = text::clean_text(json::opt_str(postback, "payload", &postback_path)?);
        let event_id = match json::opt_str(postback, "mid", &postback_path)?.map(str::trim) {
            Some(mid) if !mid.is_empty() => format!("messenger:mid:{mid}"),
            _ => format!("messenger:postback:{}:{}", origin.psid, origin.timestamp),
        };
        if json::opt_obj(postback, "referral", &postback_path)?.is_some() {
            out.push(origin.event(
                format!("{event_id}:started"),
                ProfileHints::default(),
                CaptureKind::ConversationStarted { conversation_ref: None },
            ));
        }
        out.push(origin.message(event_id, ProfileHints::default(), "postback", title.or(payload)));
        return Ok(());
    }
    if let Some(edit) = json::opt_obj(item, "message_edit", path)? {
        let Some(origin) = origin(item, path)? else {
            return Ok(());
        };
        let edit_path = join(path, "message_edit");
        let mid = json::req_str(edit, "mid", &edit_path)?.trim();
        let num_edit = json::opt_int_or_str(edit, "num_edit", &edit_path)?.unwrap_or(0);
        let text = text::clean_text(json::opt_str(edit, "text", &edit_path)?);
        out.push(origin.message(format!("messenger:edit:{mid}:{num_edit}"), ProfileHints::default(), "edited", text));
        return Ok(());
    }
    if let Some(reaction) = json::opt_obj(item, "reaction", path)? {
        let reaction_path = join(path, "reaction");
        if json::opt_str(reaction, "action", &reaction_path)? != Some("react") {
            return Ok(());
        }
        let Some(origin) = origin(item, path)? else {
            return Ok(());
        };
        let emoji =
            json::opt_str(reaction, "emoji", &reaction_path)?.or(json::opt_str(reaction, "reaction", &reaction_path)?);
        let event_id = format!("messenger:reaction:{}:{}", origin.psid, origin.timestamp);
        out.push(origin.message(event_id, ProfileHints::default(), "reaction", text::clean_text(emoji)));
        return Ok(());
    }
    if let Some(optin) = json::opt_obj(item, "optin", path)? {
        let optin_path = join(path, "optin");
        let status = json::opt_str(optin, "notification_messages_status", &optin_path)?;
        if status.map(|s| s.trim().replace('_', " ").eq_ignore_ascii_case("STOP NOTIFICATIONS")) != Some(true) {
            return Ok(());
        }
        let Some(origin) = origin(item, path)? else {
            return Ok(());
        };
        let event_id = format!("messenger:optout:{}:{}", origin.psid, origin.timestamp);
        out.push(origin.event(event_id, ProfileHints::default(), CaptureKind::OptedOut));
        return Ok(());
    }
    // delivery, read, referral, account_linking, pass/take/request_thread_control, app_roles,
    // policy_enforcement, game_play, …: not something the visitor said.
    Ok(())
}

/// A message the page sent, echoed back: from the bot's own app it is the bot's, from any
/// other (the Page inbox, where people answer, or another app) an agent's. `metadata` is
/// the sender's own tag for its Send API call: not part of the transcript.
fn echo(
    item: &Obj,
    path: &str,
    message: &Obj,
    message_path: &str,
    own_app_id: Option<&str>,
    out: &mut Vec<CaptureEvent>,
) -> Result<(), PayloadError> {
    let Some(origin) = party(item, path, "recipient")? else {
        return Ok(());
    };
    // Meta documents `app_id` as a string and sends a number.
    let app_id = match field(message, "app_id") {
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::String(s)) => Some(s.trim().to_string()),
        None | Some(serde_json::Value::Null) => None,
        Some(_) => {
            return Err(PayloadError::new(format!("`{}` must be a number or a string", join(message_path, "app_id"))))
        }
    };
    let role = match own_app_id {
        Some(own) if app_id.as_deref() != Some(own) => MessageRole::Agent,
        _ => MessageRole::Bot,
    };
    let mid = json::req_str(message, "mid", message_path)?.trim();
    let Content { message_type, text, attachment_title } = content(message, message_path)?;
    let event_id = format!("messenger:mid:{mid}");
    out.push(origin.said_by(role, event_id, ProfileHints::default(), &message_type, text.or(attachment_title)));
    Ok(())
}

/// What a message holds: its normalized type, its text and the first attachment's title.
struct Content {
    message_type: String,
    text: Option<String>,
    attachment_title: Option<String>,
}

fn content(message: &Obj, path: &str) -> Result<Content, PayloadError> {
    let text = text::clean_text(json::opt_str(message, "text", path)?);
    let attachments = json::opt_array(message, "attachments", path)?;
    let attachments_path = join(path, "attachments");
    let mut attachment_types = Vec::with_capacity(attachments.len());
    let mut attachment_title = None;
    for (i, attachment) in attachments.iter().enumerate() {
        let attachment_path = index(&attachments_path, i);
        let attachment = json::item_obj(attachment, &attachment_path)?;
        let kind = json::opt_str(attachment, "type", &attachment_path)?.unwrap_or("fallback");
        attachment_types.push(kind.to_ascii_lowercase());
        if attachment_title.is_none() {
            attachment_title = text::clean_text(json::opt_str(attachment, "title", &attachment_path)?);
        }
    }

    let message_type = if json::opt_obj(message, "quick_reply", path)?.is_some() {
        "quick_reply".to_string()
    } else if attachment_types.iter().any(|t| t == "sticker") || field(message, "sticker_id").is_some() {
        // During Meta's sticker transition a sticker arrives as both `sticker` and `image`.
        "sticker".to_string()
    } else if let Some(first) = attachment_types.first() {
        match first.as_str() {
            "image" => "image".to_string(),
            "video" | "reel" | "ig_reel" => "video".to_string(),
            "audio" => "audio".to_string(),
            "file" => "document".to_string(),
            other => text::passthrough_type(other),
        }
    } else if text.is_some() {
        "text".to_string()
    } else if json::opt_bool(message, "is_unsupported", path)? {
        "unsupported".to_string()
    } else {
        "other".to_string()
    };
    Ok(Content { message_type, text, attachment_title })
}

fn incoming_message(
    origin: &Origin,
    message: &Obj,
    path: &str,
    out: &mut Vec<CaptureEvent>,
) -> Result<(), PayloadError> {
    let mid = json::req_str(message, "mid", path)?.trim();
    let event_id = format!("messenger:mid:{mid}");
    let Content { message_type, text, attachment_title } = content(message, path)?;
    let mut profile = ProfileHints::default();

    if let Some(quick_reply) = json::opt_obj(message, "quick_reply", path)? {
        // Quick replies of type user_email / user_phone_number post the address or number the
        // visitor confirmed, as both the text and the payload.
        let payload = json::opt_str(quick_reply, "payload", &join(path, "quick_reply"))?.map(str::trim);
        if let Some(payload) = payload.filter(|p| Some(*p) == text.as_deref()) {
            if text::looks_like_email(payload) {
                out.push(origin.event(
                    format!("{event_id}:email"),
                    ProfileHints::default(),
                    CaptureKind::EmailCollected { email: payload.to_string(), conversation_ref: None },
                ));
            } else if payload.starts_with('+') {
                profile.phone = text::international_phone(payload);
            }
        }
    }

    let text = text.or(attachment_title);
    out.push(origin.message(event_id, profile, &message_type, text));
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    const SAMPLE: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-message.json");
    const ATTACHMENTS: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-attachments.json");
    const POSTBACK: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-postback.json");
    const QUICK_REPLY: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-quick-reply-email.json");
    const ECHO: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-echo.json");
    const ECHO_INBOX: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-echo-inbox.json");
    const DELIVERY_READ: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-delivery-read.json");
    const BATCH: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-batch.json");
    const OPTOUT: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/messenger-optin-stop.json");

    pub(crate) const FIXTURES: &[&[u8]] =
        &[SAMPLE, ATTACHMENTS, POSTBACK, QUICK_REPLY, ECHO, ECHO_INBOX, DELIVERY_READ, BATCH, OPTOUT];

    fn message_parts(e: &CaptureEvent) -> (&str, Option<&str>) {
        match &e.kind {
            CaptureKind::Message { message_type, text, role, conversation_ref } => {
                assert_eq!(*role, MessageRole::User);
                assert_eq!(*conversation_ref, None);
                (message_type.as_str(), text.as_deref())
            }
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn sample_text_message() {
        let events = parse(SAMPLE, None).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.event_id, "messenger:mid:m_Qw3r7yUiOp1aSdFgHjKl");
        assert_eq!(e.channel, Channel::Messenger);
        assert_eq!(e.external_id, "6251843390017752");
        assert_eq!(e.occurred_at, Utc.timestamp_millis_opt(1755838949870).unwrap());
        assert!(e.profile.is_empty());
        assert_eq!(message_parts(e), ("text", Some("Do you offer a free trial?")));
    }

    #[test]
    fn attachments() {
        let events = parse(ATTACHMENTS, None).unwrap();
        let got: Vec<(&str, Option<&str>)> = events.iter().map(message_parts).collect();
        assert_eq!(
            got,
            vec![
                ("image", None),
                ("document", None),
                ("audio", None),
                ("video", None),
                ("location", Some("Pinned Location")),
                ("fallback", Some("Pricing – Acme")),
                ("sticker", None),
            ]
        );
        assert!(events.iter().all(|e| e.external_id == "6251843390017752"));
        assert_eq!(events[0].event_id, "messenger:mid:m_att_image_01");
    }

    #[test]
    fn postback_with_and_without_referral() {
        let events = parse(POSTBACK, None).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].event_id, "messenger:mid:m_pb_getstarted:started");
        assert_eq!(events[0].kind, CaptureKind::ConversationStarted { conversation_ref: None });
        assert_eq!(events[1].event_id, "messenger:mid:m_pb_getstarted");
        assert_eq!(message_parts(&events[1]), ("postback", Some("Get Started")));
        // No mid: keyed on sender and timestamp; no title: the payload is the text.
        assert_eq!(events[2].event_id, "messenger:postback:6251843390017752:1755839000000");
        assert_eq!(message_parts(&events[2]), ("postback", Some("PRICING_MENU")));
    }

    #[test]
    fn email_quick_reply_is_collected() {
        let events = parse(QUICK_REPLY, None).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(
            events[0].kind,
            CaptureKind::EmailCollected { email: "harper.mitchell@example.com".into(), conversation_ref: None }
        );
        assert_eq!(events[0].event_id, "messenger:mid:m_qr_email:email");
        assert_eq!(message_parts(&events[1]), ("quick_reply", Some("harper.mitchell@example.com")));
        assert_eq!(message_parts(&events[2]), ("quick_reply", Some("+1 650 555 0143")));
        assert_eq!(events[2].profile.phone.as_deref(), Some("+16505550143"));
    }

    #[test]
    fn plain_quick_reply_collects_nothing() {
        let body = serde_json::json!({"object": "page", "entry": [{"id": "1", "time": 1, "messaging": [
            {"sender": {"id": "42"}, "recipient": {"id": "1"}, "timestamp": 1755839000000i64,
             "message": {"mid": "m_1", "text": "Red", "quick_reply": {"payload": "COLOR_RED"}}}]}]});
        let events = parse(body.to_string().as_bytes(), None).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(message_parts(&events[0]), ("quick_reply", Some("Red")));
        assert!(events[0].profile.is_empty());
    }

    /// The bot's app, as the fixtures' echoes name it.
    const APP: Option<&str> = Some("1517776481860111");

    fn said(e: &CaptureEvent) -> (MessageRole, &str, Option<&str>) {
        match &e.kind {
            CaptureKind::Message { role, message_type, text, conversation_ref: None } => {
                (*role, message_type.as_str(), text.as_deref())
            }
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn echoes_of_the_bots_app_are_bot_messages_to_the_recipient() {
        for app in [APP, None] {
            let events = parse(ECHO, app).unwrap();
            assert_eq!(events.len(), 1);
            let e = &events[0];
            assert_eq!(e.event_id, "messenger:mid:m_echo_A1b2C3");
            assert_eq!(e.external_id, "6251843390017752", "the visitor is the echo's recipient, not the page");
            assert_eq!(e.occurred_at, Utc.timestamp_millis_opt(1755838951800).unwrap());
            assert!(e.profile.is_empty());
            // `metadata` is the sender's own tag: not part of the transcript.
            assert_eq!(said(e), (MessageRole::Bot, "text", Some("Yes! Every plan starts with a 14-day free trial.")));
        }
    }

    #[test]
    fn echoes_of_other_apps_are_agent_messages() {
        let events = parse(ECHO_INBOX, APP).unwrap();
        // The third echo went to a `user_ref` (checkbox plugin guest): no visitor to attach it to.
        assert_eq!(events.len(), 2);
        assert_eq!(
            said(&events[0]),
            (MessageRole::Agent, "text", Some("Hi, this is Sam from Acme: I can set the trial up for you."))
        );
        // `app_id` as a string, in `standby` (another app owns the thread), an attachment.
        assert_eq!(events[1].event_id, "messenger:mid:m_echo_inbox_G7h8I9");
        assert_eq!(said(&events[1]), (MessageRole::Agent, "image", None));
        assert!(events.iter().all(|e| e.external_id == "6251843390017752"));
        // A bot that names no app takes every echo as its own.
        let unnamed = parse(ECHO_INBOX, None).unwrap();
        assert!(unnamed.iter().all(|e| said(e).0 == MessageRole::Bot));
        // The bot's own echo in a batch, between the visitor's messages.
        let batch = parse(BATCH, APP).unwrap();
        let echo = batch.iter().find(|e| e.event_id == "messenger:mid:m_reply_11").unwrap();
        assert_eq!(echo.external_id, "7044120938812345");
        assert_eq!(said(echo), (MessageRole::Bot, "text", Some("Glad you like it!")));
    }

    #[test]
    fn deliveries_reads_and_deleted_messages_are_ignored() {
        assert_eq!(parse(DELIVERY_READ, None).unwrap(), vec![]);
        let deleted = serde_json::json!({"object": "page", "entry": [{"messaging": [
            {"sender": {"id": "1"}, "recipient": {"id": "2"}, "timestamp": 1755839000000i64,
             "message": {"mid": "m_d", "is_deleted": true}}]}]});
        assert_eq!(parse(deleted.to_string().as_bytes(), None).unwrap(), vec![]);
    }

    #[test]
    fn batches_keep_order_and_skip_noise() {
        let events = parse(BATCH, None).unwrap();
        let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "messenger:mid:m_batch_1",
                "messenger:edit:m_batch_1:1",
                "messenger:reaction:7044120938812345:1755839103000",
                "messenger:mid:m_reply_11",
                "messenger:mid:m_batch_standby",
                "messenger:mid:m_batch_2",
            ]
        );
        assert_eq!(events[0].external_id, "6251843390017752");
        assert_eq!(events[5].external_id, "7044120938812345");
        assert_eq!(message_parts(&events[1]), ("edited", Some("Do you ship to Canada?")));
        assert_eq!(message_parts(&events[2]), ("reaction", Some("❤")));
    }

    #[test]
    fn stop_notifications_is_an_opt_out() {
        let events = parse(OPTOUT, None).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, CaptureKind::OptedOut);
        assert_eq!(events[0].event_id, "messenger:optout:6251843390017752:1755840000000");
    }

    #[test]
    fn seconds_timestamps_and_user_ref_senders() {
        let body = serde_json::json!({"object": "page", "entry": [{"messaging": [
            {"sender": {"id": "42"}, "timestamp": "1527459824", "postback": {"title": "Hi", "payload": "P"}},
            {"sender": {"user_ref": "guest-1"}, "timestamp": 1755839000000i64, "message": {"mid": "m_g", "text": "hi"}}]}]});
        let events = parse(body.to_string().as_bytes(), None).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].occurred_at, Utc.timestamp_opt(1527459824, 0).unwrap());
    }

    #[test]
    fn malformed_payloads_are_errors() {
        let cases: &[(&str, &str)] = &[
            ("", "the Messenger webhook body is empty"),
            ("{", "not valid JSON"),
            ("\"page\"", "must be a JSON object, got a string"),
            (r#"{"entry": []}"#, "`object` is missing"),
            (
                r#"{"object": "instagram", "entry": []}"#,
                "`object` must be \"page\" for Messenger webhooks, got \"instagram\"",
            ),
            (r#"{"object": "page"}"#, "`entry` is missing"),
            (r#"{"object": "page", "entry": {}}"#, "`entry` must be an array, got an object"),
            (r#"{"object": "page", "entry": [5]}"#, "`entry[0]` must be an object, got a number"),
            (
                r#"{"object": "page", "entry": [{"messaging": "x"}]}"#,
                "`entry[0].messaging` must be an array, got a string",
            ),
            (
                r#"{"object": "page", "entry": [{"messaging": [{"timestamp": 1, "message": {"mid": "m", "text": "x"}}]}]}"#,
                "`entry[0].messaging[0].sender` is missing",
            ),
            (
                r#"{"object": "page", "entry": [{"messaging": [{"sender": {}, "timestamp": 1, "message": {"mid": "m"}}]}]}"#,
                "`entry[0].messaging[0].sender.id` is missing",
            ),
            (
                r#"{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "message": {"mid": "m"}}]}]}"#,
                "`entry[0].messaging[0].timestamp` is missing",
            ),
            (
                r#"{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": "soon", "message": {"mid": "m"}}]}]}"#,
                "`entry[0].messaging[0].timestamp` must be an integer",
            ),
            (
                r#"{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": 1, "message": {"text": "x"}}]}]}"#,
                "`entry[0].messaging[0].message.mid` is missing",
            ),
            (
                r#"{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": 1, "message": {"mid": "m", "attachments": [7]}}]}]}"#,
                "`entry[0].messaging[0].message.attachments[0]` must be an object",
            ),
        ];
        for (body, expected) in cases {
            let err = parse(body.as_bytes(), None).unwrap_err();
            assert!(err.message.contains(expected), "{body} → {err}");
        }
    }
}
