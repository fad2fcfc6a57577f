//! Retention runs: exactly the contacts the policy names, dry runs change nothing, runs
//! resume from their checkpoint, and the schedule starts one a day.

use chrono::{Duration, Utc};
use contacts_tests::{eventually, spawn_app, TestApp};
use model::domain::{Channel, Name};
use model::new_contact::NewContact;
use model::usecases::contacts;
use model::workspace::Workspace;
use reqwest::Method;
use serde_json::json;

/// A contact idle for `idle_days`, whose status a person set (activity alone would archive it).
async fn seed(app: &TestApp, name: &str, idle_days: i64) -> u64 {
    let mut new = NewContact::on(Channel::Frame);
    new.name = Some(Name::parse(name).unwrap());
    new.status = Some(model::domain::LeadStatus::Active);
    new.created_at = Some(Utc::now() - Duration::days(idle_days));
    contacts::create(&app.store, &Workspace::with_defaults(app.workspace.clone()), new).await.unwrap().id.0
}

#[tokio::test]
async fn runs_do_what_the_policy_says_to_exactly_the_inactive_contacts() {
    let app = spawn_app().await;
    let old = seed(&app, "Old Visitor", 400).await;
    let older = seed(&app, "Older Visitor", 800).await;
    let recent = seed(&app, "Recent Visitor", 100).await;

    let policy = app.get("/api/v1/retention/policy").await.body;
    assert_eq!(policy, json!({"enabled": true, "inactive_after_days": 365, "action": "flag"}));
    let set = app
        .send(
            Method::PUT,
            "/api/v1/retention/policy",
            Some(&app.key),
            Some(json!({"enabled": true, "inactive_after_days": 365, "action": "archive"})),
            &[],
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let before = app.list("").await.body;

    let dry =
        app.send(Method::POST, "/api/v1/retention/runs", Some(&app.key), Some(json!({"dry_run": true})), &[]).await;
    assert_eq!(dry.status, 201, "{}", dry.body);
    assert_eq!((dry.body["status"].as_str(), dry.body["counts"]["archived"].as_u64()), (Some("done"), Some(2)));
    assert_eq!(app.list("").await.body, before, "a dry run changes nothing");

    let real =
        app.send(Method::POST, "/api/v1/retention/runs", Some(&app.key), Some(json!({"dry_run": false})), &[]).await;
    assert_eq!(real.body["counts"]["archived"], 2);
    let archived: Vec<u64> = app.ids("status=archived").await;
    assert_eq!(archived, [old, older], "newest first");
    assert_ne!(app.get(&format!("/api/v1/contacts/{recent}")).await.body["status"], "archived");
    let again = app.send(Method::POST, "/api/v1/retention/runs", Some(&app.key), None, &[]).await;
    assert_eq!(again.body["counts"].get("archived"), None, "idempotent: nothing left to archive");

    let runs = app.get("/api/v1/retention/runs").await.body;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 3);
    let id = real.body["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/retention/runs/{id}")).await.body["counts"]["archived"], 2);

    // Delete: soft deletes with the workspace's grace period.
    app.send(
        Method::PUT,
        "/api/v1/retention/policy",
        Some(&app.key),
        Some(json!({"enabled": true, "inactive_after_days": 365, "action": "delete"})),
        &[],
    )
    .await;
    let deleted = app.send(Method::POST, "/api/v1/retention/runs", Some(&app.key), None, &[]).await;
    assert_eq!(deleted.body["counts"]["deleted"], 2);
    assert_eq!(app.ids("").await, [recent]);
    app.get(&format!("/api/v1/contacts/{old}")).await.problem(404);
}

#[tokio::test]
async fn runs_resume_from_their_checkpoint_and_need_admin() {
    let app = spawn_app().await;
    for i in 0..3 {
        seed(&app, &format!("Idle {i}"), 500 + i).await;
    }
    let store = &app.stack.store;
    let policy = store.retention_policy(&app.workspace).await.unwrap();
    // A run recorded and never worked on, as one whose worker stopped before its first batch.
    let paused = store.start_retention_run(&app.workspace, policy, false, Utc::now()).await.unwrap();
    assert_eq!(app.get(&format!("/api/v1/retention/runs/{}", paused.id)).await.body["status"], "running");
    let summary = (app.stack.jobs["retention"])().await.unwrap();
    assert_eq!(summary, "1 workspaces queued for retention");
    let run_status = async || app.get(&format!("/api/v1/retention/runs/{}", paused.id)).await.body["status"].clone();
    eventually("the jobs worker to resume the unfinished run", run_status, |s| s == "done").await;
    assert_eq!(app.list("tag=inactive-review").await.body["total"], 3);

    let r = app.send(Method::POST, "/api/v1/retention/runs", Some(&app.read_only_key), None, &[]).await;
    r.problem(403);
    let bad = app
        .send(
            Method::PUT,
            "/api/v1/retention/policy",
            Some(&app.key),
            Some(json!({"enabled": true, "inactive_after_days": 3, "action": "flag"})),
            &[],
        )
        .await;
    assert_eq!(bad.problem(400)["errors"][0]["field"], "inactive_after_days");
}
