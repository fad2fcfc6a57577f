//! Property tests: every parser that takes outside input answers what it cannot read with
//! an error that says why, and never panics. Channel payloads are the real fixtures
//! (tests/fixtures/webhooks) with values swapped for arbitrary JSON, cut short or with
//! bytes flipped, and arbitrary bytes; signature headers, typed values, list parameters
//! and cursors are arbitrary text. proptest shrinks each failure to a minimal input.

use chrono::{TimeZone, Utc};
use model::channels::{meta, telegram, whatsapp, widget};
use model::domain::{Channel, Email, Name, Phone, Region, Tag, WorkspaceId};
use model::listing::{list_parameters, CursorKey, ListRequest, Position};
use model::search::SearchTerm;
use proptest::prelude::*;
use serde_json::Value;

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_str!(concat!("../../../tests/fixtures/webhooks/", $name)))
    };
}

/// Every channel fixture; its name says which parser reads it.
const FIXTURES: [(&str, &str); 32] = [
    fixture!("frame-contact-form-submitted.json"),
    fixture!("frame-conversation-ended.json"),
    fixture!("frame-conversation-started.json"),
    fixture!("frame-email-collected.json"),
    fixture!("frame-message.json"),
    fixture!("livechat-agent-message.json"),
    fixture!("messenger-attachments.json"),
    fixture!("messenger-batch.json"),
    fixture!("messenger-delivery-read.json"),
    fixture!("messenger-echo.json"),
    fixture!("messenger-echo-inbox.json"),
    fixture!("messenger-message.json"),
    fixture!("messenger-optin-stop.json"),
    fixture!("messenger-postback.json"),
    fixture!("messenger-quick-reply-email.json"),
    fixture!("telegram-callback-query.json"),
    fixture!("telegram-channel-post.json"),
    fixture!("telegram-contact.json"),
    fixture!("telegram-edited-message.json"),
    fixture!("telegram-message-from-bot.json"),
    fixture!("telegram-message.json"),
    fixture!("telegram-my-chat-member-kicked.json"),
    fixture!("telegram-my-chat-member-unblocked.json"),
    fixture!("telegram-new-chat-members.json"),
    fixture!("telegram-photo.json"),
    fixture!("telegram-poll.json"),
    fixture!("telegram-start.json"),
    fixture!("whatsapp-errors.json"),
    fixture!("whatsapp-message-types.json"),
    fixture!("whatsapp-message.json"),
    fixture!("whatsapp-statuses.json"),
    fixture!("whatsapp-user-preferences.json"),
];

/// Parses `body` as the channel the fixture's name starts with: the events, or why not.
fn parse(fixture: &str, body: &[u8]) -> Result<usize, String> {
    let parsed = match fixture.split('-').next() {
        Some("frame") => widget::parse(Channel::Frame, body),
        Some("livechat") => widget::parse(Channel::Livechat, body),
        Some("messenger") => model::channels::messenger::parse(body, Some("1517776481860111")),
        Some("telegram") => telegram::parse_update(body),
        Some("whatsapp") => whatsapp::parse(body),
        other => panic!("no parser for {other:?}"),
    };
    parsed.map(|events| events.len()).map_err(|e| e.to_string())
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,40}".prop_map(Value::String),
        Just(Value::from(u64::MAX)),
        Just(Value::from(-1)),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every value's place in a JSON document, as JSON pointers ("" is the whole document).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, child)| pointers(child, format!("{at}/{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, child)| pointers(child, format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// A fixture with one to three of its values replaced by arbitrary JSON.
fn mutated_fixture() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    (0..FIXTURES.len(), prop::collection::vec((any::<prop::sample::Index>(), any_json()), 1..4)).prop_map(
        |(i, swaps)| {
            let (name, text) = FIXTURES[i];
            let mut doc: Value = serde_json::from_str(text).expect("fixtures are JSON");
            for (at, value) in swaps {
                let mut all = Vec::new();
                pointers(&doc, String::new(), &mut all);
                let pointer = at.get(&all).clone();
                match doc.pointer_mut(&pointer) {
                    Some(slot) => *slot = value,
                    None => doc = value,
                }
            }
            (name, serde_json::to_vec(&doc).expect("serializes"))
        },
    )
}

