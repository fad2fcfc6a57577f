//! The chat channels' webhooks: parsing their real payloads into normalized
//! [`CaptureEvent`]s, and checking their signatures and tokens.
//!
//! Pure functions, no I/O: the webhook Lambda authenticates the raw request with the
//! channel's `verify_*` function, parses the raw body with the channel's `parse*` function,
//! and queues the events for the capture worker.
//!
//! | channel | authenticate | parse |
//! |---|---|---|
//! | Telegram | [`telegram::verify_secret_token`] (`X-Telegram-Bot-Api-Secret-Token`) | [`telegram::parse_update`] |
//! | Messenger | [`meta::verify_signature`] (`X-Hub-Signature-256`); GET handshake [`meta::verify_subscription`] | [`messenger::parse`] |
//! | WhatsApp | same as Messenger | [`whatsapp::parse`] |
//! | Website widget (`frame`), live chat (`livechat`) | [`widget::verify_signature`] (`X-Contacts-Timestamp`, `X-Contacts-Signature`) | [`widget::parse`] |
//!
//! Parsing never panics. Updates that are not about a person (delivery and read receipts,
//! statuses, WhatsApp echoes, messages from other bots, channel posts, polls, …) yield no
//! events (Messenger echoes are the bot's and agents' messages); a body that is not the channel's format is a [`PayloadError`] naming the
//! problem. All text is trimmed and capped (4096 characters for text, 200 for names).
//! docs/webhooks.md describes every mapping.

pub mod error;
pub mod event;
pub mod messenger;
pub mod meta;
pub mod telegram;
pub mod whatsapp;
pub mod widget;

mod json;
pub(crate) mod signature;
mod text;

pub use error::{AuthError, PayloadError};
pub use event::{CaptureEvent, CaptureKind, MessageRole, ProfileHints};
pub use text::{MAX_NAME_CHARS, MAX_TEXT_CHARS};

#[cfg(test)]
mod robustness_tests {
    //! Whatever the bytes, the parsers return `Ok` or `Err`: never a panic.

    use super::*;
    use crate::domain::Channel;
    use chrono::{TimeZone, Utc};
    use serde_json::{json, Value};
    use std::panic::{catch_unwind, AssertUnwindSafe};

