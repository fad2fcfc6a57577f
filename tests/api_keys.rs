//! `/api/v1/keys`: a workspace's keys made, listed and revoked through the API. A secret is
//! shown once; a key never makes or revokes one with a scope it lacks; a revoked or expired
//! key is refused within 5 seconds, through the API and the dashboard alike.

use contacts_tests::{eventually_within, spawn_app, spawn_app_on, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

async fn make(app: &TestApp, by: &str, body: Value) -> contacts_tests::Reply {
    app.send(Method::POST, "/api/v1/keys", Some(by), Some(body), &[]).await
}

async fn contacts_status(app: &TestApp, key: &str) -> u16 {
    app.send(Method::GET, "/api/v1/contacts", Some(key), None, &[]).await.status.as_u16()
}

#[tokio::test]
async fn a_key_is_shown_once_listed_without_its_secret_and_refused_within_5_seconds_of_its_revocation() {
    let app = spawn_app().await;
    let made = make(&app, &app.key, json!({"name": "CRM sync", "scopes": ["read", "write"]})).await;
    assert_eq!(made.status, 201, "{}", made.raw);
    let (id, secret) =
        (made.body["id"].as_str().unwrap().to_string(), made.body["secret"].as_str().unwrap().to_string());
    assert_eq!(made.header("location"), Some(format!("/api/v1/keys/{id}").as_str()));
    assert_eq!(made.body["prefix"], secret[..8]);
    assert_eq!(made.body["scopes"], json!(["read", "write"]));
    assert_eq!(contacts_status(&app, &secret).await, 200, "the new key works at once");

    let listed = app.send(Method::GET, "/api/v1/keys", Some(&app.key), None, &[]).await;
    assert_eq!(listed.status, 200, "{}", listed.raw);
    assert!(!listed.raw.contains(&secret), "no secret in the list");
    let mine = listed.body["keys"].as_array().unwrap().iter().find(|k| k["id"] == id.as_str()).unwrap().clone();
    assert_eq!((mine["name"].as_str(), mine["expires_at"].is_null()), (Some("CRM sync"), true));
    assert!(mine["last_used_at"].is_string(), "its use is recorded: {mine}");
    // Another workspace neither lists nor revokes it.
    let other = spawn_app_on(&app).await;
    let theirs = other.send(Method::GET, "/api/v1/keys", Some(&other.key), None, &[]).await;
    assert!(!theirs.raw.contains(&id));
    let r = other.send(Method::DELETE, &format!("/api/v1/keys/{id}"), Some(&other.key), None, &[]).await;
    assert_eq!(r.status, 404, "{}", r.raw);

    let r = app.send(Method::DELETE, &format!("/api/v1/keys/{id}"), Some(&app.key), None, &[]).await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let refused = async || contacts_status(&app, &secret).await;
    eventually_within(Duration::from_secs(6), "the revoked key to be refused", refused, |s| *s == 401).await;
    let again = app.send(Method::DELETE, &format!("/api/v1/keys/{id}"), Some(&app.key), None, &[]).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn a_key_never_makes_or_revokes_a_key_with_a_scope_it_lacks() {
    let app = spawn_app().await;
    let lesser = make(&app, &app.key, json!({"name": "ops", "scopes": ["admin", "read"]})).await;
    assert_eq!(lesser.status, 201, "{}", lesser.raw);
    let lesser = lesser.body["secret"].as_str().unwrap().to_string();
    let r = make(&app, &lesser, json!({"name": "escalate", "scopes": ["write"]})).await;
    assert_eq!(r.status, 403, "{}", r.raw);
    assert!(r.body["detail"].as_str().unwrap().contains("`write`"), "{}", r.raw);
    let keys = app.send(Method::GET, "/api/v1/keys", Some(&lesser), None, &[]).await.body;
    let full = keys["keys"].as_array().unwrap().iter().find(|k| k["name"] == "test admin").unwrap()["id"].clone();
    let r =
        app.send(Method::DELETE, &format!("/api/v1/keys/{}", full.as_str().unwrap()), Some(&lesser), None, &[]).await;
    assert_eq!(r.status, 403, "{}", r.raw);
    assert_eq!(contacts_status(&app, &app.key).await, 200, "the full key still works");
    let r = app.send(Method::GET, "/api/v1/keys", Some(&app.read_only_key), None, &[]).await;
    assert_eq!(r.status, 403, "listing keys needs admin");
}

#[tokio::test]
async fn an_expired_key_is_refused_and_bad_requests_name_their_field() {
    let app = spawn_app().await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let made = make(&app, &app.key, json!({"name": "short-lived", "scopes": ["read"], "expires_at": soon})).await;
    assert_eq!(made.status, 201, "{}", made.raw);
    let secret = made.body["secret"].as_str().unwrap().to_string();
    let expired = async || contacts_status(&app, &secret).await;
    eventually_within(Duration::from_secs(9), "the expired key to be refused", expired, |s| *s == 401).await;

    for (body, field) in [
        (json!({"scopes": ["read"]}), "name"),
        (json!({"name": "x"}), "scopes"),
        (json!({"name": "x", "scopes": ["root"]}), "scopes"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": "x", "scopes": ["read"], "expires_at": "tomorrow"}), "expires_at"),
        (json!({"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}), "expires_at"),
        (json!({"name": "x", "role": "superuser"}), "role"),
        (json!({"name": "x", "role": "agent", "scopes": ["read"]}), "role"),
    ] {
        let r = make(&app, &app.key, body.clone()).await;
        assert_eq!(r.problem(400)["errors"][0]["field"], field, "{body}");
    }
    let r = app.send(Method::DELETE, "/api/v1/keys/not-a-key", Some(&app.key), None, &[]).await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "id");
}

#[tokio::test]
async fn a_key_made_for_a_role_may_do_what_that_role_may_and_is_listed_with_it() {
    let app = spawn_app().await;
    let made = make(&app, &app.key, json!({"name": "support bot", "role": "agent"})).await;
    assert_eq!(made.status, 201, "{}", made.raw);
    assert_eq!((made.body["scopes"].clone(), made.body["role"].clone()), (json!(["read", "write"]), json!("agent")));
    let agent = made.body["secret"].as_str().unwrap().to_string();
    // An agent edits contacts but manages no keys and exports nothing.
    let created = app
        .send(Method::POST, "/api/v1/contacts", Some(&agent), Some(json!({"name": "Ida", "channel": "frame"})), &[])
        .await;
    assert_eq!(created.status, 201, "{}", created.raw);
    let r = app.send(Method::GET, "/api/v1/keys", Some(&agent), None, &[]).await;
    assert_eq!(r.status, 403, "{}", r.raw);
    let r = app.send(Method::POST, "/api/v1/exports", Some(&agent), Some(json!({"format": "csv"})), &[]).await;
    assert_eq!(r.status, 403, "{}", r.raw);

    let listed = app.send(Method::GET, "/api/v1/keys", Some(&app.key), None, &[]).await.body;
    let roles: Vec<(String, Value)> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["name"].as_str().unwrap().to_string(), k["role"].clone()))
        .collect();
    assert!(roles.contains(&("support bot".to_string(), json!("agent"))), "{roles:?}");
    // A set of scopes that is no role's is listed without one.
    let odd = make(&app, &app.key, json!({"name": "odd", "scopes": ["admin"]})).await;
    assert_eq!(odd.body["role"], Value::Null, "{}", odd.raw);
    // Nobody makes a key for a role above their own.
    let admin = make(&app, &app.key, json!({"name": "admin", "role": "admin"})).await.body["secret"].clone();
    let r = make(&app, admin.as_str().unwrap(), json!({"name": "owner", "role": "owner"})).await;
    assert_eq!(r.status, 403, "{}", r.raw);
}
