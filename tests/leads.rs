//! Lead status, explainable scores, segments and analytics, checked against numbers
//! computed independently from the raw events the test sends.

use chrono::{Duration, Utc};
use contacts_tests::{eventually, spawn_app, TestApp};
use model::lead::LeadPolicy;
use reqwest::Method;
use serde_json::{json, Value};

const SECRET: &str = "test-channel-secret-1";

async fn bot(app: &TestApp) -> String {
    app.create_bot(json!({"name": "Bot", "email_collect": true, "contact_form": true, "channels": {"frame": {"signing_secret": SECRET}, "livechat": {"signing_secret": SECRET}}})).await
}

/// Sends widget events in order and waits until the worker has applied them all.
async fn events(app: &TestApp, bot: &str, channel: &str, list: &[Value]) {
    for e in list {
        assert_eq!(app.post_widget_event(channel, bot, SECRET, e).await, 200);
    }
    app.drained("CaptureQueue").await;
}

fn at(seconds_ago: i64) -> String {
    (Utc::now() - Duration::seconds(seconds_ago)).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn msg(id: &str, visitor: &str, conv: &str, role: &str, text: &str, seconds_ago: i64) -> Value {
    json!({"event_id": id, "type": "message", "visitor_id": visitor, "conversation_id": conv, "occurred_at": at(seconds_ago), "role": role, "text": text})
}

async fn settle(app: &TestApp, check: impl Fn(&Value) -> bool) -> Value {
    eventually("the analytics to settle", async || app.get("/api/v1/analytics").await.body, check).await
}

#[tokio::test]
async fn scores_statuses_and_analytics_follow_the_conversations() {
    let app = spawn_app().await;
    let bot = bot(&app).await;
    // Visitor A: two conversations, asks for pricing and a demo; the bot answers after 30 s and 60 s.
    events(&app, &bot, "frame", &[
        msg("a1", "va", "c1", "user", "Hi, what does the Pro plan cost?", 600),
        msg("a2", "va", "c1", "bot", "49 € a month.", 570),
        msg("a3", "va", "c2", "user", "Can I book a demo?", 300),
        msg("a4", "va", "c2", "bot", "Sure, here is a link.", 240),
        json!({"event_id": "a5", "type": "email_collected", "visitor_id": "va", "conversation_id": "c2", "occurred_at": at(200), "email": "a@example.com"}),
    ]).await;
    // Visitor B: one conversation, a general question, no answer yet.
    events(&app, &bot, "livechat", &[msg("b1", "vb", "c9", "user", "Where are you based?", 100)]).await;
    settle(&app, |a| sum(a, "messages") == 5 && a["scores"]["hot"] == 1 && a["channels"]["livechat"]["count"] == 1)
        .await;
    // Read again: a report reads the counters, then the days, so one taken while the last
    // event was committing can mix both; once every event is in, a new report is whole.
    let a = app.get("/api/v1/analytics").await.body;
    assert_eq!(a["total_contacts"], 2);
    assert_eq!(a["avg_response_time_seconds"], 45.0, "(30 s + 60 s) / 2");

    // Independently from the events above: 2 contacts, A reachable and a repeat visitor.
    // The replies were all on the widget; live chat's visitor waits still.
    assert_eq!(a["channels"]["frame"], json!({"count": 1, "share": 0.5, "avg_response_time_seconds": 45.0}));
    assert_eq!(a["channels"]["livechat"], json!({"count": 1, "share": 0.5, "avg_response_time_seconds": null}));
    assert_eq!((a["conversion_rate"].as_f64(), a["repeat_visitor_rate"].as_f64()), (Some(0.5), Some(0.5)));
    assert_eq!(a["avg_conversations_per_contact"], 1.5);
    assert_eq!(a["active_conversations"], 2, "c1 was replaced by c2; c2 and c9 are open");
    assert_eq!(a["new_this_month"], 2);
    assert_eq!(a["scores"], json!({"hot": 1, "warm": 1, "cold": 0}));
    // The daily series (the events may straddle midnight, so it is summed).
    assert_eq!((sum(&a, "new_contacts"), sum(&a, "conversations"), sum(&a, "messages")), (2, 3, 5));
    assert_eq!(a["new_in_period"], 2);

    let hot = app.list("score=hot").await.body;
    assert_eq!((hot["total"].as_u64(), hot["contacts"][0]["email"].as_str()), (Some(1), Some("a@example.com")));
    let id = hot["contacts"][0]["id"].as_u64().unwrap();
    let detail = app.get(&format!("/api/v1/contacts/{id}")).await.body;
    assert_eq!(
        detail["score_reasons"],
        json!(["2 conversations", "asked about pricing", "requested a demo", "active today"])
    );
    assert_eq!((detail["status"].as_str(), detail["status_set_by"].as_str()), (Some("active"), Some("activity")));
    let warm = app.list("score=warm").await.body;
    assert_eq!(warm["contacts"][0]["status"], "new");

    // A person's status sticks through later activity.
    app.patch(id, json!({"status": "follow_up"}), &[]).await;
    events(&app, &bot, "frame", &[msg("a6", "va", "c2", "user", "Any news?", 10)]).await;
    settle(&app, |a| sum(a, "messages") == 6).await;
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}")).await.body["status"], "follow_up");
}