fn workspace() -> WorkspaceId {
    WorkspaceId::parse("acme").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn channel_payloads_with_any_values_are_read_or_refused_with_a_reason((name, body) in mutated_fixture()) {
        if let Err(reason) = parse(name, &body) {
            prop_assert!(!reason.trim().is_empty(), "{name}: an empty reason");
        }
    }

    #[test]
    fn channel_payloads_of_any_bytes_are_refused_with_a_reason(
        i in 0..FIXTURES.len(),
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        if let Err(reason) = parse(FIXTURES[i].0, &body) {
            prop_assert!(!reason.trim().is_empty());
        }
    }

    #[test]
    fn cut_or_altered_payloads_are_read_or_refused(
        i in 0..FIXTURES.len(),
        cut in any::<prop::sample::Index>(),
        flip in any::<(prop::sample::Index, u8)>(),
    ) {
        let (name, text) = FIXTURES[i];
        let mut body = text.as_bytes()[..cut.index(text.len() + 1)].to_vec();
        if !body.is_empty() {
            let at = flip.0.index(body.len());
            body[at] ^= flip.1;
        }
        if let Err(reason) = parse(name, &body) {
            prop_assert!(!reason.trim().is_empty());
        }
    }

    #[test]
    fn signature_headers_of_any_text_are_refused(
        header in "\\PC{0,120}",
        timestamp in "\\PC{0,20}",
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        prop_assert!(meta::verify_signature(Some(&header), &body, "app-secret").is_err());
        prop_assert!(telegram::verify_secret_token(Some(&header), "the-expected-token").is_err());
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        prop_assert!(widget::verify_signature(Some(&timestamp), Some(&header), &body, "widget-secret", now).is_err());
    }

    #[test]
    fn typed_values_are_read_or_refused_and_read_back_as_themselves(input in "\\PC{0,60}", region in "[A-Z]{2}") {
        let region: Option<Region> = region.parse().ok();
        if let Ok(phone) = Phone::parse(&input, region) {
            prop_assert!(Phone::parse(phone.raw(), region).is_ok(), "a kept phone reads again");
        }
        if let Ok(email) = Email::parse(&input) {
            prop_assert_eq!(Email::parse(email.as_str()).ok(), Some(email.clone()));
        }
        if let Ok(name) = Name::parse(&input) {
            prop_assert_eq!(Name::parse(name.as_str()).ok(), Some(name.clone()));
        }
        if let Ok(tag) = Tag::parse(&input) {
            prop_assert_eq!(Tag::parse(tag.as_str()).ok(), Some(tag.clone()));
        }
        let _ = SearchTerm::parse(&input);
        let _ = WorkspaceId::parse(&input);
    }

    #[test]
    fn list_parameters_of_any_value_are_read_or_refused_naming_the_field(
        pairs in prop::collection::vec(
            (prop::sample::select(list_parameters().chain(["unknown"]).collect::<Vec<_>>()), "\\PC{0,30}"),
            0..6,
        ),
    ) {
        let params: Vec<(String, String)> = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        if let Err(e) = ListRequest::parse(&workspace(), &params, Utc::now(), &CursorKey::new(b"cursor-key")) {
            prop_assert!(!e.field.is_empty() && !e.message.is_empty(), "{e:?}");
        }
    }

    #[test]
    fn forged_or_altered_cursors_are_refused(raw in "[A-Za-z0-9_-]{0,200}", flip in any::<prop::sample::Index>()) {
        let (ws, key, now) = (workspace(), CursorKey::new(b"cursor-key"), Utc::now());
        let forged = [("cursor".to_string(), raw)];
        prop_assert!(ListRequest::parse(&ws, &forged, now, &key).is_err());
        // A cursor this key sealed, with one character changed.
        let first = ListRequest::parse(&ws, &[], now, &key).unwrap();
        let position = Position::from([("pk".to_string(), "WS#acme#C#000000000001".to_string())]);
        let mut cursor = first.next_cursor(&ws, position, &key).into_bytes();
        let at = flip.index(cursor.len());
        cursor[at] = if cursor[at] == b'A' { b'B' } else { b'A' };
        let altered = [("cursor".to_string(), String::from_utf8(cursor).unwrap())];
        prop_assert!(ListRequest::parse(&ws, &altered, now, &key).is_err());
    }
}
