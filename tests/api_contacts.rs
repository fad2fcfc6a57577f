//! The contacts API over real HTTP, against the emulator.

use contacts_tests::{spawn_app, spawn_app_on, spawn_app_with};
use reqwest::Method;
use serde_json::json;
use std::collections::HashMap;

fn is_api_time(v: &serde_json::Value) -> bool {
    let s = v.as_str().unwrap_or("");
    chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z') && s.len() == 20
}

#[tokio::test]
async fn creates_and_reads_a_contact_in_the_documented_shape() {
    let app = spawn_app().await;
    let created = app
        .post_contact(json!({"channel": "frame", "name": "  Olivia   Bennett ", "email": "Olivia@LumoCo.dev", "phone": "+1 (415) 555-2671", "tags": ["VIP"]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("location"), Some("/api/v1/contacts/1"));
    assert_eq!(created.header("etag"), Some("\"1\""));

    let got = app.get("/api/v1/contacts/1").await;
    assert_eq!(got.status, 200);
    let c = &got.body;
    let positions: Vec<usize> =
        ["\"id\"", "\"name\"", "\"email\"", "\"phone\"", "\"channel\"", "\"created_at\"", "\"phone_e164\""]
            .iter()
            .map(|k| got.raw.find(k).expect("field present"))
            .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "the documented fields come first, in order: {}", got.raw);
    assert_eq!(c["id"], 1);
    assert_eq!(c["name"], "Olivia Bennett");
    assert_eq!(c["email"], "Olivia@lumoco.dev");
    assert_eq!(c["phone"], "+1 (415) 555-2671");
    assert_eq!(c["phone_e164"], "+14155552671");
    assert_eq!(c["channel"], "frame");
    assert!(is_api_time(&c["created_at"]), "{}", c["created_at"]);
    assert_eq!(c["status"], "new");
    assert_eq!(c["tags"], json!(["vip"]));
    assert_eq!(c["version"], 1);
    assert_eq!(got.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn ids_are_sequential_per_workspace() {
    let app = spawn_app().await;
    for expected in 1..=3 {
        assert_eq!(app.create(json!({"channel": "telegram"})).await, expected);
    }
    let other = spawn_app_on(&app).await;
    assert_eq!(other.create(json!({"channel": "telegram"})).await, 1, "another workspace counts on its own");
}

#[tokio::test]
async fn an_unparseable_phone_is_kept_as_given_and_flagged() {
    let app = spawn_app().await;
    let r = app.post_contact(json!({"channel": "frame", "phone": "+482-719-364"})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["phone"], "+482-719-364");
    assert_eq!(r.body["phone_e164"], serde_json::Value::Null);
    assert_eq!(r.body["phone_valid"], false);
}

#[tokio::test]
async fn bad_bodies_get_problems_that_name_the_field() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"channel": "frame", "email": "not-an-email"}), "email"),
        (json!({"channel": "sms"}), "channel"),
        (json!({"name": "No Channel"}), "channel"),
        (json!({"channel": "frame", "nmae": "Typo"}), "nmae"),
        (json!({"channel": "frame", "status": "hot"}), "status"),
        (json!({"channel": "frame", "tags": ["ok", "not#ok"]}), "tags"),
    ] {
        let r = app.post_contact(body.clone()).await;
        let problem = r.problem(400);
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
        assert!(problem["detail"].as_str().unwrap().contains(field));
    }
    assert_eq!(app.list("").await.body["total"], 0, "nothing was written");

    let not_json = app.send_raw(Method::POST, "/api/v1/contacts", "application/json", "{\"channel\":").await;
    not_json.problem(400);
    let wrong_type = app.send_raw(Method::POST, "/api/v1/contacts", "text/plain", "{}").await;
    wrong_type.problem(415);
    let huge = json!({"channel": "frame", "notes": "x".repeat(70 * 1024)});
    app.post_contact(huge).await.problem(413);
}

#[tokio::test]
async fn an_email_or_phone_used_by_another_contact_is_a_conflict_naming_it() {
    let app = spawn_app().await;
    let olivia = app.create(json!({"channel": "frame", "email": "olivia@lumoco.dev", "phone": "+14155552671"})).await;
    let r = app.post_contact(json!({"channel": "telegram", "email": "OLIVIA@LUMOCO.DEV"})).await;
    let p = r.problem(409);
    assert_eq!(p["contact_id"], olivia);
    assert_eq!(p["field"], "email");
    let r = app.post_contact(json!({"channel": "whatsapp", "phone": "+1 415 555 2671"})).await;
    assert_eq!(r.problem(409)["field"], "phone");
    assert_eq!(app.list("").await.body["total"], 1, "failed creates leave nothing behind");
}

