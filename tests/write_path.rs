//! The write path under concurrency: many visitors at once through the webhooks, the FIFO
//! capture queue and the stream consumer, checked against counts kept by the test itself.

use chrono::{Duration, Utc};
use contacts_tests::{spawn_app, QueueDepth, TestApp};
use futures::future::join_all;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const SECRET: &str = "test-channel-secret-1";
/// Hundreds of captures, each a few calls to the emulator (one Python process, which also
/// serves the metering reads): minutes on a busy 2-core machine, seconds on DynamoDB.
const EMULATOR_TIME: std::time::Duration = std::time::Duration::from_secs(240);

async fn bot(app: &TestApp) -> String {
    app.create_bot(json!({"name": "Bot", "channels": {"frame": {"signing_secret": SECRET}}})).await
}

fn message(visitor: usize, n: usize, at: chrono::DateTime<Utc>) -> Value {
    json!({
        "event_id": format!("evt-{visitor}-{n}"), "type": "message", "visitor_id": format!("visitor-{visitor}"),
        "conversation_id": format!("c-{visitor}"), "occurred_at": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "role": "user", "text": format!("visitor {visitor} message {n}")
    })
}

/// Every contact of the workspace (pages of 100).
async fn all_ids(app: &TestApp) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut query = "per_page=100".to_string();
    loop {
        let page = app.list(&query).await.body;
        ids.extend(page["contacts"].as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("per_page=100&cursor={cursor}"),
            None => return ids,
        }
    }
}

/// The daily figures summed over yesterday and today (the test may run across midnight).
async fn recent_days(app: &TestApp) -> (i64, i64, i64) {
    let (from, to) = ((Utc::now() - Duration::days(1)).date_naive(), Utc::now().date_naive());
    let a = app.get(&format!("/api/v1/analytics?from={from}&to={to}")).await.body;
    let days = a["daily"].as_array().expect("daily figures");
    let sum = |field: &str| days.iter().map(|d| d[field].as_i64().unwrap_or(0)).sum();
    (sum("new_contacts"), sum("conversations"), sum("messages"))
}

async fn dead_letters(app: &TestApp) -> QueueDepth {
    app.queue_depth("CaptureDeadLetterQueue").await
}

#[tokio::test]
async fn fifty_new_visitors_at_once_become_fifty_contacts_with_exact_totals() {
    let app = spawn_app().await;
    let bot = bot(&app).await;
    let now = Utc::now();
    let posts = (0..50).map(|v| {
        let (app, bot) = (&app, &bot);
        async move { app.post_widget_event("frame", bot, SECRET, &message(v, 0, now)).await }
    });
    for status in join_all(posts).await {
        assert_eq!(status, 200);
    }
    app.drained_within(EMULATOR_TIME, "CaptureQueue").await;

    let ids = all_ids(&app).await;
    assert_eq!(ids.len(), 50);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 50, "ids are unique: {ids:?}");
    assert_eq!(app.list("").await.body["total"], 50);
    assert_eq!(app.list("channel=frame").await.body["total"], 50);
    assert_eq!(dead_letters(&app).await, QueueDepth::default());
    assert_eq!(recent_days(&app).await, (50, 50, 50));
    let analytics = app.get("/api/v1/analytics").await.body;
    assert_eq!(
        (analytics["total_contacts"].as_u64(), analytics["active_conversations"].as_u64()),
        (Some(50), Some(50))
    );
}

#[tokio::test]
async fn five_hundred_interleaved_messages_keep_every_transcript_whole_and_in_order() {
    let app = spawn_app().await;
    let bot = bot(&app).await;
    let start = Utc::now() - Duration::minutes(20);
    // One sender per visitor, each in its own order; the senders interleave at random.
    let senders = (0..50).map(|v| {
        let (app, bot) = (&app, &bot);
        async move {
            for n in 0..10 {
                let pause = random_below(5);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                let at = start + Duration::seconds((n * 60 + v) as i64);
                assert_eq!(app.post_widget_event("frame", bot, SECRET, &message(v, n, at)).await, 200);
            }
        }
    });
    join_all(senders).await;
    app.drained_within(EMULATOR_TIME, "CaptureQueue").await;

    let ids = all_ids(&app).await;
    assert_eq!(ids.len(), 50);
    for id in ids {
        let conversations = app.get(&format!("/api/v1/contacts/{id}/conversations")).await.body;
        let conversations = conversations["conversations"].as_array().unwrap().clone();
        assert_eq!(conversations.len(), 1, "contact {id}: {conversations:?}");
        assert_eq!(conversations[0]["message_count"], 10);
        let conversation = conversations[0]["id"].as_str().unwrap();
        let transcript = app.get(&format!("/api/v1/conversations/{conversation}/messages")).await.body;
        let texts: Vec<&str> =
            transcript["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
        let visitor = texts[0].split(' ').nth(1).unwrap();
        let expected: Vec<String> = (0..10).map(|n| format!("visitor {visitor} message {n}")).collect();
        assert_eq!(texts, expected, "contact {id}");
    }
    assert_eq!(dead_letters(&app).await, QueueDepth::default());
    assert_eq!(recent_days(&app).await, (50, 50, 500));
}

fn random_below(n: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness");
    u64::from_le_bytes(bytes) % n
}
