//! Telegram Bot API webhooks: one [Update](https://core.telegram.org/bots/api#update) per
//! POST, authenticated by the `X-Telegram-Bot-Api-Secret-Token` header that Telegram sends
//! with the `secret_token` given to `setWebhook`.
//!
//! What each update becomes:
//!
//! | update | events |
//! |---|---|
//! | `message` from a person | `Message` (role user); `/start` is preceded by `ConversationStarted` |
//! | `message.contact` of the sender themselves | `Message` "contact" with `profile.phone` |
//! | `edited_message` | `Message` with message_type "edited" and the new text or caption |
//! | `callback_query` | `Message` with message_type "callback", text = `data` |
//! | `my_chat_member` in a private chat, new status `kicked` | `OptedOut` |
//! | `my_chat_member` in a private chat, `kicked` → `member` | `ConversationStarted` |
//!
//! Everything else yields no event: updates from bots (`is_bot: true`), messages sent on
//! behalf of a chat (`sender_chat`), service messages (members joining, pins, …), channel
//! posts, polls and poll answers, inline queries, payments, reactions, chat member changes
//! in groups, join requests, boosts and business-account updates.

use super::signature;
use super::text;
use chrono::{DateTime, Utc};

use super::error::{AuthError, PayloadError};
use super::event::{CaptureEvent, CaptureKind, MessageRole, ProfileHints};
use super::json::{self, field, join, Obj};
use crate::domain::Channel;

/// The header Telegram puts the webhook's secret token in.
pub const SECRET_TOKEN_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// Checks the `X-Telegram-Bot-Api-Secret-Token` header against the bot's secret, in
/// constant time.
pub fn verify_secret_token(header: Option<&str>, expected: &str) -> Result<(), AuthError> {
    if expected.is_empty() {
        return Err(AuthError::SecretNotConfigured);
    }
    let given = match header {
        Some(h) if !h.is_empty() => h,
        _ => return Err(AuthError::MissingToken),
    };
    if signature::secrets_equal(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::BadToken)
    }
}

/// Parses one Telegram update. Callback queries carry no date of their own: they are timed
/// with the current clock (see [`parse_update_at`] for a deterministic variant).
pub fn parse_update(body: &[u8]) -> Result<Vec<CaptureEvent>, PayloadError> {
    parse_update_at(body, Utc::now())
}

/// Parses one Telegram update; `received_at` times the updates that carry no date
/// (callback queries).
pub fn parse_update_at(body: &[u8], received_at: DateTime<Utc>) -> Result<Vec<CaptureEvent>, PayloadError> {
    let update = json::parse_object(body, "Telegram update")?;
    let update_id = json::req_i64(&update, "update_id", "")?;
    let event_id = format!("telegram:update:{update_id}");

    if let Some(msg) = json::opt_obj(&update, "message", "")? {
        return message(msg, "message", &event_id, false);
    }
    if let Some(msg) = json::opt_obj(&update, "edited_message", "")? {
        return message(msg, "edited_message", &event_id, true);
    }
    if let Some(query) = json::opt_obj(&update, "callback_query", "")? {
        return callback_query(query, &event_id, received_at);
    }
    if let Some(change) = json::opt_obj(&update, "my_chat_member", "")? {
        return my_chat_member(change, &event_id);
    }
    // channel_post, edited_channel_post, inline_query, chosen_inline_result, shipping_query,
    // pre_checkout_query, poll, poll_answer, chat_member, chat_join_request, message_reaction,
    // chat_boost, business_* …: not about a visitor talking to the bot.
    Ok(Vec::new())
}

/// A Telegram user who is a person, with the profile they state.
struct Person {
    id: String,
    profile: ProfileHints,
}

