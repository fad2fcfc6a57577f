//! Capture end to end: real-format channel payloads with real signatures posted to the
//! local webhooks, queued on the emulator's FIFO queue, applied by the capture worker,
//! and read back through the API.

use aws_sdk_dynamodb::types::AttributeValue;
use contacts_tests::{count, eventually, spawn_app, spawn_app_with, QueueDepth, Reply, TestApp};
use model::channels::{meta, widget, CaptureEvent, CaptureKind, MessageRole, ProfileHints};
use model::domain::Channel;
use model::usecases::capture::{capture, CaptureSettings, Captured};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;

const SECRET: &str = "test-channel-secret-1";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/webhooks/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

async fn bot(app: &TestApp, extra: Value) -> String {
    let meta = json!({"app_secret": SECRET, "verify_token": SECRET});
    let mut body = json!({
        "name": "Sales bot", "email_collect": true, "contact_form": true,
        "channels": {"telegram": {"secret_token": SECRET}, "messenger": meta, "whatsapp": meta, "frame": {"signing_secret": SECRET}, "livechat": {"signing_secret": SECRET}}
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    app.create_bot(body).await
}

async fn post(app: &TestApp, path: &str, body: &[u8], headers: &[(&str, String)]) -> Reply {
    let mut req = app.http.post(app.url(path)).header("content-type", "application/json").body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let raw = r.text().await.unwrap();
    Reply { status, headers, body: serde_json::from_str(&raw).unwrap_or(Value::Null), raw }
}

async fn telegram(app: &TestApp, bot: &str, body: &[u8]) -> Reply {
    post(app, &format!("/webhooks/telegram/{bot}"), body, &[("x-telegram-bot-api-secret-token", SECRET.into())]).await
}

async fn meta_post(app: &TestApp, channel: &str, bot: &str, body: &[u8]) -> Reply {
    post(app, &format!("/webhooks/{channel}/{bot}"), body, &[("x-hub-signature-256", meta::sign(SECRET, body))]).await
}

async fn widget_post(app: &TestApp, channel: &str, bot: &str, event: Value) -> Reply {
    let body = serde_json::to_vec(&event).unwrap();
    let now = chrono::Utc::now().timestamp();
    let headers =
        [("x-contacts-timestamp", now.to_string()), ("x-contacts-signature", widget::sign(SECRET, now, &body))];
    post(app, &format!("/webhooks/{channel}/{bot}"), &body, &headers).await
}

async fn conversations(app: &TestApp, id: u64) -> Vec<Value> {
    app.get(&format!("/api/v1/contacts/{id}/conversations")).await.body["conversations"].as_array().unwrap().clone()
}

async fn transcript(app: &TestApp, conversation: &str) -> Value {
    let r = app.get(&format!("/api/v1/conversations/{conversation}/messages")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn a_telegram_message_becomes_a_contact_with_its_conversation() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let r = telegram(&app, &bot, &fixture("telegram-message.json")).await;
    assert_eq!((r.status.as_u16(), r.body["queued"].as_u64()), (200, Some(1)), "{}", r.body);

    let list =
        eventually("one telegram contact", async || app.list("channel=telegram").await.body, |l| count(l) == 1).await;
    let c = &list["contacts"][0];
    assert_eq!(c["name"], "Harper Mitchell");
    let id = c["id"].as_u64().unwrap();
    let detail = app.get(&format!("/api/v1/contacts/{id}")).await.body;
    assert_eq!(detail["identities"][0]["external_id"], "5120034411");
    assert_eq!(detail["identities"][0]["username"], "harper_m");
    assert_eq!(detail["provenance"]["name"]["source"], "telegram");

    let convs = conversations(&app, id).await;
    assert_eq!(convs.len(), 1);
    assert_eq!((convs[0]["status"].as_str(), convs[0]["message_count"].as_u64()), (Some("open"), Some(1)));
    let t = transcript(&app, convs[0]["id"].as_str().unwrap()).await;
    assert_eq!(t["messages"][0]["text"], "Hi! What do your plans cost?");
    assert_eq!(t["messages"][0]["role"], "user");
    assert_eq!(t["messages"][0]["sent_at"], "2025-08-22T05:02:29Z");
}

#[tokio::test]
async fn retried_deliveries_change_nothing_twice() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let body = fixture("telegram-message.json");
    for _ in 0..3 {
        assert_eq!(telegram(&app, &bot, &body).await.status, 200);
    }
    // Every delivery has been handled (none left to apply a second time) once the queue is empty.
    app.drained("CaptureQueue").await;
    let list = app.list("").await.body;
    assert_eq!(count(&list), 1);
    let id = list["contacts"][0]["id"].as_u64().unwrap();
    let convs = conversations(&app, id).await;
    assert_eq!((convs.len(), convs[0]["message_count"].as_u64()), (1, Some(1)));
    assert_eq!(app.list("").await.body["total"], 1);
}

#[tokio::test]
async fn webhook_credentials_are_checked_before_anything_is_queued() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let body = fixture("telegram-message.json");
    post(&app, &format!("/webhooks/telegram/{bot}"), &body, &[]).await.problem(403);
    post(
        &app,
        &format!("/webhooks/telegram/{bot}"),
        &body,
        &[("x-telegram-bot-api-secret-token", "wrong-secret".into())],
    )
    .await
    .problem(403);
    let wa = fixture("whatsapp-message.json");
    post(&app, &format!("/webhooks/whatsapp/{bot}"), &wa, &[]).await.problem(403);
    post(
        &app,
        &format!("/webhooks/whatsapp/{bot}"),
        &wa,
        &[("x-hub-signature-256", meta::sign("another-secret", &wa))],
    )
    .await
    .problem(403);
    let mut tampered = wa.clone();
    tampered.extend_from_slice(b" ");
    post(&app, &format!("/webhooks/whatsapp/{bot}"), &tampered, &[("x-hub-signature-256", meta::sign(SECRET, &wa))])
        .await
        .problem(403);
    let event = serde_json::to_vec(&json!({"event_id": "e1", "type": "conversation_started", "visitor_id": "v1", "occurred_at": "2025-08-22T05:00:00Z"})).unwrap();
    let stale = chrono::Utc::now().timestamp() - 3600;
    let headers =
        [("x-contacts-timestamp", stale.to_string()), ("x-contacts-signature", widget::sign(SECRET, stale, &event))];
    post(&app, &format!("/webhooks/frame/{bot}"), &event, &headers).await.problem(403);

    assert_eq!(app.queue_depth("CaptureQueue").await, QueueDepth::default(), "nothing was queued");
    assert_eq!(app.list("").await.body["total"], 0);
}

#[tokio::test]
async fn bad_webhook_requests_get_clear_answers() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let r = telegram(&app, &bot, b"{\"update_id\": ").await;
    r.problem(400);
    let r = telegram(&app, "acme.aaaaaaaaaa", &fixture("telegram-message.json")).await;
    r.problem(403);
    telegram(&app, "not-a-bot", &fixture("telegram-message.json")).await.problem(400);
    let big = vec![b' '; 1024 * 1024 + 1];
    telegram(&app, &bot, &big).await.problem(413);
    let r = widget_post(
        &app,
        "frame",
        &bot,
        json!({"event_id": "e1", "type": "typing", "visitor_id": "v1", "occurred_at": "2025-08-22T05:00:00Z"}),
    )
    .await;
    assert!(r.problem(400)["detail"].as_str().unwrap().contains("conversation_started"), "{}", r.body);
}

