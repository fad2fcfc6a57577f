//! WhatsApp Cloud API webhooks: `{"object": "whatsapp_business_account", "entry":
//! [{"changes": [{"field": "messages", "value": {...}}]}]}`. Authenticate with
//! [`super::meta::verify_signature`] first.
//!
//! Each `value.messages[]` item is one event, keyed `whatsapp:msg:{id}` (the wamid), timed by
//! its `timestamp` (Unix seconds, sent as a string). Identity = `from` (the wa_id); the
//! profile name comes from the `value.contacts[]` entry with the same `wa_id`, the phone is
//! `"+" + wa_id`. When WhatsApp withholds the phone number of a user who adopted a username,
//! `from` is absent and the business-scoped user id (`from_user_id`) is the identity, with no
//! phone.
//!
//! | message type | event |
//! |---|---|
//! | `text` | `Message` "text", text = `text.body` |
//! | `image`, `video`, `audio`, `document`, `sticker` | `Message` of that type (`document`, …), text = `caption` |
//! | `location` | `Message` "location", text = name and address |
//! | `contacts` | `Message` "contact" |
//! | `interactive` | `Message` "button_reply" / "list_reply" (text = the title), "flow_reply" (text = `nfm_reply.body`) |
//! | `button` | `Message` "button", text = `button.text` |
//! | `reaction` | `Message` "reaction", text = the emoji (removing a reaction: no event) |
//! | `order` | `Message` "order", text = `order.text` |
//! | `request_welcome` | `ConversationStarted` |
//! | `unsupported`, unknown types | `Message` "unsupported" / the type name, no text |
//!
//! `user_preferences` changes with `value: "stop"` for marketing messages become `OptedOut`.
//! No event for: `statuses[]` (sent/delivered/read/failed of the business's messages),
//! `errors[]`, `system` messages (number changes), and other webhook fields
//! (`message_echoes`, `smb_message_echoes`, `history`, template and account updates, …).

use super::error::PayloadError;
use super::event::{CaptureEvent, CaptureKind, MessageRole, ProfileHints};
use super::json::{self, index, join, Obj};
use super::text;
use crate::domain::Channel;

/// Parses one WhatsApp Cloud API webhook POST into capture events, in payload order.
pub fn parse(body: &[u8]) -> Result<Vec<CaptureEvent>, PayloadError> {
    let root = json::parse_object(body, "WhatsApp webhook")?;
    super::meta::check_object(&root, "whatsapp_business_account", "WhatsApp")?;
    let entries = json::req_array(&root, "entry", "")?;
    let mut events = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let entry_path = index("entry", i);
        let entry = json::item_obj(entry, &entry_path)?;
        let changes_path = join(&entry_path, "changes");
        for (j, change) in json::req_array(entry, "changes", &entry_path)?.iter().enumerate() {
            let path = index(&changes_path, j);
            let change = json::item_obj(change, &path)?;
            let field_name = json::opt_str(change, "field", &path)?;
            let value_path = join(&path, "value");
            let value = json::req_obj(change, "value", &path)?;
            match field_name {
                Some("messages") | None => messages(value, &value_path, &mut events)?,
                Some("user_preferences") => user_preferences(value, &value_path, &mut events)?,
                Some(_) => {}
            }
        }
    }
    Ok(events)
}

/// The `contacts[]` entry describing the sender.
struct Sender<'a> {
    name: Option<&'a str>,
    username: Option<&'a str>,
}