/// Reads a `User`; `None` for bots.
fn person(user: &Obj, path: &str) -> Result<Option<Person>, PayloadError> {
    if json::opt_bool(user, "is_bot", path)? {
        return Ok(None);
    }
    let id = json::req_i64(user, "id", path)?;
    let profile = ProfileHints {
        name: text::full_name(json::opt_str(user, "first_name", path)?, json::opt_str(user, "last_name", path)?),
        username: text::clean_short(json::opt_str(user, "username", path)?.map(|u| u.trim_start_matches('@'))),
        language: text::clean_short(json::opt_str(user, "language_code", path)?),
        ..ProfileHints::default()
    };
    Ok(Some(Person { id: id.to_string(), profile }))
}

fn chat_id(msg: &Obj, path: &str) -> Result<(String, String), PayloadError> {
    let chat_path = join(path, "chat");
    let chat = json::req_obj(msg, "chat", path)?;
    let id = json::req_i64(chat, "id", &chat_path)?;
    let kind = json::opt_str(chat, "type", &chat_path)?.unwrap_or("private").to_string();
    Ok((id.to_string(), kind))
}

fn message(msg: &Obj, path: &str, event_id: &str, edited: bool) -> Result<Vec<CaptureEvent>, PayloadError> {
    let (chat, chat_type) = chat_id(msg, path)?;
    if chat_type == "channel" {
        return Ok(Vec::new());
    }
    // Sent on behalf of a chat (anonymous group admin, linked channel): not a person.
    if field(msg, "sender_chat").is_some() {
        return Ok(Vec::new());
    }
    let Some(from) = json::opt_obj(msg, "from", path)? else {
        return Ok(Vec::new());
    };
    let Some(mut sender) = person(from, &join(path, "from"))? else {
        return Ok(Vec::new());
    };
    let date = json::req_i64(msg, "date", path)?;
    let occurred_at = match json::opt_i64(msg, "edit_date", path)? {
        Some(edit_date) if edited => json::from_unix_seconds(edit_date, &join(path, "edit_date"))?,
        _ => json::from_unix_seconds(date, &join(path, "date"))?,
    };

    let Some((message_type, text)) = content(msg, path)? else {
        // A service message (members joining, pinned message, …) or a content kind we do not
        // know: nothing the visitor said.
        return Ok(Vec::new());
    };

    if message_type == "contact" {
        let contact_path = join(path, "contact");
        if let Some(contact) = json::opt_obj(msg, "contact", path)? {
            let owner = json::opt_i64(contact, "user_id", &contact_path)?;
            if owner.map(|id| id.to_string()) == Some(sender.id.clone()) {
                let phone = json::opt_str(contact, "phone_number", &contact_path)?;
                sender.profile.phone = phone.and_then(text::international_phone);
            }
        }
    }

    // Message ids grow within a chat, both ways: the order of messages sent in one second.
    // An edit keeps its message's id but happens later, so it goes by arrival instead.
    let sequence = match json::opt_i64(msg, "message_id", path)? {
        Some(id) if !edited => u128::try_from(id).ok(),
        _ => None,
    };
    let mut events = Vec::with_capacity(2);
    if !edited && message_type == "command" && is_start_command(text.as_deref()) {
        events.push(CaptureEvent {
            event_id: format!("{event_id}:started"),
            channel: Channel::Telegram,
            external_id: sender.id.clone(),
            occurred_at,
            profile: sender.profile.clone(),
            kind: CaptureKind::ConversationStarted { conversation_ref: Some(chat.clone()) },
            sequence,
        });
    }
    events.push(CaptureEvent {
        event_id: event_id.to_string(),
        channel: Channel::Telegram,
        external_id: sender.id,
        occurred_at,
        profile: sender.profile,
        kind: CaptureKind::Message {
            role: MessageRole::User,
            text,
            message_type: if edited { "edited".to_string() } else { message_type.to_string() },
            conversation_ref: Some(chat),
        },
        sequence,
    });
    Ok(events)
}

/// `/start`, `/start payload`, `/start@SomeBot payload`.
fn is_start_command(text: Option<&str>) -> bool {
    let Some(first) = text.and_then(|t| t.split_whitespace().next()) else {
        return false;
    };
    let command = first.split('@').next().unwrap_or(first);
    command.eq_ignore_ascii_case("/start")
}