#[tokio::test]
async fn the_daily_rollup_re_ages_and_snapshots_once() {
    let app = spawn_app().await;
    let bot = bot(&app).await;
    events(&app, &bot, "frame", &[msg("x1", "vx", "c1", "user", "hello", 60)]).await;
    settle(&app, |a| a["total_contacts"] == 1 && a["scores"]["warm"] == 1).await;
    let store = &app.stack.store;
    // A week and a half later the visit is no longer recent: status new → follow_up after 7 days.
    let later = Utc::now() + Duration::days(7) + Duration::hours(12);
    assert_eq!(store.reage_contacts(&app.workspace, later, LeadPolicy::default()).await.unwrap(), 1);
    assert_eq!(store.reage_contacts(&app.workspace, later, LeadPolicy::default()).await.unwrap(), 0, "idempotent");
    assert_eq!(app.list("status=follow_up").await.body["total"], 1);
    let day = Utc::now().date_naive();
    assert!(store.write_snapshot(&app.workspace, day).await.unwrap());
    assert!(!store.write_snapshot(&app.workspace, day).await.unwrap(), "a day is written once");
    let a = app.get(&format!("/api/v1/analytics?from={day}&to={day}")).await.body;
    assert_eq!(a["daily"][0]["total_contacts"], 1);
    app.get("/api/v1/analytics?from=2025-02-01&to=2025-01-01").await.problem(400);
    app.get("/api/v1/analytics?since=2025-01-01").await.problem(400);
}