fn find_contact<'a>(
    contacts: &'a [serde_json::Value],
    path: &str,
    wa_id: Option<&str>,
    user_id: Option<&str>,
) -> Result<Sender<'a>, PayloadError> {
    let contacts_path = join(path, "contacts");
    for (i, contact) in contacts.iter().enumerate() {
        let contact_path = index(&contacts_path, i);
        let contact = json::item_obj(contact, &contact_path)?;
        let matches = (wa_id.is_some() && json::opt_str(contact, "wa_id", &contact_path)? == wa_id)
            || (user_id.is_some() && json::opt_str(contact, "user_id", &contact_path)? == user_id);
        if matches {
            let profile_path = join(&contact_path, "profile");
            return Ok(match json::opt_obj(contact, "profile", &contact_path)? {
                Some(profile) => Sender {
                    name: json::opt_str(profile, "name", &profile_path)?,
                    username: json::opt_str(profile, "username", &profile_path)?,
                },
                None => Sender { name: None, username: None },
            });
        }
    }
    Ok(Sender { name: None, username: None })
}

fn messages(value: &Obj, path: &str, out: &mut Vec<CaptureEvent>) -> Result<(), PayloadError> {
    let contacts = json::opt_array(value, "contacts", path)?;
    let messages_path = join(path, "messages");
    for (i, message) in json::opt_array(value, "messages", path)?.iter().enumerate() {
        let message_path = index(&messages_path, i);
        let message = json::item_obj(message, &message_path)?;
        if let Some(event) = one_message(message, &message_path, contacts, path)? {
            out.push(event);
        }
    }
    // `statuses` and `errors` are about the business's own messages: nothing to capture.
    Ok(())
}

fn one_message(
    message: &Obj,
    path: &str,
    contacts: &[serde_json::Value],
    value_path: &str,
) -> Result<Option<CaptureEvent>, PayloadError> {
    let id = json::req_str(message, "id", path)?.trim();
    let message_type = json::req_str(message, "type", path)?.trim();
    let timestamp = json::req_int_or_str(message, "timestamp", path)?;
    let occurred_at = json::from_unix_seconds(timestamp, &join(path, "timestamp"))?;

    let wa_id = json::opt_str(message, "from", path)?.map(str::trim).filter(|s| !s.is_empty());
    let user_id = json::opt_str(message, "from_user_id", path)?.map(str::trim).filter(|s| !s.is_empty());
    let external_id = match (wa_id, user_id) {
        (Some(wa_id), _) => wa_id,
        (None, Some(user_id)) => user_id,
        (None, None) => return Err(PayloadError::new(format!("`{path}.from` is missing"))),
    };
    let sender = find_contact(contacts, value_path, wa_id, user_id)?;
    let profile = ProfileHints {
        name: text::clean_name(sender.name),
        username: text::clean_short(sender.username.map(|u| u.trim_start_matches('@'))),
        phone: wa_id.and_then(text::international_phone),
        ..ProfileHints::default()
    };
    let conversation_ref = text::clean_short(json::opt_str(message, "group_id", path)?);

    let part = |key: &str| -> Result<Option<&Obj>, PayloadError> { json::opt_obj(message, key, path) };
    let part_str = |obj: Option<&Obj>, key: &str, part_key: &str| -> Result<Option<String>, PayloadError> {
        match obj {
            Some(obj) => Ok(text::clean_text(json::opt_str(obj, key, &join(path, part_key))?)),
            None => Ok(None),
        }
    };

    let (kind, text): (String, Option<String>) = match message_type {
        "text" => ("text".into(), part_str(part("text")?, "body", "text")?),
        "image" | "video" | "audio" | "document" | "sticker" => {
            (message_type.into(), part_str(part(message_type)?, "caption", message_type)?)
        }
        "location" => {
            let location = part("location")?;
            let name = part_str(location, "name", "location")?;
            let address = part_str(location, "address", "location")?;
            let text = match (name, address) {
                (Some(n), Some(a)) => text::clean_text(Some(&format!("{n}\n{a}"))),
                (n, a) => n.or(a),
            };
            ("location".into(), text)
        }
        "contacts" => ("contact".into(), None),
        "interactive" => {
            let interactive_path = join(path, "interactive");
            match part("interactive")? {
                Some(interactive) => {
                    let reply_type = json::opt_str(interactive, "type", &interactive_path)?.unwrap_or("");
                    let reply = |key: &str, text_key: &str| -> Result<Option<String>, PayloadError> {
                        match json::opt_obj(interactive, key, &interactive_path)? {
                            Some(r) => Ok(text::clean_text(json::opt_str(r, text_key, &join(&interactive_path, key))?)),
                            None => Ok(None),
                        }
                    };
                    match reply_type {
                        "button_reply" => ("button_reply".into(), reply("button_reply", "title")?),
                        "list_reply" => ("list_reply".into(), reply("list_reply", "title")?),
                        "nfm_reply" => ("flow_reply".into(), reply("nfm_reply", "body")?),
                        _ => ("interactive".into(), None),
                    }
                }
                None => ("interactive".into(), None),
            }
        }
        "button" => ("button".into(), part_str(part("button")?, "text", "button")?),
        "reaction" => {
            let emoji = part_str(part("reaction")?, "emoji", "reaction")?;
            if emoji.is_none() {
                // The visitor removed a reaction.
                return Ok(None);
            }
            ("reaction".into(), emoji)
        }
        "order" => ("order".into(), part_str(part("order")?, "text", "order")?),
        "request_welcome" => {
            return Ok(Some(CaptureEvent {
                event_id: format!("whatsapp:msg:{id}"),
                channel: Channel::Whatsapp,
                external_id: external_id.to_string(),
                occurred_at,
                profile,
                kind: CaptureKind::ConversationStarted { conversation_ref },
                sequence: None,
            }))
        }
        // "user_changed_number" and similar notices: not something the visitor said.
        "system" => return Ok(None),
        other => (text::passthrough_type(other), None),
    };
    Ok(Some(CaptureEvent {
        event_id: format!("whatsapp:msg:{id}"),
        channel: Channel::Whatsapp,
        external_id: external_id.to_string(),
        occurred_at,
        profile,
        kind: CaptureKind::Message { role: MessageRole::User, text, message_type: kind, conversation_ref },
        sequence: None,
    }))
}

