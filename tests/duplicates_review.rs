//! The workspace's review of possible duplicates over real HTTP (issue 20): pairs that
//! capture records appear newest first and page without repeats; a dismissal sticks
//! (capture of the same evidence does not bring the pair back, nor does the same name);
//! a merge and a purge take their pairs with them, leaving no record behind; another
//! workspace sees none of it; bad input is a problem. The dashboard's page: viewers see
//! the pairs, agents merge (through the merge preview, back to the page) and dismiss.

use contacts_tests::browser::{client, csrf, get, join_and_sign_in, SESSION};
use contacts_tests::{spawn_app, spawn_app_on, unique, Reply, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "test-channel-secret-1";

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Reply {
    app.send(method, path, Some(&app.key), body, &[]).await
}

async fn review(app: &TestApp, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/duplicates{query}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The review's pairs as their two ids, in order.
fn pairs(page: &Value) -> Vec<(u64, u64)> {
    let ids = |p: &Value| (p["contacts"][0]["id"].as_u64().unwrap(), p["contacts"][1]["id"].as_u64().unwrap());
    page["pairs"].as_array().unwrap().iter().map(ids).collect()
}

fn pair(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

async fn site_bot(app: &TestApp) -> String {
    app.create_bot(json!({"name": "Site bot", "email_collect": true, "contact_form": true,
        "channels": {"livechat": {"signing_secret": SECRET}}}))
        .await
}

/// A live chat visitor submits a contact form; waits until capture has applied it, and
/// returns the visitor's contact id.
async fn form(app: &TestApp, bot: &str, visitor: &str, event: &str, fields: Value) -> u64 {
    let mut e = json!({"event_id": event, "type": "contact_form_submitted", "visitor_id": visitor,
        "occurred_at": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()});
    e.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    assert_eq!(app.post_widget_event("livechat", bot, SECRET, &e).await, 200);
    app.drained("CaptureQueue").await;
    assert_eq!(app.queue_depth("CaptureDeadLetterQueue").await.waiting, 0, "{event} was captured");
    let found = app.stack.store.contact_for_identity(&app.workspace, model::domain::Channel::Livechat, visitor).await;
    found.unwrap().map(|c| c.id.0).unwrap_or_else(|| panic!("no contact for visitor {visitor}"))
}

/// Every `DUP#` record of the workspace (pk and sk): a full-table read, test-only proof.
async fn duplicate_records(app: &TestApp) -> Vec<String> {
    let prefix = format!("WS#{}#", app.workspace);
    let mut found = Vec::new();
    let mut start = None;
    loop {
        let out =
            app.store.client().scan().table_name(app.store.table_name()).set_exclusive_start_key(start).send().await;
        let out = out.unwrap();
        for item in out.items() {
            let text = |a: &str| item.get(a).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let (pk, sk) = (text("pk"), text("sk"));
            if pk.starts_with(&prefix) && sk.starts_with("DUP#") || text("gsi1pk").ends_with("#DUPS") {
                found.push(format!("{pk} {sk}"));
            }
        }
        match out.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return found,
        }
    }
}

#[tokio::test]
async fn recorded_pairs_are_reviewed_newest_first_and_page_without_repeats() {
    let app = spawn_app().await;
    let bot = site_bot(&app).await;
    let mut expected = Vec::new();
    for n in 1..=3 {
        let email = format!("owner{n}@example.de");
        let owner = app.create(json!({"channel": "frame", "email": email, "phone": format!("+49 30 100000{n}")})).await;
        // The first offers both the email and the phone of its owner: one pair, two reasons.
        let fields = if n == 1 { json!({"email": email, "phone": "+49 30 1000001"}) } else { json!({"email": email}) };
        let visitor = form(&app, &bot, &format!("v{n}"), &format!("e{n}"), fields).await;
        expected.insert(0, pair(owner, visitor));
        // Pairs are ordered by the second they were recorded.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }

    let whole = review(&app, "").await;
    assert_eq!(pairs(&whole), expected, "newest first: {whole}");
    assert_eq!(whole["next_cursor"], Value::Null);
    let first = &whole["pairs"][2];
    assert_eq!(first["reasons"], json!(["same email", "same phone"]), "{first}");
    assert_eq!(first["contacts"][0]["email"], "owner1@example.de");
    assert_eq!(first["contacts"][1]["channel"], "livechat");
    let times: Vec<&str> =
        whole["pairs"].as_array().unwrap().iter().map(|p| p["recorded_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");

    let read = app.get("/api/v1/duplicates?per_page=2").await;
    assert_eq!(read.ddb_operations(), ["Query", "BatchGetItem"], "one Query of the review's key, both profiles by key");
    let one = review(&app, "?per_page=2").await;
    assert_eq!(pairs(&one), expected[..2]);
    let cursor = one["next_cursor"].as_str().expect("a next page");
    let two = review(&app, &format!("?per_page=2&cursor={cursor}")).await;
    assert_eq!(pairs(&two), expected[2..], "the rest, no repeats");
    assert_eq!(two["page"], 2);
    assert_eq!(two["next_cursor"], Value::Null);

    // The same evidence again adds no pair and keeps the pair's place.
    let email = "owner3@example.de";
    form(&app, &bot, "v3", "e3-again", json!({"email": email})).await;
    assert_eq!(pairs(&review(&app, "").await), expected);
}

#[tokio::test]
async fn a_dismissed_pair_is_not_proposed_again() {
    let app = spawn_app().await;
    let bot = site_bot(&app).await;
    let owner = app.create(json!({"channel": "frame", "name": "Lena Vogel", "email": "lena@example.de"})).await;
    let visitor = form(&app, &bot, "v1", "e1", json!({"name": "Lena Vogel", "email": "lena@example.de"})).await;
    assert_eq!(pairs(&review(&app, "").await), [pair(owner, visitor)]);
    let theirs = app.get(&format!("/api/v1/contacts/{visitor}/duplicates")).await.body;
    assert_eq!(theirs["duplicates"][0]["id"], owner);
    assert_eq!(theirs["duplicates"][0]["reasons"], json!(["same email", "same name on frame"]));

    let dismissed = send(&app, Method::DELETE, &format!("/api/v1/contacts/{visitor}/duplicates/{owner}"), None).await;
    assert_eq!(dismissed.status, 204, "{}", dismissed.body);
    assert!(pairs(&review(&app, "").await).is_empty());
    for (a, b) in [(owner, visitor), (visitor, owner)] {
        let found = app.get(&format!("/api/v1/contacts/{a}/duplicates")).await.body;
        assert_eq!(found["duplicates"], json!([]), "{a} is not {b}, whatever the name: {found}");
    }

    // The visitor offers the owner's email again: the pair stays dismissed.
    form(&app, &bot, "v1", "e2", json!({"email": "lena@example.de"})).await;
    assert!(pairs(&review(&app, "").await).is_empty());
    assert_eq!(app.get(&format!("/api/v1/contacts/{visitor}/duplicates")).await.body["duplicates"], json!([]));
    // Dismissing again changes nothing.
    let again = send(&app, Method::DELETE, &format!("/api/v1/contacts/{owner}/duplicates/{visitor}"), None).await;
    assert_eq!(again.status, 204);
    assert_eq!(duplicate_records(&app).await.len(), 2, "one dismissed record on each contact");
}

#[tokio::test]
async fn a_merge_takes_the_merged_contacts_pairs_out_of_the_review() {
    let app = spawn_app().await;
    let bot = site_bot(&app).await;
    let owner = app.create(json!({"channel": "frame", "email": "mia@example.de"})).await;
    let third = app.create(json!({"channel": "frame", "phone": "+49 30 5550001"})).await;
    let bystander = app.create(json!({"channel": "frame", "email": "ben@example.de"})).await;
    let visitor = form(&app, &bot, "v1", "e1", json!({"email": "mia@example.de", "phone": "+49 30 5550001"})).await;
    let other = form(&app, &bot, "v2", "e2", json!({"email": "ben@example.de"})).await;
    let mut all = pairs(&review(&app, "").await);
    all.sort();
    let mut expected = vec![pair(owner, visitor), pair(third, visitor), pair(bystander, other)];
    expected.sort();
    assert_eq!(all, expected);

    let merged =
        send(&app, Method::POST, &format!("/api/v1/contacts/{owner}/merge"), Some(json!({"other_id": visitor}))).await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    assert_eq!(pairs(&review(&app, "").await), [pair(bystander, other)]);
    assert_eq!(app.get(&format!("/api/v1/contacts/{third}/duplicates")).await.body["duplicates"], json!([]));
    let left = duplicate_records(&app).await;
    assert_eq!(left.len(), 2, "only the bystander's pair: {left:?}");
    assert!(left.iter().all(|r| !r.contains(&format!("{visitor:012}"))), "{left:?}");
}

#[tokio::test]
async fn a_purge_takes_the_contacts_pairs_with_it() {
    let app = spawn_app().await;
    let bot = site_bot(&app).await;
    let owner = app.create(json!({"channel": "frame", "email": "noah@example.de"})).await;
    let visitor = form(&app, &bot, "v1", "e1", json!({"email": "noah@example.de"})).await;
    assert_eq!(pairs(&review(&app, "").await), [pair(owner, visitor)]);

    // Deleted with a grace period: hidden, and out of the review until restored.
    assert_eq!(app.delete(owner, &[]).await.status, 204);
    assert!(pairs(&review(&app, "").await).is_empty());
    assert_eq!(send(&app, Method::POST, &format!("/api/v1/contacts/{owner}/restore"), None).await.status, 200);
    assert_eq!(pairs(&review(&app, "").await), [pair(owner, visitor)]);

    let grace = send(&app, Method::PATCH, "/api/v1/workspace", Some(json!({"deletion_grace_days": 0}))).await;
    assert_eq!(grace.status, 200, "{}", grace.body);
    let purged = app.delete(owner, &[]).await;
    assert_eq!(purged.status, 204, "{}", purged.body);
    assert!(pairs(&review(&app, "").await).is_empty());
    assert_eq!(duplicate_records(&app).await, Vec::<String>::new());
    assert_eq!(app.get(&format!("/api/v1/contacts/{visitor}/duplicates")).await.body["duplicates"], json!([]));
}

#[tokio::test]
async fn another_workspace_sees_and_dismisses_nothing() {
    let app = spawn_app().await;
    let bot = site_bot(&app).await;
    let owner = app.create(json!({"channel": "frame", "email": "ida@example.de"})).await;
    let visitor = form(&app, &bot, "v1", "e1", json!({"email": "ida@example.de"})).await;
    let other = spawn_app_on(&app).await;

    assert!(pairs(&review(&other, "").await).is_empty());
    let theirs = send(&other, Method::DELETE, &format!("/api/v1/contacts/{visitor}/duplicates/{owner}"), None).await;
    let problem = theirs.problem(404);
    assert!(problem["detail"].as_str().unwrap().contains("no contact"), "{problem}");
    // Their cursor does not open this workspace's review.
    let mine = review(&app, "?per_page=1").await;
    assert_eq!(pairs(&mine), [pair(owner, visitor)]);
    let bob = other.create(json!({"channel": "frame", "email": "bob@example.de"})).await;
    let extra = form(&other, &site_bot(&other).await, "w1", "f1", json!({"email": "bob@example.de"})).await;
    let theirs = review(&other, "?per_page=1").await;
    assert_eq!(pairs(&theirs), [pair(bob, extra)]);
    assert_eq!(theirs["next_cursor"], Value::Null);
    assert_eq!(pairs(&review(&app, "").await), [pair(owner, visitor)], "still there");
}

#[tokio::test]
async fn bad_input_is_a_problem_with_a_useful_detail() {
    let app = spawn_app().await;
    let bot = site_bot(&app).await;
    let owner = app.create(json!({"channel": "frame", "email": "eva@example.de"})).await;
    let stranger = app.create(json!({"channel": "frame", "email": "zoe@example.de"})).await;
    let visitor = form(&app, &bot, "v1", "e1", json!({"email": "eva@example.de"})).await;
    let dismiss = |a: String, b: String| {
        let app = &app;
        async move { send(app, Method::DELETE, &format!("/api/v1/contacts/{a}/duplicates/{b}"), None).await }
    };

    let itself = dismiss(owner.to_string(), owner.to_string()).await;
    assert_eq!(itself.problem(400)["errors"][0]["field"], "other_id");
    let not_an_id = dismiss(owner.to_string(), "abc".into()).await;
    assert_eq!(not_an_id.problem(400)["errors"][0]["field"], "other_id");
    let unknown = dismiss(owner.to_string(), "999999".into()).await;
    let detail = unknown.problem(404)["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("999999"), "{detail}");
    let not_a_pair = dismiss(owner.to_string(), stranger.to_string()).await;
    let detail = not_a_pair.problem(404)["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("not recorded as possible duplicates"), "{detail}");
    assert_eq!(app.delete(stranger, &[]).await.status, 204);
    let hidden = dismiss(owner.to_string(), stranger.to_string()).await;
    assert!(hidden.problem(404)["detail"].as_str().unwrap().contains("deleted"));

    let read_only = app
        .send(
            Method::DELETE,
            &format!("/api/v1/contacts/{visitor}/duplicates/{owner}"),
            Some(&app.read_only_key),
            None,
            &[],
        )
        .await;
    read_only.problem(403);
    let read = app.send(Method::GET, "/api/v1/duplicates", Some(&app.read_only_key), None, &[]).await;
    assert_eq!(read.status, 200);

    for query in ["?per_page=0", "?per_page=101", "?cursor=not-a-cursor", "?sort=oldest"] {
        let r = app.get(&format!("/api/v1/duplicates{query}")).await;
        assert!(r.problem(400)["detail"].is_string(), "{query}");
    }
    // A cursor of another listing is refused.
    let contacts = app.list("per_page=1").await.body;
    let cursor = contacts["next_cursor"].as_str().expect("more contacts");
    app.get(&format!("/api/v1/duplicates?cursor={cursor}")).await.problem(400);
    assert_eq!(pairs(&review(&app, "").await), [pair(owner, visitor)], "nothing was dismissed");
}

/// A new person of `role`, signed in: the session.
async fn person(app: &TestApp, role: &str) -> String {
    let email = format!("{}@duplicates-test.example", unique(role));
    join_and_sign_in(app, &email, role, "a long enough password").await
}

async fn page(app: &TestApp, path: &str, session: &str) -> String {
    let r = get(app, path, session).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// Posts a form with the CSRF token of the review page; the status and `Location`.
async fn post(app: &TestApp, path: &str, session: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let token = csrf(&page(app, "/duplicates", session).await);
    let mut form = fields.to_vec();
    form.push(("csrf", &token));
    let r = client().post(app.url(path)).header("cookie", format!("{SESSION}={session}")).form(&form).send().await;
    let r = r.unwrap();
    let to = r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (r.status().as_u16(), to)
}

#[tokio::test]
async fn the_dashboard_page_lists_pairs_and_lets_agents_merge_and_dismiss() {
    let app = spawn_app().await;
    let (viewer, agent) = (person(&app, "viewer").await, person(&app, "agent").await);
    assert!(page(&app, "/duplicates", &viewer).await.contains("No possible duplicates to review."));

    let bot = site_bot(&app).await;
    let kept = app.create(json!({"channel": "frame", "name": "Kim Berg", "email": "kim@example.de"})).await;
    let twin = form(&app, &bot, "v1", "e1", json!({"email": "kim@example.de"})).await;
    let other = app.create(json!({"channel": "frame", "name": "Ola Lund", "phone": "+46 8 1234567"})).await;
    let stranger = form(&app, &bot, "v2", "e2", json!({"phone": "+46 8 1234567"})).await;

    let html = page(&app, "/duplicates", &viewer).await;
    assert!(html.contains(r#"href="/duplicates""#), "in the navigation");
    assert!(html.contains("Kim Berg") && html.contains("Ola Lund") && html.contains("same phone"), "{html}");
    assert!(html.find("Ola Lund") < html.find("Kim Berg"), "newest first");
    assert!(!html.contains("Dismiss") && !html.contains("Merge…"), "viewers only look");
    let dismiss = format!("/contacts/{other}/duplicates/{stranger}/dismiss");
    assert_eq!(post(&app, &dismiss, &viewer, &[]).await.0, 403);

    let html = page(&app, "/duplicates", &agent).await;
    assert!(html.contains(&format!(r#"action="{dismiss}""#)), "{html}");
    let merge = format!("/contacts/{kept}/merge?other={twin}&amp;from=duplicates");
    assert!(html.contains(&merge), "{html}");

    assert_eq!(post(&app, &dismiss, &agent, &[]).await, (303, format!("/duplicates?dismissed={other}-{stranger}")));
    let html = page(&app, &format!("/duplicates?dismissed={other}-{stranger}"), &agent).await;
    assert!(html.contains("will not be suggested again") && !html.contains("Ola Lund"), "{html}");

    // The merge preview keeps where it came from, and the merge comes back here.
    let preview = page(&app, &merge.replace("&amp;", "&"), &agent).await;
    assert!(preview.contains(r#"name="from" value="duplicates""#) && preview.contains(r#"href="/duplicates""#));
    let merged =
        post(&app, &format!("/contacts/{kept}/merge"), &agent, &[("other", &twin.to_string()), ("from", "duplicates")])
            .await;
    assert_eq!(merged, (303, format!("/duplicates?merged={kept}")));
    let html = page(&app, &merged.1, &agent).await;
    assert!(html.contains("No possible duplicates to review.") && html.contains("Merged into contact"), "{html}");
    assert!(pairs(&review(&app, "").await).is_empty());
}