#[tokio::test]
async fn patch_edits_fields_and_moves_uniqueness_with_them() {
    let app = spawn_app().await;
    let id = app.create(json!({"channel": "frame", "name": "Mason", "email": "mason@northpeak.co"})).await;
    let r = app
        .patch(id, json!({"name": "Mason Clark", "email": "mason.clark@northpeak.co", "phone": "+44 20 7946 0958", "notes": "Asked for a demo", "tags": ["demo request"], "status": "active"}), &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Mason Clark");
    assert_eq!(r.body["phone_e164"], "+442079460958");
    assert_eq!(r.body["notes"], "Asked for a demo");
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["status_set_by"], "person");
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.header("etag"), Some("\"2\""));

    // The old address is free again, the new one is taken.
    app.create(json!({"channel": "livechat", "email": "mason@northpeak.co"})).await;
    let taken = app.post_contact(json!({"channel": "livechat", "email": "mason.clark@northpeak.co"})).await;
    assert_eq!(taken.problem(409)["contact_id"], id);

    let cleared = app.patch(id, json!({"email": null}), &[]).await;
    assert_eq!(cleared.body["email"], serde_json::Value::Null);
    app.create(json!({"channel": "livechat", "email": "mason.clark@northpeak.co"})).await;
}

#[tokio::test]
async fn a_conflicting_patch_changes_nothing() {
    let app = spawn_app().await;
    let a = app.create(json!({"channel": "frame", "email": "a@example.com"})).await;
    let b = app.create(json!({"channel": "frame", "email": "b@example.com", "name": "Bee"})).await;
    let r = app.patch(b, json!({"name": "Changed", "email": "A@example.com"}), &[]).await;
    assert_eq!(r.problem(409)["contact_id"], a);
    let now = app.get(&format!("/api/v1/contacts/{b}")).await.body;
    assert_eq!(
        (now["name"].as_str(), now["email"].as_str(), now["version"].as_u64()),
        (Some("Bee"), Some("b@example.com"), Some(1))
    );
}

#[tokio::test]
async fn if_match_prevents_lost_updates() {
    let app = spawn_app().await;
    let id = app.create(json!({"channel": "frame", "name": "Harper"})).await;
    let first = app.patch(id, json!({"name": "Harper Mitchell"}), &[("if-match", "\"1\"")]).await;
    assert_eq!(first.status, 200);
    let stale = app.patch(id, json!({"name": "Harper M."}), &[("if-match", "\"1\"")]).await;
    assert_eq!(stale.problem(412)["current_version"], 2);
    let bad = app.patch(id, json!({"name": "X"}), &[("if-match", "W/\"2\"")]).await;
    assert_eq!(bad.problem(400)["errors"][0]["field"], "If-Match");
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}")).await.body["name"], "Harper Mitchell");
    app.delete(id, &[("if-match", "\"1\"")]).await.problem(412);
}

#[tokio::test]
async fn delete_removes_the_contact_and_frees_its_email() {
    let app = spawn_app().await;
    let r = app
        .send(Method::PATCH, "/api/v1/workspace", Some(&app.key), Some(json!({"deletion_grace_days": 0})), &[])
        .await;
    assert_eq!(r.body["deletion_grace_days"], 0, "{}", r.body);
    let id = app.create(json!({"channel": "messenger", "email": "gone@example.com", "tags": ["vip"]})).await;
    let r = app.delete(id, &[]).await;
    assert_eq!(r.status, 204);
    app.get(&format!("/api/v1/contacts/{id}")).await.problem(404);
    app.delete(id, &[]).await.problem(404);
    let list = app.list("").await.body;
    assert_eq!((list["total"].as_u64(), list["contacts"].as_array().unwrap().len()), (Some(0), 0));
    assert_eq!(app.list("tag=vip").await.body["total"], 0);
    assert_eq!(app.list("channel=messenger").await.body["total"], 0);
    app.create(json!({"channel": "frame", "email": "gone@example.com"})).await;
}

#[tokio::test]
async fn keys_decide_who_gets_in_and_which_workspace_they_see() {
    let app = spawn_app().await;
    let id = app.create(json!({"channel": "frame", "name": "Secret"})).await;

    let none = app.send(Method::GET, "/api/v1/contacts", None, None, &[]).await;
    none.problem(401);
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    app.send(Method::GET, "/api/v1/contacts", Some("abc_not_a_real_key_at_all_000"), None, &[]).await.problem(401);
    app.send(Method::GET, "/api/v1/contacts", None, None, &[("authorization", "Basic Zm9vOmJhcg==")])
        .await
        .problem(401);

    let reader = app.send(Method::GET, "/api/v1/contacts", Some(&app.read_only_key), None, &[]).await;
    assert_eq!(reader.status, 200);
    let write = app
        .send(Method::POST, "/api/v1/contacts", Some(&app.read_only_key), Some(json!({"channel": "frame"})), &[])
        .await;
    assert!(write.problem(403)["detail"].as_str().unwrap().contains("write"));

    let other = spawn_app_on(&app).await;
    other.get(&format!("/api/v1/contacts/{id}")).await.problem(404);
    other.patch(id, json!({"name": "Hijack"}), &[]).await.problem(404);
    other.delete(id, &[]).await.problem(404);
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}")).await.body["name"], "Secret");
}