    fn all_fixtures() -> Vec<&'static [u8]> {
        let mut all = Vec::new();
        all.extend_from_slice(telegram::tests::FIXTURES);
        all.extend_from_slice(messenger::tests::FIXTURES);
        all.extend_from_slice(whatsapp::tests::FIXTURES);
        all.extend_from_slice(widget::tests::FIXTURES);
        all
    }

    /// Runs every parser on `body`; fails the test with the input if any of them panics.
    fn run_all(body: &[u8]) {
        let now = Utc.with_ymd_and_hms(2025, 8, 22, 6, 0, 0).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _ = telegram::parse_update_at(body, now);
            let _ = messenger::parse(body, Some("1517776481860111"));
            let _ = whatsapp::parse(body);
            let _ = widget::parse(Channel::Frame, body);
            let _ = widget::parse(Channel::Livechat, body);
        }));
        if outcome.is_err() {
            let shown = String::from_utf8_lossy(&body[..body.len().min(2000)]).into_owned();
            panic!("a parser panicked on this input:\n{shown}");
        }
    }

    /// A small deterministic generator (64-bit LCG), so failures reproduce.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn truncated_bodies_never_panic() {
        // Every cut near the ends, every 7th byte in between (a cut body is never valid JSON,
        // so the middle only exercises the JSON reader).
        for body in all_fixtures() {
            for len in (0..=body.len()).filter(|&n| n < 300 || body.len() - n < 300 || n % 7 == 0) {
                run_all(&body[..len]);
            }
        }
    }

    #[test]
    fn garbled_bodies_never_panic() {
        let mut rng = Lcg(0x5eed);
        let noise: &[u8] = b"{}[]\",:0123456789-+.eE\\ntfu \xff\xfe\xc3\xa9\x00";
        for body in all_fixtures() {
            for _ in 0..300 {
                let mut garbled = body.to_vec();
                for _ in 0..=rng.below(4) {
                    let pos = rng.below(garbled.len());
                    match rng.below(3) {
                        0 => garbled[pos] = noise[rng.below(noise.len())],
                        1 => {
                            garbled.remove(pos);
                        }
                        _ => garbled.insert(pos, noise[rng.below(noise.len())]),
                    }
                    if garbled.is_empty() {
                        break;
                    }
                }
                run_all(&garbled);
            }
        }
    }

    /// Every node of every fixture replaced in turn by values of every other JSON type.
    #[test]
    fn structurally_mutated_bodies_never_panic() {
        let replacements = [
            Value::Null,
            json!(true),
            json!(0),
            json!(-1),
            json!(i64::MAX),
            json!(u64::MAX),
            json!(1.5e300),
            json!(""),
            json!("   "),
            json!("x"),
            json!("é🦀\u{0}"),
            json!([]),
            json!([null]),
            json!({}),
        ];
        for body in all_fixtures() {
            let root: Value = serde_json::from_slice(body).unwrap();
            let mut pointers = Vec::new();
            collect_pointers(&root, String::new(), &mut pointers);
            for pointer in &pointers {
                for replacement in &replacements {
                    let mut mutated = root.clone();
                    if let Some(slot) = mutated.pointer_mut(pointer) {
                        *slot = replacement.clone();
                    }
                    run_all(mutated.to_string().as_bytes());
                }
                // And the field removed altogether.
                let mut mutated = root.clone();
                remove_pointer(&mut mutated, pointer);
                run_all(mutated.to_string().as_bytes());
            }
        }
    }

    fn collect_pointers(v: &Value, here: String, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = format!("{here}/{}", k.replace('~', "~0").replace('/', "~1"));
                    out.push(p.clone());
                    collect_pointers(child, p, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let p = format!("{here}/{i}");
                    out.push(p.clone());
                    collect_pointers(child, p, out);
                }
            }
            _ => {}
        }
    }

    fn remove_pointer(root: &mut Value, pointer: &str) {
        let Some((parent, last)) = pointer.rsplit_once('/') else {
            return;
        };
        let key = last.replace("~1", "/").replace("~0", "~");
        match root.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.remove(&key);
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = key.parse::<usize>() {
                    if i < items.len() {
                        items.remove(i);
                    }
                }
            }
            _ => {}
        }
    }

    #[test]
    fn hostile_bodies_never_panic() {
        let deep_array = "[".repeat(100_000);
        let deep_object = "{\"a\":".repeat(100_000);
        let bodies: Vec<Vec<u8>> = vec![
            Vec::new(),
            b" \n\t".to_vec(),
            b"\xff\xfe\xfd".to_vec(),
            b"null".to_vec(),
            b"1e999".to_vec(),
            deep_array.into_bytes(),
            deep_object.into_bytes(),
            format!("{{\"update_id\": 1, \"message\": {{\"text\": \"{}\"}}}}", "a".repeat(1_000_000)).into_bytes(),
            br#"{"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"timestamp":-9223372036854775808,"message":{"mid":"m","text":"x"}}]}]}"#.to_vec(),
            br#"{"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"timestamp":"-99999999999999999","message":{"mid":"m","text":"x"}}]}]}"#.to_vec(),
            br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"from":"1","id":"w","timestamp":"9223372036854775807","type":"text"}]}}]}]}"#.to_vec(),
            br#"{"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":1},"date":-9223372036854775808,"old_chat_member":{"status":"member"},"new_chat_member":{"status":"kicked"}}}"#.to_vec(),
            br#"{"event_id":"e","type":"message","visitor_id":"v","occurred_at":"9999-99-99T99:99:99Z","role":"user","text":"x"}"#.to_vec(),
        ];
        for body in &bodies {
            run_all(body);
        }
        // The big text is capped, not refused.
        let big = format!(
            "{{\"update_id\": 1, \"message\": {{\"message_id\": 1, \"date\": 1, \"chat\": {{\"id\": 1, \"type\": \"private\"}}, \"from\": {{\"id\": 1, \"first_name\": \"A\"}}, \"text\": \"{}\"}}}}",
            "ü".repeat(100_000)
        );
        let events = telegram::parse_update_at(big.as_bytes(), Utc::now()).unwrap();
        match &events[0].kind {
            CaptureKind::Message { text, .. } => {
                assert_eq!(text.as_ref().unwrap().chars().count(), MAX_TEXT_CHARS)
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn events_serialize_for_the_queue() {
        for body in all_fixtures() {
            let now = Utc.with_ymd_and_hms(2025, 8, 22, 6, 0, 0).unwrap();
            let events = [
                telegram::parse_update_at(body, now),
                messenger::parse(body, Some("1517776481860111")),
                whatsapp::parse(body),
                widget::parse(Channel::Frame, body),
            ];
            for event in events.into_iter().flatten().flatten() {
                let json = serde_json::to_string(&event).unwrap();
                let back: CaptureEvent = serde_json::from_str(&json).unwrap();
                assert_eq!(back, event);
                assert!(!event.event_id.is_empty() && !event.external_id.is_empty());
            }
        }
    }
}