/// The normalized message type and text of a message, or `None` for service messages.
fn content(msg: &Obj, path: &str) -> Result<Option<(&'static str, Option<String>)>, PayloadError> {
    let caption =
        || -> Result<Option<String>, PayloadError> { Ok(text::clean_text(json::opt_str(msg, "caption", path)?)) };
    if let Some(text) = json::opt_str(msg, "text", path)? {
        let kind = if text.trim_start().starts_with('/') { "command" } else { "text" };
        return Ok(Some((kind, text::clean_text(Some(text)))));
    }
    // `animation` messages also carry `document`; `venue` messages also carry `location`.
    let media: [(&str, &'static str); 8] = [
        ("animation", "animation"),
        ("photo", "image"),
        ("video", "video"),
        ("video_note", "video"),
        ("voice", "audio"),
        ("audio", "audio"),
        ("document", "document"),
        ("paid_media", "paid_media"),
    ];
    for (key, kind) in media {
        if field(msg, key).is_some() {
            return Ok(Some((kind, caption()?)));
        }
    }
    if field(msg, "sticker").is_some() {
        let emoji = match json::opt_obj(msg, "sticker", path)? {
            Some(sticker) => json::opt_str(sticker, "emoji", &join(path, "sticker"))?,
            None => None,
        };
        return Ok(Some(("sticker", text::clean_text(emoji))));
    }
    if let Some(venue) = json::opt_obj(msg, "venue", path)? {
        let venue_path = join(path, "venue");
        let title = json::opt_str(venue, "title", &venue_path)?.unwrap_or("");
        let address = json::opt_str(venue, "address", &venue_path)?.unwrap_or("");
        return Ok(Some(("location", text::clean_text(Some(&format!("{title}\n{address}"))))));
    }
    if field(msg, "location").is_some() {
        return Ok(Some(("location", None)));
    }
    if field(msg, "contact").is_some() {
        return Ok(Some(("contact", None)));
    }
    if let Some(poll) = json::opt_obj(msg, "poll", path)? {
        let question = json::opt_str(poll, "question", &join(path, "poll"))?;
        return Ok(Some(("poll", text::clean_text(question))));
    }
    if let Some(dice) = json::opt_obj(msg, "dice", path)? {
        let emoji = json::opt_str(dice, "emoji", &join(path, "dice"))?;
        return Ok(Some(("dice", text::clean_text(emoji))));
    }
    if field(msg, "game").is_some() {
        return Ok(Some(("game", None)));
    }
    if field(msg, "story").is_some() {
        return Ok(Some(("story", None)));
    }
    if let Some(data) = json::opt_obj(msg, "web_app_data", path)? {
        let text = json::opt_str(data, "data", &join(path, "web_app_data"))?;
        return Ok(Some(("web_app_data", text::clean_text(text))));
    }
    Ok(None)
}

fn callback_query(query: &Obj, event_id: &str, received_at: DateTime<Utc>) -> Result<Vec<CaptureEvent>, PayloadError> {
    let path = "callback_query";
    let from = json::req_obj(query, "from", path)?;
    let Some(sender) = person(from, "callback_query.from")? else {
        return Ok(Vec::new());
    };
    let conversation_ref = match json::opt_obj(query, "message", path)? {
        Some(msg) if field(msg, "chat").is_some() => {
            let (chat, chat_type) = chat_id(msg, "callback_query.message")?;
            if chat_type == "channel" {
                None
            } else {
                Some(chat)
            }
        }
        _ => None,
    };
    let text = match json::opt_str(query, "data", path)? {
        Some(data) => text::clean_text(Some(data)),
        None => text::clean_text(json::opt_str(query, "game_short_name", path)?),
    };
    Ok(vec![CaptureEvent {
        event_id: event_id.to_string(),
        channel: Channel::Telegram,
        external_id: sender.id,
        occurred_at: received_at,
        profile: sender.profile,
        kind: CaptureKind::Message {
            role: MessageRole::User,
            text,
            message_type: "callback".to_string(),
            conversation_ref,
        },
        sequence: None,
    }])
}

fn my_chat_member(change: &Obj, event_id: &str) -> Result<Vec<CaptureEvent>, PayloadError> {
    let path = "my_chat_member";
    let (chat, chat_type) = chat_id(change, path)?;
    if chat_type != "private" {
        // The bot was added to or removed from a group or channel: not a visitor's choice.
        return Ok(Vec::new());
    }
    let from = json::req_obj(change, "from", path)?;
    let Some(sender) = person(from, "my_chat_member.from")? else {
        return Ok(Vec::new());
    };
    let status = |key: &str| -> Result<String, PayloadError> {
        let member_path = join(path, key);
        let member = json::req_obj(change, key, path)?;
        Ok(json::req_str(member, "status", &member_path)?.to_string())
    };
    let old = status("old_chat_member")?;
    let new = status("new_chat_member")?;
    let kind = match (old.as_str(), new.as_str()) {
        (_, "kicked") => CaptureKind::OptedOut,
        ("kicked", "member") => CaptureKind::ConversationStarted { conversation_ref: Some(chat) },
        _ => return Ok(Vec::new()),
    };
    let date = json::req_i64(change, "date", path)?;
    Ok(vec![CaptureEvent {
        event_id: event_id.to_string(),
        channel: Channel::Telegram,
        external_id: sender.id,
        occurred_at: json::from_unix_seconds(date, "my_chat_member.date")?,
        profile: sender.profile,
        kind,
        sequence: None,
    }])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    const SAMPLE: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-message.json");
    const START: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-start.json");
    const EDITED: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-edited-message.json");
    const CALLBACK: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-callback-query.json");
    const BLOCKED: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-my-chat-member-kicked.json");
    const UNBLOCKED: &[u8] =
        include_bytes!("../../../../tests/fixtures/webhooks/telegram-my-chat-member-unblocked.json");
    const CONTACT: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-contact.json");
    const PHOTO: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-photo.json");
    const CHANNEL_POST: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-channel-post.json");
    const FROM_BOT: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-message-from-bot.json");
    const POLL: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-poll.json");
    const GROUP_JOIN: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/telegram-new-chat-members.json");

    pub(crate) const FIXTURES: &[&[u8]] = &[
        SAMPLE,
        START,
        EDITED,
        CALLBACK,
        BLOCKED,
        UNBLOCKED,
        CONTACT,
        PHOTO,
        CHANNEL_POST,
        FROM_BOT,
        POLL,
        GROUP_JOIN,
    ];

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 8, 22, 6, 0, 0).unwrap()
    }

    fn parse(body: &[u8]) -> Vec<CaptureEvent> {
        parse_update_at(body, now()).unwrap()
    }

    fn parse_json(v: serde_json::Value) -> Result<Vec<CaptureEvent>, PayloadError> {
        parse_update_at(v.to_string().as_bytes(), now())
    }

    #[test]
    fn sample_text_message() {
        let events = parse(SAMPLE);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.event_id, "telegram:update:730501001");
        assert_eq!(e.channel, Channel::Telegram);
        assert_eq!(e.external_id, "5120034411");
        assert_eq!(e.occurred_at, Utc.timestamp_opt(1755838949, 0).unwrap());
        assert_eq!(e.profile.name.as_deref(), Some("Harper Mitchell"));
        assert_eq!(e.profile.username.as_deref(), Some("harper_m"));
        assert_eq!(e.profile.language.as_deref(), Some("en"));
        assert_eq!(e.profile.phone, None);
        assert_eq!(e.sequence, Some(41), "the message_id orders messages of the same second");
        assert_eq!(
            e.kind,
            CaptureKind::Message {
                role: MessageRole::User,
                text: Some("Hi! What do your plans cost?".into()),
                message_type: "text".into(),
                conversation_ref: Some("5120034411".into()),
            }
        );
    }

    #[test]
    fn start_command_opens_a_conversation_and_keeps_the_payload() {
        let events = parse(START);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].event_id, "telegram:update:730501010:started");
        assert_eq!(events[0].kind, CaptureKind::ConversationStarted { conversation_ref: Some("6033120087".into()) });
        assert_eq!(events[0].profile.name.as_deref(), Some("Ava"));
        assert_eq!(events[1].event_id, "telegram:update:730501010");
        match &events[1].kind {
            CaptureKind::Message { text, message_type, .. } => {
                assert_eq!(text.as_deref(), Some("/start spring_campaign"));
                assert_eq!(message_type, "command");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(is_start_command(Some("/start@AcmeHelpBot ref")));
        assert!(!is_start_command(Some("/started")));
        assert!(!is_start_command(Some("/help")));
        assert!(!is_start_command(None));
    }

    #[test]
    fn other_commands_are_messages_only() {
        let mut v: serde_json::Value = serde_json::from_slice(SAMPLE).unwrap();
        v["message"]["text"] = "/help".into();
        let events = parse_json(v).unwrap();
        assert_eq!(events.len(), 1);
        assert!(matches!(&events[0].kind, CaptureKind::Message { message_type, .. } if message_type == "command"));
    }

    #[test]
    fn edited_message_uses_edit_date_and_new_text() {
        let events = parse(EDITED);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.event_id, "telegram:update:730501002");
        assert_eq!(e.occurred_at, Utc.timestamp_opt(1755839012, 0).unwrap());
        assert_eq!(e.sequence, None, "an edit is ordered by its arrival, not its message's id");
        match &e.kind {
            CaptureKind::Message { text, message_type, .. } => {
                assert_eq!(text.as_deref(), Some("Hi! What do your business plans cost?"));
                assert_eq!(message_type, "edited");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn callback_query_is_a_callback_message_timed_on_receipt() {
        let events = parse(CALLBACK);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.event_id, "telegram:update:730501003");
        assert_eq!(e.external_id, "5120034411");
        assert_eq!(e.occurred_at, now());
        assert_eq!(
            e.kind,
            CaptureKind::Message {
                role: MessageRole::User,
                text: Some("plan:business".into()),
                message_type: "callback".into(),
                conversation_ref: Some("5120034411".into()),
            }
        );
    }

    #[test]
    fn blocking_the_bot_is_an_opt_out_and_unblocking_restarts() {
        let events = parse(BLOCKED);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, CaptureKind::OptedOut);
        assert_eq!(events[0].external_id, "5120034411");
        assert_eq!(events[0].occurred_at, Utc.timestamp_opt(1755840000, 0).unwrap());

        let events = parse(UNBLOCKED);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, CaptureKind::ConversationStarted { conversation_ref: Some("5120034411".into()) });

        // Bot promoted in a group: nothing.
        let mut v: serde_json::Value = serde_json::from_slice(BLOCKED).unwrap();
        v["my_chat_member"]["chat"]["type"] = "supergroup".into();
        assert!(parse_json(v).unwrap().is_empty());
        // member → left in private chat: nothing either.
        let mut v: serde_json::Value = serde_json::from_slice(BLOCKED).unwrap();
        v["my_chat_member"]["new_chat_member"]["status"] = "left".into();
        assert!(parse_json(v).unwrap().is_empty());
    }

    #[test]
    fn own_contact_enriches_the_profile() {
        let events = parse(CONTACT);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].profile.phone.as_deref(), Some("+447700900123"));
        assert!(
            matches!(&events[0].kind, CaptureKind::Message { message_type, text: None, .. } if message_type == "contact")
        );

        // Someone else's contact card: a contact message, but not the visitor's phone.
        let mut v: serde_json::Value = serde_json::from_slice(CONTACT).unwrap();
        v["message"]["contact"]["user_id"] = 999.into();
        let events = parse_json(v.clone()).unwrap();
        assert_eq!(events[0].profile.phone, None);
        v["message"]["contact"].as_object_mut().unwrap().remove("user_id");
        assert_eq!(parse_json(v).unwrap()[0].profile.phone, None);
    }

    #[test]
    fn media_messages_take_their_caption() {
        let events = parse(PHOTO);
        assert_eq!(events.len(), 1);
        match &events[0].kind {
            CaptureKind::Message { text, message_type, .. } => {
                assert_eq!(message_type, "image");
                assert_eq!(text.as_deref(), Some("Is this the right cable?"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let base: serde_json::Value = serde_json::from_slice(PHOTO).unwrap();
        let cases: &[(&str, serde_json::Value, &str, Option<&str>)] = &[
            ("video", serde_json::json!({"file_id": "v"}), "video", Some("Is this the right cable?")),
            ("video_note", serde_json::json!({"file_id": "v"}), "video", Some("Is this the right cable?")),
            ("voice", serde_json::json!({"file_id": "v"}), "audio", Some("Is this the right cable?")),
            ("audio", serde_json::json!({"file_id": "a"}), "audio", Some("Is this the right cable?")),
            ("document", serde_json::json!({"file_id": "d"}), "document", Some("Is this the right cable?")),
            ("sticker", serde_json::json!({"file_id": "s", "emoji": "👍"}), "sticker", Some("👍")),
            ("location", serde_json::json!({"latitude": 1.0, "longitude": 2.0}), "location", None),
            (
                "venue",
                serde_json::json!({"location": {}, "title": "Cafe", "address": "1 Main St"}),
                "location",
                Some("Cafe\n1 Main St"),
            ),
            ("dice", serde_json::json!({"emoji": "🎲", "value": 3}), "dice", Some("🎲")),
            ("poll", serde_json::json!({"id": "p", "question": "Tea or coffee?"}), "poll", Some("Tea or coffee?")),
            ("game", serde_json::json!({"title": "g"}), "game", None),
            ("story", serde_json::json!({"id": 1}), "story", None),
            (
                "web_app_data",
                serde_json::json!({"data": "{\"size\":\"L\"}", "button_text": "Order"}),
                "web_app_data",
                Some("{\"size\":\"L\"}"),
            ),
        ];
        for (key, value, expected_type, expected_text) in cases {
            let mut v = base.clone();
            let msg = v["message"].as_object_mut().unwrap();
            msg.remove("photo");
            msg.insert((*key).to_string(), value.clone());
            let events = parse_json(v).unwrap();
            assert_eq!(events.len(), 1, "{key}");
            match &events[0].kind {
                CaptureKind::Message { text, message_type, .. } => {
                    assert_eq!(message_type, expected_type, "{key}");
                    assert_eq!(text.as_deref(), *expected_text, "{key}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        // An animation also carries `document`: it is reported as an animation.
        let mut v = base.clone();
        v["message"]["animation"] = serde_json::json!({"file_id": "a"});
        v["message"]["document"] = serde_json::json!({"file_id": "a"});
        v["message"].as_object_mut().unwrap().remove("photo");
        assert!(
            matches!(&parse_json(v).unwrap()[0].kind, CaptureKind::Message { message_type, .. } if message_type == "animation")
        );
    }

    #[test]
    fn long_text_is_capped() {
        let mut v: serde_json::Value = serde_json::from_slice(SAMPLE).unwrap();
        v["message"]["text"] = format!("  {}  ", "ж".repeat(5000)).into();
        v["message"]["from"]["first_name"] = "N".repeat(300).into();
        let events = parse_json(v).unwrap();
        match &events[0].kind {
            CaptureKind::Message { text, .. } => {
                assert_eq!(text.as_ref().unwrap().chars().count(), 4096)
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(events[0].profile.name.as_ref().unwrap().chars().count(), 200);
    }

    #[test]
    fn ignored_updates_produce_no_events() {
        for body in [CHANNEL_POST, FROM_BOT, POLL, GROUP_JOIN] {
            assert_eq!(parse(body), Vec::new(), "{}", String::from_utf8_lossy(body));
        }
        let ignored = [
            serde_json::json!({"update_id": 1, "inline_query": {"id": "1", "from": {"id": 5, "is_bot": false, "first_name": "A"}, "query": "x", "offset": ""}}),
            serde_json::json!({"update_id": 2, "poll_answer": {"poll_id": "1", "user": {"id": 5, "is_bot": false, "first_name": "A"}, "option_ids": [0]}}),
            serde_json::json!({"update_id": 3, "chat_join_request": {"chat": {"id": -100, "type": "supergroup"}, "from": {"id": 5, "is_bot": false, "first_name": "A"}, "user_chat_id": 5, "date": 1}}),
            serde_json::json!({"update_id": 4}),
            // A message posted on behalf of a channel in its discussion group.
            serde_json::json!({"update_id": 5, "message": {"message_id": 1, "date": 1, "chat": {"id": -100, "type": "supergroup"}, "from": {"id": 777000, "is_bot": false, "first_name": "Telegram"}, "sender_chat": {"id": -200, "type": "channel"}, "is_automatic_forward": true, "text": "news"}}),
            // A message without a sender.
            serde_json::json!({"update_id": 6, "message": {"message_id": 1, "date": 1, "chat": {"id": -100, "type": "channel"}, "text": "news"}}),
        ];
        for update in ignored {
            assert_eq!(parse_json(update.clone()).unwrap(), Vec::new(), "{update}");
        }
    }

    #[test]
    fn malformed_updates_are_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "the Telegram update body is empty"),
            (b"not json", "not valid JSON"),
            (b"[1,2]", "must be a JSON object, got an array"),
            (br#"{"message": {}}"#, "`update_id` is missing"),
            (br#"{"update_id": "7"}"#, "`update_id` must be an integer, got a string"),
            (br#"{"update_id": 7, "message": []}"#, "`message` must be an object, got an array"),
            (br#"{"update_id": 7, "message": {"date": 1, "from": {"id": 1, "first_name": "A"}, "text": "x"}}"#, "`message.chat` is missing"),
            (br#"{"update_id": 7, "message": {"chat": {"id": 1, "type": "private"}, "from": {"id": 1, "first_name": "A"}, "text": "x"}}"#, "`message.date` is missing"),
            (br#"{"update_id": 7, "message": {"date": 1, "chat": {"id": 1, "type": "private"}, "from": {"first_name": "A"}, "text": "x"}}"#, "`message.from.id` is missing"),
            (br#"{"update_id": 7, "message": {"date": 1, "chat": {"id": 1, "type": "private"}, "from": {"id": 1}, "text": 5}}"#, "`message.text` must be a string, got a number"),
            (br#"{"update_id": 7, "message": {"date": 99999999999999999, "chat": {"id": 1, "type": "private"}, "from": {"id": 1}, "text": "x"}}"#, "`message.date` is not a valid Unix time"),
            (br#"{"update_id": 7, "callback_query": {"id": "1", "data": "x"}}"#, "`callback_query.from` is missing"),
            (br#"{"update_id": 7, "my_chat_member": {"chat": {"id": 1, "type": "private"}, "from": {"id": 1}, "date": 1, "new_chat_member": {"status": "kicked"}}}"#, "`my_chat_member.old_chat_member` is missing"),
        ];
        for (body, expected) in cases {
            let err = parse_update_at(body, now()).unwrap_err();
            assert!(err.message.contains(expected), "{:?} → {}", String::from_utf8_lossy(body), err);
        }
    }

    #[test]
    fn secret_token() {
        assert_eq!(verify_secret_token(Some("s3cr3t-Token_1"), "s3cr3t-Token_1"), Ok(()));
        assert_eq!(verify_secret_token(Some("s3cr3t-Token_2"), "s3cr3t-Token_1"), Err(AuthError::BadToken));
        assert_eq!(verify_secret_token(Some("s3cr3t"), "s3cr3t-Token_1"), Err(AuthError::BadToken));
        assert_eq!(verify_secret_token(None, "s3cr3t-Token_1"), Err(AuthError::MissingToken));
        assert_eq!(verify_secret_token(Some(""), "s3cr3t-Token_1"), Err(AuthError::MissingToken));
        assert_eq!(verify_secret_token(Some(""), ""), Err(AuthError::SecretNotConfigured));
    }
}