#[tokio::test]
async fn meta_handshakes_answer_the_challenge_only_with_the_verify_token() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    for channel in ["messenger", "whatsapp"] {
        let ok = app
            .http
            .get(app.url(&format!(
                "/webhooks/{channel}/{bot}?hub.mode=subscribe&hub.verify_token={SECRET}&hub.challenge=1158201444"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.text().await.unwrap(), "1158201444");
        let bad = app
            .http
            .get(
                app.url(&format!("/webhooks/{channel}/{bot}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 403);
    }
}

#[tokio::test]
async fn whatsapp_messages_give_name_and_phone_and_statuses_give_nothing() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let r = meta_post(&app, "whatsapp", &bot, &fixture("whatsapp-statuses.json")).await;
    assert_eq!((r.status.as_u16(), r.body["queued"].as_u64()), (200, Some(0)));
    assert_eq!(meta_post(&app, "whatsapp", &bot, &fixture("whatsapp-message.json")).await.status, 200);
    let list =
        eventually("one whatsapp contact", async || app.list("channel=whatsapp").await.body, |l| count(l) == 1).await;
    let c = &list["contacts"][0];
    assert_eq!((c["name"].as_str(), c["phone_e164"].as_str()), (Some("Mason Clark"), Some("+4915112345678")));
    assert_eq!(app.list("").await.body["total"], 1, "statuses created no contact");
}

#[tokio::test]
async fn the_website_widget_builds_a_full_conversation() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let base = |id: &str, kind: &str, at: &str| json!({"event_id": id, "type": kind, "visitor_id": "v_olivia", "conversation_id": "c_1", "occurred_at": at});
    let mut events = vec![base("e1", "conversation_started", "2025-08-22T05:02:29Z")];
    let mut m = base("e2", "message", "2025-08-22T05:02:40Z");
    m["role"] = json!("user");
    m["text"] = json!("Hi, what does the Pro plan cost?");
    events.push(m);
    let mut b = base("e3", "message", "2025-08-22T05:02:43Z");
    b["role"] = json!("bot");
    b["text"] = json!("Pro is 49 € a month. May I have your email?");
    events.push(b);
    let mut e = base("e4", "email_collected", "2025-08-22T05:03:10Z");
    e["email"] = json!("Olivia@LumoCo.dev");
    events.push(e);
    let mut f = base("e5", "contact_form_submitted", "2025-08-22T05:05:00Z");
    f["name"] = json!("Olivia Bennett");
    f["phone"] = json!("+1 415 555 2671");
    f["message"] = json!("Please call me about enterprise options");
    events.push(f);
    events.push(base("e6", "conversation_ended", "2025-08-22T05:07:29Z"));
    for event in events {
        let r = widget_post(&app, "frame", &bot, event).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let list = eventually(
        "the widget contact with a phone",
        async || app.list("channel=frame").await.body,
        |l| count(l) == 1 && l["contacts"][0]["phone"].is_string(),
    )
    .await;
    let c = &list["contacts"][0];
    assert_eq!(
        (c["name"].as_str(), c["email"].as_str(), c["phone_e164"].as_str()),
        (Some("Olivia Bennett"), Some("Olivia@lumoco.dev"), Some("+14155552671"))
    );
    assert_eq!(c["created_at"], "2025-08-22T05:02:29Z", "first contact is the first event's time");
    let id = c["id"].as_u64().unwrap();
    let convs =
        eventually("the conversation closed", async || conversations(&app, id).await, |c| c[0]["status"] == "closed")
            .await;
    assert_eq!(convs.len(), 1);
    let conv = &convs[0];
    assert_eq!((conv["message_count"].as_u64(), conv["duration_seconds"].as_i64()), (Some(3), Some(300)));
    assert_eq!(conv["ended_at"], "2025-08-22T05:07:29Z");
    let t = transcript(&app, conv["id"].as_str().unwrap()).await;
    let roles: Vec<&str> = t["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "bot", "user"]);
    assert_eq!(t["messages"][2]["type"], "contact_form");
}

#[tokio::test]
async fn switched_off_email_collection_adds_no_email() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({"email_collect": false, "contact_form": false})).await;
    let ev = |id: &str, kind: &str| json!({"event_id": id, "type": kind, "visitor_id": "v1", "occurred_at": "2025-08-22T05:00:00Z"});
    let mut email = ev("e1", "email_collected");
    email["email"] = json!("nobody@example.com");
    widget_post(&app, "livechat", &bot, ev("e0", "conversation_started")).await;
    widget_post(&app, "livechat", &bot, email).await;
    let mut form = ev("e2", "contact_form_submitted");
    form["name"] = json!("Form Name");
    widget_post(&app, "livechat", &bot, form).await;
    let mut hello = ev("e3", "message");
    hello["role"] = json!("user");
    hello["text"] = json!("hello");
    widget_post(&app, "livechat", &bot, hello).await;
    let list = eventually("one captured contact", async || app.list("").await.body, |l| count(l) == 1).await;
    let id = list["contacts"][0]["id"].as_u64().unwrap();
    eventually("the message counted", async || conversations(&app, id).await, |c| c[0]["message_count"] == 1).await;
    let c = app.get(&format!("/api/v1/contacts/{id}")).await.body;
    assert_eq!((c["email"].clone(), c["name"].clone()), (Value::Null, Value::Null));
}

#[tokio::test]
async fn a_new_identity_with_a_known_email_is_a_duplicate_candidate_not_a_merge() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let existing = app.create(json!({"channel": "frame", "email": "lena@example.de"})).await;
    let mut e = json!({"event_id": "e1", "type": "email_collected", "visitor_id": "v_livechat", "occurred_at": "2025-08-22T05:00:00Z"});
    e["email"] = json!("LENA@example.de");
    widget_post(&app, "livechat", &bot, e).await;
    let list =
        eventually("one livechat contact", async || app.list("channel=livechat").await.body, |l| count(l) == 1).await;
    let new_id = list["contacts"][0]["id"].as_u64().unwrap();
    assert_eq!(list["contacts"][0]["email"], Value::Null, "the email stays with its contact");
    let ws = &app.workspace;
    // The contact is written first, the duplicate records with the event's capture right after.
    let expected = vec![(model::domain::ContactId(existing), "same email".to_string())];
    let read = async || app.stack.store.duplicate_candidates(ws, model::domain::ContactId(new_id)).await.unwrap();
    let dups = eventually("the duplicate records", read, |d| d == &expected).await;
    assert_eq!(dups, expected);
    let back = app.stack.store.duplicate_candidates(ws, model::domain::ContactId(existing)).await.unwrap();
    assert_eq!(back, vec![(model::domain::ContactId(new_id), "same email".to_string())]);
}

#[tokio::test]
async fn concurrent_first_messages_of_one_visitor_create_one_contact() {
    let app = spawn_app().await;
    let id = bot(&app, json!({})).await;
    let bot = app.stack.store.get_bot(&model::bot::BotId::parse(&id).unwrap()).await.unwrap().unwrap();
    let settings = CaptureSettings { idle: chrono::Duration::minutes(30) };
    let event = |n: u32| CaptureEvent {
        event_id: format!("telegram:update:{n}"),
        channel: Channel::Telegram,
        external_id: "777".into(),
        occurred_at: chrono::Utc::now(),
        profile: ProfileHints { name: Some("Twin Visitor".into()), ..Default::default() },
        kind: CaptureKind::Message {
            role: MessageRole::User,
            text: Some(format!("message {n}")),
            message_type: "text".into(),
            conversation_ref: None,
        },
        sequence: None,
    };
    let (a, b, c) = (event(1), event(2), event(3));
    let store = &app.stack.store;
    let results = tokio::join!(
        capture(store, &(), &bot, &a, &settings),
        capture(store, &(), &bot, &b, &settings),
        capture(store, &(), &bot, &c, &settings)
    );
    let created = [results.0.unwrap(), results.1.unwrap(), results.2.unwrap()]
        .iter()
        .filter(|r| matches!(r, Captured::Applied { created: true, .. }))
        .count();
    assert_eq!(created, 1);
    assert_eq!(app.list("").await.body["total"], 1);
    let cid = app.list("").await.body["contacts"][0]["id"].as_u64().unwrap();
    assert_eq!(conversations(&app, cid).await[0]["message_count"], 3);
    assert_eq!(capture(store, &(), &bot, &a, &settings).await.unwrap(), Captured::Duplicate);
}

#[tokio::test]
async fn idle_conversations_are_closed_by_the_sweep_and_later_messages_open_new_ones() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    telegram(&app, &bot, &fixture("telegram-message.json")).await;
    let id = eventually("one captured contact", async || app.list("").await.body, |l| count(l) == 1).await["contacts"]
        [0]["id"]
        .as_u64()
        .unwrap();
    // The message is from 2025, long idle by now: the scheduled job closes it at its last message.
    let summary = (app.stack.jobs["conversation-sweeper"])().await.unwrap();
    assert_eq!(summary, "32 sweep shards queued");
    let convs = eventually(
        "the sweep to close the conversation",
        async || conversations(&app, id).await,
        |c| c[0]["status"] == "closed",
    )
    .await;
    assert_eq!(
        (convs[0]["status"].as_str(), convs[0]["ended_at"].as_str()),
        (Some("closed"), Some("2025-08-22T05:02:29Z"))
    );
    let mut later: Value = serde_json::from_slice(&fixture("telegram-message.json")).unwrap();
    later["update_id"] = json!(730501099);
    later["message"]["date"] = json!(chrono::Utc::now().timestamp());
    telegram(&app, &bot, &serde_json::to_vec(&later).unwrap()).await;
    let convs = eventually(
        "a message after the idle time to open a new conversation",
        async || conversations(&app, id).await,
        |c| c.len() >= 2,
    )
    .await;
    assert_eq!(
        (convs[0]["status"].as_str(), convs[1]["status"].as_str()),
        (Some("open"), Some("closed")),
        "newest first"
    );
}