#[tokio::test]
async fn paths_and_methods_outside_the_template_are_refused_clearly() {
    let app = spawn_app().await;
    app.get("/api/v1/contacts/abc").await.problem(400);
    app.get("/api/v1/contacts/0").await.problem(400);
    app.get("/api/v1/nothing").await.problem(404);
    let put = app.send(Method::PUT, "/api/v1/contacts/1", Some(&app.key), None, &[]).await;
    put.problem(405);
    assert!(put.header("allow").unwrap().contains("PATCH"));
    app.get("/api/v1/contacts/1?expand=all").await.problem(400);
}

#[tokio::test]
async fn main_paths_make_the_expected_dynamodb_calls() {
    // The key stays cached for the whole test, however slow the machine: each path's own calls.
    let app = spawn_app_with(HashMap::from([("KEY_CACHE_SECONDS".to_string(), "300".to_string())])).await;
    let created = app.post_contact(json!({"channel": "frame", "email": "calls@example.com"})).await;
    // Auth on the first call (the key, its first use recorded, the workspace), then the id
    // sequence and one transaction.
    // Then its audit entry.
    assert_eq!(
        created.ddb_operations(),
        ["GetItem", "UpdateItem", "GetItem", "UpdateItem", "TransactWriteItems", "PutItem"]
    );
    let id = created.body["id"].as_u64().unwrap();
    // The key is cached from here on.
    assert_eq!(app.list("").await.ddb_operations(), ["Query", "GetItem"], "a page is one Query plus the total");
    assert_eq!(app.list("channel=frame&per_page=5").await.ddb_operations(), ["Query", "GetItem"]);
    assert_eq!(app.list("range=7d").await.ddb_operations(), ["Query"], "no counter, no total read");
    assert_eq!(app.list("q=calls").await.ddb_operations(), ["Query"], "search words carry the list fields");
    let detail = app.get(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(
        detail.ddb_operations(),
        ["Query", "Query"],
        "the profile and its live state, one Query; its states in the CRMs, one more"
    );
    let timing = app.list("").await.header("server-timing").unwrap().to_string();
    assert!(timing.contains("rcu=") && !timing.contains("rcu=0 "), "{timing}");
}

/// Found by the API fuzzer (scripts/fuzz.sh): serde reads a struct from an array by
/// position, so `[null, null]` passed for an object; bulk ignored members of other actions,
/// answered an id beyond any contact's as one of its results, and spent over 10 s (the API
/// function's timeout) on one contact's id given 100 times.
#[tokio::test]
async fn arrays_are_not_read_as_objects_and_members_of_other_actions_are_refused() {
    let app = spawn_app().await;
    let segment =
        app.send(Method::POST, "/api/v1/segments", Some(&app.key), Some(json!({"name": "Leads"})), &[]).await.body
            ["id"]
            .as_str()
            .unwrap()
            .to_string();
    let r = app
        .send(Method::PATCH, &format!("/api/v1/segments/{segment}"), Some(&app.key), Some(json!([null, null])), &[])
        .await;
    assert!(r.problem(400)["detail"].as_str().unwrap().contains("JSON object"));

    let bot = json!({"name": "Sales bot", "channels": [null, null]});
    let r = app.send(Method::POST, "/api/v1/bots", Some(&app.key), Some(bot), &[]).await;
    r.problem(400);
    let bot = app
        .create_bot(json!({"name": "Sales bot", "channels": {"telegram": {"secret_token": "tg-secret-8f3a2c"}}}))
        .await;
    let patch = json!({"channels": {"telegram": [null]}});
    app.send(Method::PATCH, &format!("/api/v1/bots/{bot}"), Some(&app.key), Some(patch), &[]).await.problem(400);
    let kept = app.get(&format!("/api/v1/bots/{bot}")).await;
    assert_eq!(kept.body["channels"]["telegram"]["configured"], true, "the secret was not removed");

    let id = app.create(json!({"channel": "frame"})).await;
    let bulk = json!({"ids": [id], "action": "tag", "tag": "vip", "status": "AAA"});
    let r = app.send(Method::POST, "/api/v1/contacts/bulk", Some(&app.key), Some(bulk), &[]).await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "status");
    let bulk = json!({"ids": [id, 9223372036854775808_u64], "action": "tag", "tag": "vip"});
    let r = app.send(Method::POST, "/api/v1/contacts/bulk", Some(&app.key), Some(bulk), &[]).await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "ids", "an id that cannot be a contact's refuses the request");
    let bulk = json!({"ids": [id, id], "action": "tag", "tag": "vip"});
    let r = app.send(Method::POST, "/api/v1/contacts/bulk", Some(&app.key), Some(bulk), &[]).await;
    assert!(r.problem(400)["detail"].as_str().unwrap().contains("more than once"), "a repeated id only spends time");
    let bulk = json!({"ids": [id], "action": "delete", "tag": "vip"});
    let r = app.send(Method::POST, "/api/v1/contacts/bulk", Some(&app.key), Some(bulk), &[]).await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "tag");
}