fn user_preferences(value: &Obj, path: &str, out: &mut Vec<CaptureEvent>) -> Result<(), PayloadError> {
    let contacts = json::opt_array(value, "contacts", path)?;
    let list_path = join(path, "user_preferences");
    for (i, pref) in json::opt_array(value, "user_preferences", path)?.iter().enumerate() {
        let pref_path = index(&list_path, i);
        let pref = json::item_obj(pref, &pref_path)?;
        let category = json::opt_str(pref, "category", &pref_path)?;
        let choice = json::opt_str(pref, "value", &pref_path)?;
        if category != Some("marketing_messages") || choice != Some("stop") {
            continue;
        }
        let wa_id = json::opt_str(pref, "wa_id", &pref_path)?.map(str::trim).filter(|s| !s.is_empty());
        let user_id = json::opt_str(pref, "user_id", &pref_path)?.map(str::trim).filter(|s| !s.is_empty());
        let Some(external_id) = wa_id.or(user_id) else {
            return Err(PayloadError::new(format!("`{pref_path}.wa_id` is missing")));
        };
        let timestamp = json::req_int_or_str(pref, "timestamp", &pref_path)?;
        let sender = find_contact(contacts, path, wa_id, user_id)?;
        out.push(CaptureEvent {
            event_id: format!("whatsapp:optout:{external_id}:{timestamp}"),
            channel: Channel::Whatsapp,
            external_id: external_id.to_string(),
            occurred_at: json::from_unix_seconds(timestamp, &join(&pref_path, "timestamp"))?,
            profile: ProfileHints {
                name: text::clean_name(sender.name),
                phone: wa_id.and_then(text::international_phone),
                ..ProfileHints::default()
            },
            kind: CaptureKind::OptedOut,
            sequence: None,
        });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    const SAMPLE: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/whatsapp-message.json");
    const TYPES: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/whatsapp-message-types.json");
    const STATUSES: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/whatsapp-statuses.json");
    const ERRORS: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/whatsapp-errors.json");
    const PREFERENCES: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/whatsapp-user-preferences.json");
    const USERNAME: &[u8] = include_bytes!("../../../../tests/fixtures/webhooks/whatsapp-username-bsuid.json");

    pub(crate) const FIXTURES: &[&[u8]] = &[SAMPLE, TYPES, STATUSES, ERRORS, PREFERENCES, USERNAME];

    fn message_parts(e: &CaptureEvent) -> (&str, Option<&str>) {
        match &e.kind {
            CaptureKind::Message { message_type, text, role, .. } => {
                assert_eq!(*role, MessageRole::User);
                (message_type.as_str(), text.as_deref())
            }
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn sample_text_message() {
        let events = parse(SAMPLE).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.event_id, "whatsapp:msg:wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDNBMjQ2RTc3QzQ4QjE5MjFFMzA1AA==");
        assert_eq!(e.channel, Channel::Whatsapp);
        assert_eq!(e.external_id, "4915112345678");
        assert_eq!(e.occurred_at, Utc.timestamp_opt(1755838949, 0).unwrap());
        assert_eq!(e.profile.name.as_deref(), Some("Mason Clark"));
        assert_eq!(e.profile.phone.as_deref(), Some("+4915112345678"));
        assert_eq!(
            e.kind,
            CaptureKind::Message {
                role: MessageRole::User,
                text: Some("Can I book a demo?".into()),
                message_type: "text".into(),
                conversation_ref: None,
            }
        );
    }

    #[test]
    fn every_message_type() {
        let events = parse(TYPES).unwrap();
        let got: Vec<(&str, Option<&str>)> =
            events.iter().filter(|e| matches!(e.kind, CaptureKind::Message { .. })).map(message_parts).collect();
        assert_eq!(
            got,
            vec![
                ("image", Some("Here is the error screen")),
                ("audio", None),
                ("video", None),
                ("document", Some("Signed contract")),
                ("sticker", None),
                ("location", Some("Acme HQ\n1 Hacker Way, Menlo Park, CA 94025")),
                ("contact", None),
                ("button_reply", Some("Yes, book it")),
                ("list_reply", Some("Enterprise plan")),
                ("flow_reply", Some("Sent")),
                ("button", Some("Stop promotions")),
                ("reaction", Some("👍")),
                ("order", Some("Please deliver after 5pm")),
                ("unsupported", None),
            ]
        );
        // request_welcome opens a conversation; a removed reaction and a system notice are
        // dropped.
        let started: Vec<&CaptureEvent> =
            events.iter().filter(|e| matches!(e.kind, CaptureKind::ConversationStarted { .. })).collect();
        assert_eq!(started.len(), 1);
        assert_eq!(started[0].event_id, "whatsapp:msg:wamid.TYPES_welcome");
        assert_eq!(events.len(), 15);
        // The second contact's name is matched by wa_id, not by position.
        let second = events.iter().find(|e| e.external_id == "5511987654321").unwrap();
        assert_eq!(second.profile.name.as_deref(), Some("Lucas Souza"));
        assert_eq!(second.profile.phone.as_deref(), Some("+5511987654321"));
    }

    #[test]
    fn statuses_and_errors_are_ignored() {
        assert_eq!(parse(STATUSES).unwrap(), vec![]);
        assert_eq!(parse(ERRORS).unwrap(), vec![]);
    }

    #[test]
    fn marketing_stop_is_an_opt_out() {
        let events = parse(PREFERENCES).unwrap();
        assert_eq!(events.len(), 1, "resume is not an event");
        let e = &events[0];
        assert_eq!(e.kind, CaptureKind::OptedOut);
        assert_eq!(e.external_id, "16505551234");
        assert_eq!(e.event_id, "whatsapp:optout:16505551234:1755840000");
        assert_eq!(e.profile.name.as_deref(), Some("Sheena Nelson"));
    }

    #[test]
    fn username_users_are_identified_by_bsuid() {
        let events = parse(USERNAME).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].external_id, "US.13491208655302741918");
        assert_eq!(events[0].profile.phone, None);
        assert_eq!(events[0].profile.username.as_deref(), Some("sheena"));
        assert_eq!(events[0].profile.name.as_deref(), Some("Sheena Nelson"));
        // With both, the phone number stays the identity.
        assert_eq!(events[1].external_id, "16505551234");
        assert_eq!(events[1].profile.phone.as_deref(), Some("+16505551234"));
    }

    #[test]
    fn group_messages_reference_the_group() {
        let mut v: serde_json::Value = serde_json::from_slice(SAMPLE).unwrap();
        v["entry"][0]["changes"][0]["value"]["messages"][0]["group_id"] = "120363025246125486".into();
        let events = parse(v.to_string().as_bytes()).unwrap();
        assert_eq!(events[0].kind.conversation_ref(), Some("120363025246125486"));
    }

    #[test]
    fn other_fields_are_ignored() {
        let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
            {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 1}},
            {"field": "smb_message_echoes", "value": {"messaging_product": "whatsapp", "message_echoes": [{"from": "1555", "to": "4915112345678", "id": "wamid.x", "timestamp": "1", "type": "text", "text": {"body": "hi"}}]}}]}]});
        assert_eq!(parse(body.to_string().as_bytes()).unwrap(), vec![]);
    }

    #[test]
    fn malformed_payloads_are_errors() {
        let cases: &[(&str, &str)] = &[
            ("", "the WhatsApp webhook body is empty"),
            ("nope", "not valid JSON"),
            (
                r#"{"object": "page", "entry": []}"#,
                "`object` must be \"whatsapp_business_account\" for WhatsApp webhooks, got \"page\"",
            ),
            (r#"{"entry": []}"#, "`object` is missing"),
            (r#"{"object": "whatsapp_business_account"}"#, "`entry` is missing"),
            (r#"{"object": "whatsapp_business_account", "entry": "x"}"#, "`entry` must be an array, got a string"),
            (r#"{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}"#, "`entry[0].changes` is missing"),
            (
                r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]}"#,
                "`entry[0].changes[0].value` is missing",
            ),
            (
                r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": {}}}]}]}"#,
                "`entry[0].changes[0].value.messages` must be an array, got an object",
            ),
            (
                r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"id": "w", "timestamp": "1", "type": "text"}]}}]}]}"#,
                "`entry[0].changes[0].value.messages[0].from` is missing",
            ),
            (
                r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"from": "1", "timestamp": "1", "type": "text"}]}}]}]}"#,
                "`entry[0].changes[0].value.messages[0].id` is missing",
            ),
            (
                r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"from": "1", "id": "w", "type": "text"}]}}]}]}"#,
                "`entry[0].changes[0].value.messages[0].timestamp` is missing",
            ),
            (
                r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"from": "1", "id": "w", "timestamp": "yesterday", "type": "text"}]}}]}]}"#,
                "`entry[0].changes[0].value.messages[0].timestamp` must be an integer",
            ),
            (
                r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"from": "1", "id": "w", "timestamp": "1"}]}}]}]}"#,
                "`entry[0].changes[0].value.messages[0].type` is missing",
            ),
            (
                r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"from": "1", "id": "w", "timestamp": "1", "type": "text", "text": {"body": 5}}]}}]}]}"#,
                "`entry[0].changes[0].value.messages[0].text.body` must be a string, got a number",
            ),
        ];
        for (body, expected) in cases {
            let err = parse(body.as_bytes()).unwrap_err();
            assert!(err.message.contains(expected), "{body} → {err}");
        }
    }
}