#[tokio::test]
async fn a_sweep_that_races_a_message_leaves_its_conversation_open() {
    let app = spawn_app().await;
    let id = bot(&app, json!({})).await;
    let bot = app.stack.store.get_bot(&model::bot::BotId::parse(&id).unwrap()).await.unwrap().unwrap();
    let settings = CaptureSettings { idle: chrono::Duration::minutes(30) };
    let now = chrono::Utc::now();
    let message = |n: u32, minutes_ago: i64| CaptureEvent {
        event_id: format!("telegram:update:{n}"),
        channel: Channel::Telegram,
        external_id: "4242".into(),
        occurred_at: now - chrono::Duration::minutes(minutes_ago),
        profile: ProfileHints { name: Some("Racing Visitor".into()), ..Default::default() },
        kind: CaptureKind::Message {
            role: MessageRole::User,
            text: Some(format!("message {n}")),
            message_type: "text".into(),
            conversation_ref: None,
        },
        sequence: None,
    };
    let store = &app.stack.store;
    capture(store, &(), &bot, &message(1, 20), &settings).await.unwrap();
    let cid = eventually("the contact", async || app.list("").await.body, |l| count(l) == 1).await["contacts"][0]["id"]
        .as_u64()
        .unwrap();
    let live_key = HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("WS#{}#C#{:012}", app.workspace, cid))),
        ("sk".to_string(), AttributeValue::S("PROFILE#LIVE".into())),
    ]);
    let read_live = async || {
        let out = store.client().get_item().table_name(store.table_name()).set_key(Some(live_key.clone()));
        out.consistent_read(true).send().await.unwrap().item.unwrap()
    };
    // The sweep read the live state while its conversation was 20 minutes idle; a message came in since.
    let seen_by_the_sweep = read_live().await;
    capture(store, &(), &bot, &message(2, 1), &settings).await.unwrap();
    let cutoff = now - chrono::Duration::minutes(10);
    assert_eq!(store.close_idle_of(&seen_by_the_sweep, cutoff).await.unwrap(), 0);
    let convs = conversations(&app, cid).await;
    assert_eq!((convs.len(), convs[0]["status"].as_str()), (1, Some("open")), "{convs:?}");
    assert_eq!(convs[0]["message_count"], 2);
    // Idle in its turn, it closes at its last message.
    assert_eq!(store.close_idle_of(&read_live().await, now).await.unwrap(), 1);
    let convs = conversations(&app, cid).await;
    assert_eq!(convs[0]["status"], "closed");
    assert_eq!(convs[0]["message_count"], 2);
    assert_eq!(
        convs[0]["ended_at"].as_str(),
        Some(model::listing::api_time(now - chrono::Duration::minutes(1)).as_str())
    );
}