#[tokio::test]
async fn analytics_days_are_the_workspaces_own() {
    let app = spawn_app().await;
    let zone = json!({"time_zone": "America/Los_Angeles"});
    let r = app.send(Method::PATCH, "/api/v1/workspace", Some(&app.key), Some(zone), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // 05:02 UTC on the 22nd is the evening of the 21st in Los Angeles.
    let mut new = model::new_contact::NewContact::on(model::domain::Channel::Frame);
    new.created_at = Some("2025-08-22T05:02:29Z".parse().unwrap());
    let workspace = model::workspace::Workspace::with_defaults(app.workspace.clone());
    model::usecases::contacts::create(&app.store, &workspace, new).await.unwrap();
    let report = async || app.get("/api/v1/analytics?from=2025-08-21&to=2025-08-22").await.body;
    let a = eventually("the new contact to be counted", report, |a| a["new_in_period"] == 1).await;
    let days: Vec<(&str, i64)> = a["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["date"].as_str().unwrap(), d["new_contacts"].as_i64().unwrap()))
        .collect();
    assert_eq!(days, [("2025-08-21", 1), ("2025-08-22", 0)]);
}

#[tokio::test]
async fn segments_save_filters_and_list_their_members() {
    let app = spawn_app().await;
    let engaged = app.create(json!({"channel": "frame", "email": "yes@example.com", "consent": "granted"})).await;
    app.create(json!({"channel": "frame", "email": "no@example.com", "consent": "withdrawn"})).await;
    app.create(json!({"channel": "telegram", "consent": "granted"})).await;
    let body = json!({"name": "Active newsletter subscribers", "filters": {"active_within": "30d", "has_email": true, "consent": "granted"}});
    let created = app.send(Method::POST, "/api/v1/segments", Some(&app.key), Some(body), &[]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let members = app.get(&format!("/api/v1/segments/{id}/contacts")).await.body;
    let ids: Vec<u64> = members["contacts"].as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [engaged]);
    let listed = app.get("/api/v1/segments").await.body;
    assert_eq!(listed["segments"][0]["name"], "Active newsletter subscribers");
    let patched = app
        .send(
            Method::PATCH,
            &format!("/api/v1/segments/{id}"),
            Some(&app.key),
            Some(json!({"filters": {"channel": "telegram"}})),
            &[],
        )
        .await;
    assert_eq!(patched.body["filters"], json!({"channel": "telegram"}));
    assert_eq!(app.get(&format!("/api/v1/segments/{id}/contacts")).await.body["total"], 1);
    let bad = app
        .send(
            Method::POST,
            "/api/v1/segments",
            Some(&app.key),
            Some(json!({"name": "x", "filters": {"chanel": "frame"}})),
            &[],
        )
        .await;
    assert_eq!(bad.problem(400)["errors"][0]["field"], "filters.chanel");
    let bad = app
        .send(
            Method::POST,
            "/api/v1/segments",
            Some(&app.key),
            Some(json!({"name": "x", "filters": {"consent": "maybe"}})),
            &[],
        )
        .await;
    assert_eq!(bad.problem(400)["errors"][0]["field"], "filters.consent");
    assert_eq!(
        app.send(Method::DELETE, &format!("/api/v1/segments/{id}"), Some(&app.key), None, &[]).await.status,
        204
    );
    app.get(&format!("/api/v1/segments/{id}")).await.problem(404);
}

fn sum(report: &Value, field: &str) -> i64 {
    report["daily"].as_array().unwrap().iter().map(|d| d[field].as_i64().unwrap()).sum()
}

#[tokio::test]
async fn a_workspace_sets_its_own_intent_phrases_and_follow_up_days() {
    let app = spawn_app().await;
    let r = app
        .send(
            Method::PATCH,
            "/api/v1/workspace",
            Some(&app.key),
            Some(json!({"intent_phrases": {"pricing": ["Tarifa Especial"]}, "follow_up_after_days": 3})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["intent_phrases"]["pricing"], json!(["tarifa especial"]));
    assert_eq!(r.body["follow_up_after_days"], 3);
    let bot = bot(&app).await;
    events(
        &app,
        &bot,
        "frame",
        &[
            msg("p1", "vp", "c1", "user", "¿Tienen una tarifa especial?", 30),
            msg("p2", "vq", "c2", "user", "What does it cost?", 20),
        ],
    )
    .await;
    eventually("two contacts", async || app.list("").await.body, |l| l["total"] == 2).await;
    let mut reasons = Vec::new();
    for c in app.list("").await.body["contacts"].as_array().unwrap() {
        reasons.push(app.get(&format!("/api/v1/contacts/{}", c["id"])).await.body["score_reasons"].clone());
    }
    assert!(
        reasons.iter().any(|r| r.as_array().unwrap().contains(&json!("asked about pricing"))),
        "the workspace's phrase counts: {reasons:?}"
    );
    assert_eq!(
        reasons.iter().filter(|r| r.as_array().unwrap().contains(&json!("asked about pricing"))).count(),
        1,
        "the default phrase `cost` no longer does"
    );
    let bad = app
        .send(
            Method::PATCH,
            "/api/v1/workspace",
            Some(&app.key),
            Some(json!({"intent_phrases": {"discount": ["x"]}})),
            &[],
        )
        .await;
    assert_eq!(bad.problem(400)["errors"][0]["field"], "intent_phrases");
    let reset =
        app.send(Method::PATCH, "/api/v1/workspace", Some(&app.key), Some(json!({"intent_phrases": null})), &[]).await;
    assert!(reset.body["intent_phrases"]["pricing"].as_array().unwrap().contains(&json!("cost")));
}

#[tokio::test]
async fn consent_changes_keep_their_history() {
    let app = spawn_app().await;
    let id = app.create(json!({"channel": "frame", "consent": "granted"})).await;
    app.patch(id, json!({"consent": "withdrawn"}), &[]).await;
    let c = app.get(&format!("/api/v1/contacts/{id}")).await.body;
    assert_eq!((c["consent"]["status"].as_str(), c["opted_out"].as_bool()), (Some("withdrawn"), Some(true)));
    assert_eq!(c["consent_history"][0]["status"], "granted");
    assert_eq!(c["consent_history"][0]["source"], "api");
}