#[tokio::test]
async fn a_poison_message_goes_to_the_dead_letter_queue_without_blocking_others() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let queue = &app.stack.queue_urls["CaptureQueue"];
    app.stack
        .sqs
        .send_message()
        .queue_url(queue)
        .message_body("{not json")
        .message_group_id("poison")
        .message_deduplication_id("poison-1")
        .send()
        .await
        .unwrap();
    telegram(&app, &bot, &fixture("telegram-message.json")).await;
    eventually("one captured contact", async || app.list("").await.body, |l| count(l) == 1).await;
    let dlq = &app.stack.queue_urls["CaptureDeadLetterQueue"];
    let got = eventually(
        "the poison message in the dead-letter queue",
        async || app.stack.sqs.receive_message().queue_url(dlq).wait_time_seconds(1).send().await.unwrap(),
        |got| !got.messages().is_empty(),
    )
    .await;
    assert_eq!(got.messages()[0].body(), Some("{not json"));
}

/// A stand-in for the Graph API's user profile endpoint, on loopback.
async fn graph_server(status: u16) -> String {
    use http_body_util::Full;
    use hyper::service::service_fn;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| async move {
                    let query = req.uri().query().unwrap_or("").to_string();
                    let body = if query.contains("access_token=page-token-123") && status == 200 {
                        json!({"first_name": "Mason", "last_name": "Clark", "id": "6251843390017752"}).to_string()
                    } else {
                        json!({"error": {"message": "Invalid OAuth access token", "code": 190}}).to_string()
                    };
                    let code = if status == 200 && query.contains("access_token=page-token-123") { 200 } else { 400 };
                    Ok::<_, std::convert::Infallible>(
                        hyper::Response::builder().status(code).body(Full::new(bytes::Bytes::from(body))).unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    base
}

#[tokio::test]
async fn messenger_names_come_from_the_graph_api_and_failures_do_not_block_capture() {
    for (status, expected) in [(200, json!("Mason Clark")), (500, Value::Null)] {
        let graph = graph_server(status).await;
        let app = spawn_app_with(HashMap::from([("GRAPH_API_BASE".to_string(), graph)])).await;
        let meta = json!({"app_secret": SECRET, "verify_token": SECRET, "page_access_token": "page-token-123"});
        let bot = bot(&app, json!({"channels": {"messenger": meta}})).await;
        assert_eq!(meta_post(&app, "messenger", &bot, &fixture("messenger-message.json")).await.status, 200);
        let list =
            eventually("one messenger contact", async || app.list("channel=messenger").await.body, |l| count(l) == 1)
                .await;
        assert_eq!(list["contacts"][0]["name"], expected);
    }
}

#[tokio::test]
async fn bot_secrets_are_write_only() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    for r in [app.get(&format!("/api/v1/bots/{bot}")).await, app.get("/api/v1/bots").await] {
        assert_eq!(r.status, 200);
        assert!(!r.raw.contains(SECRET), "a secret leaked: {}", r.raw);
    }
    let got = app.get(&format!("/api/v1/bots/{bot}")).await.body;
    assert_eq!(got["channels"]["telegram"]["configured"], true);
    assert_eq!(got["channels"]["telegram"]["webhook_path"], format!("/webhooks/telegram/{bot}"));
    let r = app
        .send(
            Method::PATCH,
            &format!("/api/v1/bots/{bot}"),
            Some(&app.key),
            Some(json!({"channels": {"telegram": null}, "email_collect": false})),
            &[],
        )
        .await;
    assert_eq!(
        (r.body["channels"]["telegram"]["configured"].as_bool(), r.body["email_collect"].as_bool()),
        (Some(false), Some(false))
    );
    telegram(&app, &bot, &fixture("telegram-message.json")).await.problem(403);
    let other = contacts_tests::spawn_app_on(&app).await;
    other.get(&format!("/api/v1/bots/{bot}")).await.problem(404);
    let bad = app
        .send(
            Method::POST,
            "/api/v1/bots",
            Some(&app.key),
            Some(json!({"name": "x", "channels": {"telegram": {"secret_token": "short"}}})),
            &[],
        )
        .await;
    assert_eq!(bad.problem(400)["errors"][0]["field"], "channels.telegram.secret_token");
}

#[tokio::test]
async fn channel_secrets_need_the_admin_scope() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let record = model::auth::ApiKeyRecord {
        workspace_id: app.workspace.clone(),
        name: "test writer".into(),
        scopes: vec![model::auth::Scope::Read, model::auth::Scope::Write],
    };
    let writer =
        contacts_tools::provision::api_key(&app.store, &contacts_tools::stack::local_key_pepper(), &record, None)
            .await
            .unwrap();
    let writer = writer.expose_secret();
    let forged = json!({"signing_secret": "attacker-known-secret"});
    let path = format!("/api/v1/bots/{bot}");
    for channels in [json!({"frame": forged}), json!({"telegram": null})] {
        let r = app.send(Method::PATCH, &path, Some(writer), Some(json!({"channels": channels})), &[]).await;
        assert!(r.problem(403)["detail"].as_str().unwrap().contains("admin"), "{}", r.body);
    }
    let r = app
        .send(
            Method::POST,
            "/api/v1/bots",
            Some(writer),
            Some(json!({"name": "x", "channels": {"frame": forged}})),
            &[],
        )
        .await;
    r.problem(403);
    let unchanged = app.get(&path).await.body;
    assert_eq!(
        (unchanged["version"].as_u64(), unchanged["channels"]["telegram"]["configured"].as_bool()),
        (Some(1), Some(true))
    );
    let event =
        json!({"event_id": "forged-1", "type": "message", "visitor_id": "v-forged", "role": "user", "text": "hi"});
    assert_eq!(app.post_widget_event("frame", &bot, "attacker-known-secret", &event).await, 403);
    // Other edits, and bots without channels, keep needing `write` only.
    let r = app
        .send(Method::PATCH, &path, Some(writer), Some(json!({"name": "Renamed", "email_collect": false})), &[])
        .await;
    assert_eq!((r.status.as_u16(), r.body["name"].as_str()), (200, Some("Renamed")), "{}", r.body);
    let r = app.send(Method::POST, "/api/v1/bots", Some(writer), Some(json!({"name": "Plain"})), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.send(Method::PATCH, &path, Some(&app.key), Some(json!({"channels": {"frame": forged}})), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn provisioned_bots_take_webhooks_signed_with_their_secret() {
    let app = spawn_app().await;
    let (bot, secrets) =
        contacts_tools::provision::bot_with_secrets(&app.store, &app.workspace, "Provisioned").await.unwrap();
    let distinct: std::collections::BTreeSet<&String> = secrets.0.iter().map(|(_, s)| s).collect();
    assert_eq!(distinct.len(), 7, "each channel (and each of Meta's) has its own secret");
    let telegram = secrets.of("telegram secret_token").unwrap().to_string();
    let body = fixture("telegram-message.json");
    let ok =
        post(&app, &format!("/webhooks/telegram/{bot}"), &body, &[("x-telegram-bot-api-secret-token", telegram)]).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let wa = fixture("whatsapp-message.json");
    let whatsapp = secrets.of("whatsapp app secret").unwrap();
    let wrong = meta::sign(secrets.of("messenger app secret").unwrap(), &wa);
    let refused = post(&app, &format!("/webhooks/whatsapp/{bot}"), &wa, &[("x-hub-signature-256", wrong)]).await;
    assert_eq!(refused.status, 403, "Messenger's secret does not sign WhatsApp events");
    let signed =
        post(&app, &format!("/webhooks/whatsapp/{bot}"), &wa, &[("x-hub-signature-256", meta::sign(whatsapp, &wa))])
            .await;
    assert_eq!(signed.status, 200);
    eventually("two captured contacts", async || app.list("").await.body, |l| count(l) == 2).await;

    // At rest the bot item holds its secrets sealed, bound to the bot, under a key not in the table.
    let item = app
        .store
        .client()
        .get_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(store::keys::bot_pk(&bot)))
        .key("sk", AttributeValue::S("BOT".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the bot item");
    let raw = format!("{item:?}");
    assert!(item.contains_key("channels_sealed") && !item.contains_key("channels"), "{raw}");
    for (what, secret) in &secrets.0 {
        assert!(!raw.contains(secret.as_str()), "{what} is in the clear");
    }
    let unsealed = store::Store::new(app.store.client().clone(), app.store.table_name());
    assert!(unsealed.get_bot(&bot).await.is_err(), "without the key a sealed bot does not read");
}

#[tokio::test]
async fn webhooks_answer_alike_whether_the_bot_exists_or_the_credential_is_wrong() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let without_whatsapp = bot_without(&app, "whatsapp").await;
    let unknown = format!("{}.zzzzzzzzzz", bot.split_once('.').unwrap().0);
    let body = fixture("whatsapp-message.json");
    let wrong = [("x-hub-signature-256", meta::sign("another-secret", &body))];
    let answers = [
        post(&app, &format!("/webhooks/whatsapp/{unknown}"), &body, &wrong).await,
        post(&app, &format!("/webhooks/whatsapp/{bot}"), &body, &wrong).await,
        post(&app, &format!("/webhooks/whatsapp/{bot}"), &body, &[]).await,
        post(&app, &format!("/webhooks/whatsapp/{without_whatsapp}"), &body, &wrong).await,
        meta_post(&app, "whatsapp", &unknown, &body).await,
        app.get(&format!("/webhooks/whatsapp/{unknown}?hub.mode=subscribe&hub.verify_token={SECRET}&hub.challenge=1"))
            .await,
        app.get(&format!("/webhooks/whatsapp/{bot}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")).await,
    ];
    let first = &answers[0];
    for r in &answers {
        assert_eq!((r.status, &r.raw, r.header("www-authenticate")), (first.status, &first.raw, None), "{r:?}");
    }
    first.problem(403);
}

async fn bot_without(app: &TestApp, channel: &str) -> String {
    let id = bot(app, json!({})).await;
    let r = app
        .send(
            Method::PATCH,
            &format!("/api/v1/bots/{id}"),
            Some(&app.key),
            Some(json!({"channels": {channel: null}})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    id
}

#[tokio::test]
async fn an_event_time_far_in_the_future_is_clamped_to_its_receipt() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let event = json!({"event_id": "future-1", "type": "message", "visitor_id": "v-future", "occurred_at": "2099-01-01T00:00:00Z", "role": "user", "text": "hello from the future"});
    let sent = chrono::Utc::now();
    assert_eq!(widget_post(&app, "frame", &bot, event).await.status, 200);
    let list = eventually("the widget contact", async || app.list("channel=frame").await.body, |l| count(l) == 1).await;
    let id = list["contacts"][0]["id"].as_u64().unwrap();
    let convs = conversations(&app, id).await;
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().to_utc();
    let latest = sent + chrono::Duration::minutes(5) + chrono::Duration::seconds(5);
    assert!(at(&convs[0]["last_message_at"]) <= latest, "{}", convs[0]);
    let t = transcript(&app, convs[0]["id"].as_str().unwrap()).await;
    assert!(at(&t["messages"][0]["sent_at"]) <= latest, "{t}");
}

/// A Telegram update from Harper, as the webhook gets it.
fn telegram_update(update_id: u64, message_id: u64, date: i64, text: &str) -> Vec<u8> {
    let mut update: Value = serde_json::from_slice(&fixture("telegram-message.json")).unwrap();
    update["update_id"] = json!(update_id);
    update["message"]["message_id"] = json!(message_id);
    update["message"]["date"] = json!(date);
    update["message"]["text"] = json!(text);
    serde_json::to_vec(&update).unwrap()
}

async fn record_sent(app: &TestApp, bot: &str, body: Value) -> Reply {
    app.send(Method::POST, &format!("/api/v1/bots/{bot}/messages"), Some(app.key.as_str()), Some(body), &[]).await
}

fn sent(message_id: &str, sender: &str, date: i64, text: &str) -> Value {
    let sent_at = chrono::DateTime::from_timestamp(date, 0).unwrap().to_rfc3339();
    json!({"channel": "telegram", "recipient": "5120034411", "text": text, "sent_at": sent_at,
           "message_id": message_id, "sender": sender})
}

/// The dashboard's page of a contact, signed in with the test key.
async fn dashboard_contact_page(app: &TestApp, id: u64) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let cookie = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|c| c.split(';').next().unwrap().to_string()))
            .expect("cookie")
    };
    let form = http.get(app.url("/login")).send().await.unwrap();
    let login = cookie(&form, "abc_login");
    let html = form.text().await.unwrap();
    let at = html.find(r#"name="csrf" value=""#).unwrap() + r#"name="csrf" value=""#.len();
    let csrf = html[at..].split('"').next().unwrap().to_string();
    let signed_in = http
        .post(app.url("/login"))
        .header("cookie", format!("abc_login={login}"))
        .form(&[("api_key", app.key.as_str()), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let session = cookie(&signed_in, "__Host-abc_session");
    let page = http
        .get(app.url(&format!("/contacts/{id}")))
        .header("cookie", format!("__Host-abc_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

#[tokio::test]
async fn a_telegram_conversation_recorded_through_the_api_shows_both_sides_in_order() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let t = chrono::Utc::now().timestamp() - 120;
    // Two messages of the same second, the later one delivered first: Telegram's message ids
    // put them back in the order they were sent.
    assert_eq!(telegram(&app, &bot, &telegram_update(9001, 101, t, "Do you have a demo?")).await.status, 200);
    assert_eq!(telegram(&app, &bot, &telegram_update(9000, 100, t, "Hello there")).await.status, 200);
    let id = eventually("Harper's contact", async || app.ids("channel=telegram").await, |ids| ids.len() == 1).await[0];
    app.drained("CaptureQueue").await;

    // The bot's reply two seconds later; the visitor again, and an agent six seconds after.
    let r = record_sent(&app, &bot, sent("102", "bot", t + 2, "Yes! Shall I book one for you?")).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["event_id"], "telegram:sent:5120034411:102");
    assert_eq!(telegram(&app, &bot, &telegram_update(9002, 103, t + 10, "Please, tomorrow")).await.status, 200);
    // The agent's reply and a bot message of the same second: the message ids order them.
    assert_eq!(record_sent(&app, &bot, sent("105", "bot", t + 16, "Booked: tomorrow 10:00.")).await.status, 202);
    assert_eq!(record_sent(&app, &bot, sent("104", "agent", t + 16, "Sam here, I will join.")).await.status, 202);

    let expected = [
        ("user", "Hello there"),
        ("user", "Do you have a demo?"),
        ("bot", "Yes! Shall I book one for you?"),
        ("user", "Please, tomorrow"),
        ("agent", "Sam here, I will join."),
        ("bot", "Booked: tomorrow 10:00."),
    ];
    let convs = eventually(
        "six messages",
        async || conversations(&app, id).await,
        |c| c.len() == 1 && c[0]["message_count"] == 6,
    )
    .await;
    let t_json = transcript(&app, convs[0]["id"].as_str().unwrap()).await;
    let got: Vec<(&str, &str)> = t_json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(got, expected);

    // Waits, in the order they arrived: 2 s for the first reply, 6 s for the next one after "Please, tomorrow".
    assert_eq!(convs[0]["responses"], 2);
    assert_eq!(convs[0]["avg_response_seconds"], 4.0);
    let analytics = eventually(
        "the telegram response time",
        async || app.get("/api/v1/analytics").await.body,
        |a| a["channels"]["telegram"]["avg_response_time_seconds"] == 4.0,
    )
    .await;
    assert_eq!(analytics["channels"]["frame"]["avg_response_time_seconds"], Value::Null);
    assert_eq!(analytics["avg_response_time_seconds"], 4.0);

    // The contact's page shows both sides, in the same order.
    let page = dashboard_contact_page(&app, id).await;
    let at: Vec<usize> = expected
        .iter()
        .map(|(_, text)| page.find(&text.replace('\'', "&#39;")).unwrap_or_else(|| panic!("{text} on the page")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "in order on the page: {at:?}");
}

#[tokio::test]
async fn recorded_messages_are_idempotent_and_bad_ones_are_refused() {
    let app = spawn_app().await;
    let bot = bot(&app, json!({})).await;
    let t = chrono::Utc::now().timestamp() - 60;
    assert_eq!(telegram(&app, &bot, &telegram_update(9100, 200, t, "Hi")).await.status, 200);
    let id = eventually("the contact", async || app.ids("channel=telegram").await, |ids| ids.len() == 1).await[0];

    // The runtime retries: recorded once.
    let reply = sent("201", "bot", t + 1, "Hello! How can I help?");
    for _ in 0..3 {
        assert_eq!(record_sent(&app, &bot, reply.clone()).await.status, 202);
    }
    app.drained("CaptureQueue").await;
    let convs = conversations(&app, id).await;
    assert_eq!(convs[0]["message_count"], 2);

    // Unknown bot, unknown visitor: 404.
    let ws = app.workspace.to_string();
    record_sent(&app, &format!("{ws}.zzzzzzzzzz"), reply.clone()).await.problem(404);
    let mut unknown = reply.clone();
    unknown["recipient"] = json!("999000111");
    let p = record_sent(&app, &bot, unknown).await.problem(404).clone();
    assert!(p["detail"].as_str().unwrap().contains("999000111"), "{p}");
    let mut other_channel = reply.clone();
    other_channel["channel"] = json!("whatsapp");
    record_sent(&app, &bot, other_channel).await.problem(404);

    // Bad bodies: 400 naming the field.
    let cases: [(&str, Value); 6] = [
        ("sender", json!("visitor")),
        ("sent_at", json!("22/08/2025")),
        ("channel", json!("sms")),
        ("text", json!("   ")),
        ("message_id", json!("has spaces")),
        ("recipient", json!(5120034411u64)),
    ];
    for (field, value) in cases {
        let mut body = reply.clone();
        body[field] = value;
        let p = record_sent(&app, &bot, body).await.problem(400).clone();
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let mut missing = reply.clone();
    missing.as_object_mut().unwrap().remove("sent_at");
    assert_eq!(record_sent(&app, &bot, missing).await.problem(400)["errors"][0]["field"], "sent_at");
    let mut extra = reply.clone();
    extra["mood"] = json!("happy");
    assert_eq!(record_sent(&app, &bot, extra).await.problem(400)["errors"][0]["field"], "mood");
    app.drained("CaptureQueue").await;
    assert_eq!(conversations(&app, id).await[0]["message_count"], 2);
}

#[tokio::test]
async fn messenger_echoes_are_the_bots_and_the_page_inbox_agents_messages() {
    let app = spawn_app().await;
    let meta = json!({"app_secret": SECRET, "verify_token": SECRET, "app_id": "1517776481860111"});
    let bot = bot(&app, json!({"channels": {"messenger": meta}})).await;
    let now = chrono::Utc::now().timestamp_millis();
    let event =
        |item: Value| json!({"object": "page", "entry": [{"id": "108842519372210", "time": now, "messaging": [item]}]});
    let visitor = json!({"sender": {"id": "6251843390017752"}, "recipient": {"id": "108842519372210"},
                         "timestamp": now - 9000, "message": {"mid": "m_v1", "text": "Do you offer a free trial?"}});
    let mut echo: Value = serde_json::from_slice(&fixture("messenger-echo.json")).unwrap();
    echo["entry"][0]["messaging"][0]["timestamp"] = json!(now - 6000);
    let mut inbox: Value = serde_json::from_slice(&fixture("messenger-echo-inbox.json")).unwrap();
    inbox["entry"][0]["messaging"][0]["timestamp"] = json!(now - 3000);
    inbox["entry"][0]["standby"] = json!([]);
    for body in [event(visitor), echo, inbox] {
        let body = serde_json::to_vec(&body).unwrap();
        assert_eq!(meta_post(&app, "messenger", &bot, &body).await.status, 200);
    }
    let id =
        eventually("the messenger contact", async || app.ids("channel=messenger").await, |ids| ids.len() == 1).await[0];
    let convs = eventually("three lines", async || conversations(&app, id).await, |c| c[0]["message_count"] == 3).await;
    let t = transcript(&app, convs[0]["id"].as_str().unwrap()).await;
    let roles: Vec<&str> = t["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "bot", "agent"]);
    assert_eq!(t["messages"][1]["text"], "Yes! Every plan starts with a 14-day free trial.");
    assert_eq!((convs[0]["responses"].as_u64(), convs[0]["avg_response_seconds"].as_f64()), (Some(1), Some(3.0)));
}
