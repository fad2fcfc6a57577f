//! Issue 5 over real HTTP: notes, tags, bulk actions, duplicates, safe deletion with
//! grace, restore and purge (proved by reading the whole table), closing conversations.

use aws_sdk_dynamodb::types::AttributeValue;
use contacts_tests::{eventually, spawn_app, Reply, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "test-channel-secret-1";

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Reply {
    app.send(method, path, Some(&app.key), body, &[]).await
}

/// A contact with a conversation captured through the website widget; returns its id.
async fn captured(app: &TestApp, visitor: &str, email: &str) -> u64 {
    let bot = app
        .create_bot(
            json!({"name": "Site bot", "email_collect": true, "channels": {"frame": {"signing_secret": SECRET}}}),
        )
        .await;
    let now = chrono::Utc::now();
    let at = |s: i64| (now + chrono::Duration::seconds(s)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let events = [
        json!({"event_id": format!("{visitor}-1"), "type": "message", "visitor_id": visitor, "occurred_at": at(0), "role": "user", "text": "Hello"}),
        json!({"event_id": format!("{visitor}-2"), "type": "email_collected", "visitor_id": visitor, "occurred_at": at(1), "email": email}),
    ];
    for e in events {
        assert_eq!(app.post_widget_event("frame", &bot, SECRET, &e).await, 200);
    }
    let query = format!("q={}", &email[..email.find('@').unwrap()]);
    let list =
        eventually("the captured contact", async || app.list(&query).await.body, |l| l["contacts"][0]["id"].is_u64())
            .await;
    list["contacts"][0]["id"].as_u64().unwrap()
}

/// Every item that names the contact, by key or by attribute, but its change-feed item
/// (its id and time only, asserted; a removed contact's kept 90 days as a tombstone for
/// `GET /api/v1/contacts?updated_since=`). A full-table read: test-only proof.
async fn items_about(app: &TestApp, id: u64) -> Vec<String> {
    let prefix = format!("WS#{}#C#{:012}", app.workspace, id);
    let mut found = Vec::new();
    let mut start = None;
    loop {
        let out = app
            .store
            .client()
            .scan()
            .table_name(app.store.table_name())
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in out.items() {
            let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let ws_of = item.get("workspace_id").and_then(|v| v.as_s().ok()).map(String::as_str);
            let in_ws = pk.starts_with(&format!("WS#{}#", app.workspace)) || ws_of == Some(app.workspace.as_str());
            let names_it = pk.starts_with(&prefix)
                || ["contact_id", "other_id", "id"].iter().any(|a| {
                    item.get(*a).and_then(|v| v.as_n().ok()) == Some(&id.to_string())
                        && item
                            .get("entity")
                            .and_then(|e| e.as_s().ok())
                            .is_some_and(|e| e != "tag_link" || pk.starts_with(&prefix))
                });
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str);
            if pk.ends_with("#SYNC") && sk == Some("CHANGED") {
                let mut attributes: Vec<&str> =
                    item.keys().map(String::as_str).filter(|a| *a != "expires_at").collect();
                attributes.sort_unstable();
                assert_eq!(attributes, ["entity", "gsi4pk", "gsi4sk", "pk", "sk"], "keys only: {item:?}");
                continue;
            }
            if in_ws && names_it {
                found.push(format!("{pk} {}", item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()));
            }
        }
        match out.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return found,
        }
    }
}

/// The count a contact's notes are held to (its `NOTES` item), read past the API.
async fn note_count(app: &TestApp, id: u64) -> Option<u64> {
    let sdk = contacts_tools::local::aws_config(&contacts_tests::endpoint()).await;
    let contact_pk = store::keys::contact_pk(&app.workspace, model::domain::ContactId(id));
    let item = aws_sdk_dynamodb::Client::new(&sdk)
        .get_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(contact_pk))
        .key("sk", AttributeValue::S(store::keys::NOTE_COUNT_SK.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item?;
    item.get(store::keys::NOTE_COUNT_ATTR)?.as_n().ok()?.parse().ok()
}

#[tokio::test]
async fn notes_are_timestamped_entries_with_their_author() {
    let app = spawn_app().await;
    let id = app.create(json!({"channel": "frame", "name": "Noted"})).await;
    let first =
        send(&app, Method::POST, &format!("/api/v1/contacts/{id}/notes"), Some(json!({"text": "Asked about pricing"})))
            .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["author"], "test admin");
    tokio::time::sleep(Duration::from_millis(5)).await;
    send(&app, Method::POST, &format!("/api/v1/contacts/{id}/notes"), Some(json!({"text": "Demo booked"}))).await;
    let notes = app.get(&format!("/api/v1/contacts/{id}/notes")).await.body;
    let texts: Vec<&str> = notes["notes"].as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Demo booked", "Asked about pricing"], "newest first");
    let note_id = first.body["id"].as_str().unwrap();
    assert_eq!(send(&app, Method::DELETE, &format!("/api/v1/contacts/{id}/notes/{note_id}"), None).await.status, 204);
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}/notes")).await.body["notes"].as_array().unwrap().len(), 1);
    send(&app, Method::POST, &format!("/api/v1/contacts/{id}/notes"), Some(json!({"text": "  "}))).await.problem(400);
    send(&app, Method::POST, "/api/v1/contacts/999/notes", Some(json!({"text": "nobody"}))).await.problem(404);
}

#[tokio::test]
async fn notes_come_a_page_at_a_time_and_a_contact_holds_at_most_1000() {
    let app = spawn_app().await;
    let id = app.create(json!({"channel": "frame", "name": "Much noted"})).await;
    let path = format!("/api/v1/contacts/{id}/notes");
    for n in 0..5 {
        let r = send(&app, Method::POST, &path, Some(json!({"text": format!("note {n}")}))).await;
        assert_eq!(r.status, 201, "{}", r.body);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut texts = Vec::new();
    let mut page = app.get(&format!("{path}?per_page=2")).await.body;
    loop {
        let notes = page["notes"].as_array().unwrap();
        assert!(notes.len() <= 2, "{page}");
        texts.extend(notes.iter().map(|n| n["text"].as_str().unwrap().to_string()));
        let Some(cursor) = page["next_cursor"].as_str() else { break };
        page = app.get(&format!("{path}?per_page=2&cursor={cursor}")).await.body;
    }
    assert_eq!(texts, ["note 4", "note 3", "note 2", "note 1", "note 0"], "newest first, none repeated or skipped");
    app.get(&format!("{path}?per_page=0")).await.problem(400);

    // The count, as 999 notes leave it (writing them all would only slow the test).
    let sdk = contacts_tools::local::aws_config(&contacts_tests::endpoint()).await;
    let contact_pk = store::keys::contact_pk(&app.workspace, model::domain::ContactId(id));
    aws_sdk_dynamodb::Client::new(&sdk)
        .update_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(contact_pk))
        .key("sk", AttributeValue::S(store::keys::NOTE_COUNT_SK.into()))
        .update_expression("SET notes = :n")
        .expression_attribute_values(":n", AttributeValue::N("999".into()))
        .send()
        .await
        .unwrap();
    let last = send(&app, Method::POST, &path, Some(json!({"text": "the thousandth"}))).await;
    assert_eq!(last.status, 201, "{}", last.body);
    let refused = send(&app, Method::POST, &path, Some(json!({"text": "one too many"}))).await;
    assert!(refused.problem(409)["detail"].as_str().unwrap().contains("1000 notes"), "{}", refused.body);
    let note = last.body["id"].as_str().unwrap();
    assert_eq!(send(&app, Method::DELETE, &format!("{path}/{note}"), None).await.status, 204);
    let again = send(&app, Method::POST, &path, Some(json!({"text": "room again"}))).await;
    assert_eq!(again.status, 201, "a deleted note makes room: {}", again.body);
}

#[tokio::test]
async fn tags_are_added_removed_and_counted() {
    let app = spawn_app().await;
    let a = app.create(json!({"channel": "frame"})).await;
    let b = app.create(json!({"channel": "frame", "tags": ["vip"]})).await;
    let r = send(&app, Method::POST, &format!("/api/v1/contacts/{a}/tags"), Some(json!({"tags": ["VIP", "pricing"]})))
        .await;
    assert_eq!(r.body["tags"], json!(["pricing", "vip"]));
    let tags = app.get("/api/v1/tags").await.body;
    assert_eq!(tags["tags"], json!([{"tag": "vip", "count": 2}, {"tag": "pricing", "count": 1}]));
    assert_eq!(send(&app, Method::DELETE, &format!("/api/v1/contacts/{b}/tags/vip"), None).await.status, 200);
    send(&app, Method::DELETE, &format!("/api/v1/contacts/{b}/tags/vip"), None).await.problem(404);
    assert_eq!(
        app.get("/api/v1/tags").await.body["tags"],
        json!([{"tag": "pricing", "count": 1}, {"tag": "vip", "count": 1}])
    );
}

#[tokio::test]
async fn bulk_actions_answer_per_id() {
    let app = spawn_app().await;
    let a = app.create(json!({"channel": "frame"})).await;
    let b = app.create(json!({"channel": "telegram"})).await;
    let r = send(
        &app,
        Method::POST,
        "/api/v1/contacts/bulk",
        Some(json!({"ids": [a, b, 999], "action": "tag", "tag": "webinar"})),
    )
    .await;
    let statuses: Vec<u64> =
        r.body["results"].as_array().unwrap().iter().map(|x| x["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 200, 404]);
    assert_eq!(app.ids("tag=webinar").await, [b, a]);
    send(
        &app,
        Method::POST,
        "/api/v1/contacts/bulk",
        Some(json!({"ids": [a], "action": "set_status", "status": "follow_up"})),
    )
    .await;
    assert_eq!(app.ids("status=follow_up").await, [a]);
    send(
        &app,
        Method::POST,
        "/api/v1/contacts/bulk",
        Some(json!({"ids": [a, b], "action": "untag", "tag": "webinar"})),
    )
    .await;
    assert_eq!(app.list("tag=webinar").await.body["total"], 0);
    let del = send(&app, Method::POST, "/api/v1/contacts/bulk", Some(json!({"ids": [a, b], "action": "delete"}))).await;
    assert!(del.body["results"].as_array().unwrap().iter().all(|x| x["status"] == 200));
    assert_eq!(app.list("").await.body["total"], 0);
    send(&app, Method::POST, "/api/v1/contacts/bulk", Some(json!({"ids": [], "action": "delete"}))).await.problem(400);
    send(&app, Method::POST, "/api/v1/contacts/bulk", Some(json!({"ids": [a], "action": "explode"})))
        .await
        .problem(400);
}

#[tokio::test]
async fn a_purge_out_of_time_leaves_the_contact_hidden_and_due_and_the_purge_job_finishes_it() {
    let app = spawn_app().await;
    let id = captured(&app, "v_long", "long.history@example.com").await;
    let conversations = app.get(&format!("/api/v1/contacts/{id}/conversations")).await.body;
    let conversation = conversations["conversations"][0]["id"].as_str().unwrap().to_string();
    send(&app, Method::POST, &format!("/api/v1/conversations/{conversation}/close"), None).await;

    // A request's purge whose time is up before the first conversation (as a long history's would be).
    let store = contacts_tests::clean_store(&app).await;
    let contact = model::domain::ContactId(id);
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let report = store.purge_contact_until(&app.workspace, contact, Some(past)).await.unwrap();
    assert!(report.cut_short && report.conversations == 0, "{report:?}");
    let hidden = store.get_contact(&app.workspace, contact).await.unwrap().expect("still held");
    assert!(!hidden.is_visible() && hidden.purge_after.is_some_and(|t| t <= chrono::Utc::now()), "{hidden:?}");
    app.get(&format!("/api/v1/contacts/{id}")).await.problem(404);

    let far = chrono::Utc::now() + chrono::Duration::minutes(1);
    for shard in 0..store::keys::PURGE_SHARDS {
        contacts_functions::contact_purger::work(&store, shard, None, far).await.unwrap();
    }
    assert!(store.get_contact(&app.workspace, contact).await.unwrap().is_none(), "purged by the job");
    assert!(store.get_conversation(&app.workspace, &conversation).await.unwrap().is_none(), "with its history");
}

#[tokio::test]
async fn deleting_waits_for_open_conversations_then_hides_restores_and_purges() {
    let app = spawn_app().await;
    let id = captured(&app, "v_del", "delete.me@example.com").await;
    send(&app, Method::POST, &format!("/api/v1/contacts/{id}/notes"), Some(json!({"text": "private note"}))).await;
    send(&app, Method::POST, &format!("/api/v1/contacts/{id}/tags"), Some(json!({"tags": ["vip"]}))).await;

    // An active conversation blocks the delete, as the product's troubleshooting says.
    let refused = app.delete(id, &[]).await;
    assert!(refused.problem(409)["detail"].as_str().unwrap().contains("close them first"));
    let conversation = app.get(&format!("/api/v1/contacts/{id}/conversations")).await.body["conversations"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let closed = send(&app, Method::POST, &format!("/api/v1/conversations/{conversation}/close"), None).await;
    assert_eq!(closed.body["status"], "closed");

    // Soft delete: gone from the list, search, counts and tags; the email stays reserved.
    assert_eq!(app.delete(id, &[]).await.status, 204);
    let gone = app.get(&format!("/api/v1/contacts/{id}")).await;
    assert!(gone.problem(404)["purge_after"].is_string());
    assert_eq!((app.list("").await.body["total"].as_u64(), app.ids("q=delete.me").await.len()), (Some(0), 0));
    assert_eq!(app.list("tag=vip").await.body["total"], 0);
    app.post_contact(json!({"channel": "frame", "email": "delete.me@example.com"})).await.problem(409);

    // Restore: everything back.
    let restored = send(&app, Method::POST, &format!("/api/v1/contacts/{id}/restore"), None).await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(
        (app.list("").await.body["total"].as_u64(), app.list("tag=vip").await.body["total"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(app.ids("q=delete.me").await, [id]);

    // Delete again and purge after the grace period: not one item refers to the contact.
    assert!(!items_about(&app, id).await.is_empty());
    assert_eq!(app.delete(id, &[]).await.status, 204);
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    let mut purged = 0;
    for shard in 0..store::keys::PURGE_SHARDS {
        let page = app.stack.store.purge_page(shard, later, None, 50).await.unwrap();
        assert_eq!((page.failed, page.next), (0, None));
        purged += page.done;
    }
    assert_eq!(purged, 1);
    assert_eq!(items_about(&app, id).await, Vec::<String>::new());
    app.get(&format!("/api/v1/contacts/{id}")).await.problem(404);
    send(&app, Method::POST, &format!("/api/v1/contacts/{id}/restore"), None).await.problem(404);
    app.create(json!({"channel": "frame", "email": "delete.me@example.com"})).await;
    app.stack.settled().await;
    let counters = app.stack.store.counters(&app.workspace).await.unwrap();
    assert_eq!((counters.total, counters.channels[&model::domain::Channel::Frame]), (1, 1));
}

#[tokio::test]
async fn the_scheduled_purge_leaves_contacts_still_in_their_grace_period() {
    let app = spawn_app().await;
    let id = app.create(json!({"channel": "frame"})).await;
    app.delete(id, &[]).await;
    let summary = (app.stack.jobs["contact-purger"])().await.unwrap();
    assert_eq!(summary, "4 purge shards queued");
    let depth = async || app.queue_depth("JobsQueue").await;
    eventually("the purge units to be done", depth, |d| *d == Default::default()).await;
    assert_eq!(send(&app, Method::POST, &format!("/api/v1/contacts/{id}/restore"), None).await.status, 200);
}

#[tokio::test]
async fn duplicates_come_with_their_reasons() {
    let app = spawn_app().await;
    let web = app.create(json!({"channel": "frame", "name": "Sarah Johnson", "email": "sarah@techstartup.com"})).await;
    let tg = app.create(json!({"channel": "telegram", "name": "sarah johnson"})).await;
    let other = app.create(json!({"channel": "telegram", "name": "Sarah Jones"})).await;
    let found = app.get(&format!("/api/v1/contacts/{tg}/duplicates")).await.body;
    let rows = found["duplicates"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{found}");
    assert_eq!((rows[0]["id"].as_u64(), rows[0]["reasons"][0].as_str()), (Some(web), Some("same name on frame")));
    assert!(app.get(&format!("/api/v1/contacts/{other}/duplicates")).await.body["duplicates"]
        .as_array()
        .unwrap()
        .is_empty());
}

async fn telegram_contact(app: &TestApp, user_id: u64, first_name: &str) -> u64 {
    let bot = app.create_bot(json!({"name": "TG", "channels": {"telegram": {"secret_token": SECRET}}})).await;
    let update = json!({"update_id": user_id, "message": {"message_id": 1, "date": chrono::Utc::now().timestamp(),
        "from": {"id": user_id, "is_bot": false, "first_name": first_name}, "chat": {"id": user_id, "type": "private"}, "text": "hi"}});
    assert_eq!(app.post_telegram_update(&bot, SECRET, &update).await, 200);
    let list = eventually(
        "the telegram contact",
        async || app.list("channel=telegram").await.body,
        |l| l["contacts"][0]["id"].is_u64(),
    )
    .await;
    list["contacts"][0]["id"].as_u64().unwrap()
}

#[tokio::test]
async fn merges_preview_move_history_and_undo() {
    let app = spawn_app().await;
    let web = app
        .create(json!({"channel": "frame", "name": "Olivia Bennett", "email": "olivia@lumoco.dev", "tags": ["vip"]}))
        .await;
    let tg = telegram_contact(&app, 424242, "Olivia").await;
    send(&app, Method::POST, &format!("/api/v1/contacts/{tg}/notes"), Some(json!({"text": "prefers Telegram"}))).await;
    send(&app, Method::POST, &format!("/api/v1/contacts/{tg}/tags"), Some(json!({"tags": ["pricing"]}))).await;
    let before = app.get(&format!("/api/v1/contacts/{web}")).await.body;

    // A dry run answers with the result and writes nothing.
    let preview = send(
        &app,
        Method::POST,
        &format!("/api/v1/contacts/{web}/merge"),
        Some(json!({"other_id": tg, "dry_run": true})),
    )
    .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["contact"]["identities"].as_array().unwrap().len(), 1);
    assert_eq!(preview.body["contact"]["tags"], json!(["pricing", "vip"]));
    assert_eq!(app.get(&format!("/api/v1/contacts/{web}")).await.body, before);
    assert_eq!(app.list("").await.body["total"], 2);

    let merged =
        send(&app, Method::POST, &format!("/api/v1/contacts/{web}/merge"), Some(json!({"other_id": tg}))).await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    let merge_id = merged.body["merge"]["id"].as_str().unwrap().to_string();
    assert_eq!(merged.body["merge"]["moved_conversations"], 1);
    let survivor = app.get(&format!("/api/v1/contacts/{web}")).await.body;
    assert_eq!(survivor["name"], "Olivia Bennett", "the person's value beats the channel profile");
    assert_eq!(survivor["identities"][0]["channel"], "telegram");
    assert_eq!(
        app.get(&format!("/api/v1/contacts/{web}/conversations")).await.body["conversations"].as_array().unwrap().len(),
        1
    );
    assert_eq!(app.get(&format!("/api/v1/contacts/{web}/notes")).await.body["notes"][0]["text"], "prefers Telegram");
    assert_eq!((note_count(&app, web).await, note_count(&app, tg).await), (Some(1), None), "the count moves too");
    let gone = app.get(&format!("/api/v1/contacts/{tg}")).await;
    assert_eq!(gone.problem(404)["merged_into"], web);
    assert_eq!(app.list("").await.body["total"], 1);
    assert_eq!(app.list("channel=telegram").await.body["total"], 0);
    assert_eq!(app.list("tag=pricing").await.body["total"], 1);
    assert_eq!(app.get(&format!("/api/v1/merges/{merge_id}")).await.body["state"], "done");

    // The telegram identity now leads to the survivor.
    let store = &app.stack.store;
    let found =
        store.contact_for_identity(&app.workspace, model::domain::Channel::Telegram, "424242").await.unwrap().unwrap();
    assert_eq!(found.id.0, web);

    // Undo: both contacts back as they were, with their own history.
    let undone = send(&app, Method::POST, &format!("/api/v1/merges/{merge_id}/undo"), None).await;
    assert_eq!(undone.body["state"], "undone", "{}", undone.body);
    assert_eq!(app.list("").await.body["total"], 2);
    let back = app.get(&format!("/api/v1/contacts/{tg}")).await.body;
    assert_eq!((back["name"].as_str(), back["tags"].clone()), (Some("Olivia"), json!(["pricing"])));
    assert_eq!(
        app.get(&format!("/api/v1/contacts/{tg}/conversations")).await.body["conversations"].as_array().unwrap().len(),
        1
    );
    assert_eq!(app.get(&format!("/api/v1/contacts/{tg}/notes")).await.body["notes"].as_array().unwrap().len(), 1);
    assert_eq!((note_count(&app, web).await, note_count(&app, tg).await), (Some(0), Some(1)), "and back");
    assert_eq!(
        app.get(&format!("/api/v1/contacts/{web}/conversations")).await.body["conversations"].as_array().unwrap().len(),
        0
    );
    assert_eq!(app.get(&format!("/api/v1/contacts/{web}")).await.body["identities"].as_array().unwrap().len(), 0);
    let found =
        store.contact_for_identity(&app.workspace, model::domain::Channel::Telegram, "424242").await.unwrap().unwrap();
    assert_eq!(found.id.0, tg);
    assert_eq!(
        (app.list("tag=vip").await.body["total"].as_u64(), app.list("tag=pricing").await.body["total"].as_u64()),
        (Some(1), Some(1))
    );
    send(&app, Method::POST, &format!("/api/v1/merges/{merge_id}/undo"), None).await.problem(409);
}

#[tokio::test]
async fn merges_refuse_bad_requests_and_stale_undos() {
    let app = spawn_app().await;
    let a = app.create(json!({"channel": "frame", "email": "a@example.com"})).await;
    let b = app.create(json!({"channel": "livechat", "email": "b@example.com"})).await;
    send(&app, Method::POST, &format!("/api/v1/contacts/{a}/merge"), Some(json!({"other_id": a}))).await.problem(400);
    send(&app, Method::POST, &format!("/api/v1/contacts/{a}/merge"), Some(json!({"other_id": 999}))).await.problem(400);
    send(
        &app,
        Method::POST,
        &format!("/api/v1/contacts/{a}/merge"),
        Some(json!({"other_id": b, "choose": {"id": "other"}})),
    )
    .await
    .problem(400);
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/contacts/{a}/merge"),
        Some(json!({"other_id": b, "choose": {"email": "other"}})),
    )
    .await;
    assert_eq!(r.body["contact"]["email"], "b@example.com");
    let merge_id = r.body["merge"]["id"].as_str().unwrap().to_string();
    // The address not kept still leads to the survivor.
    app.post_contact(json!({"channel": "frame", "email": "a@example.com"})).await.problem(409);
    assert_eq!(app.ids("q=a@example").await, [a]);
    app.patch(a, json!({"name": "Edited After"}), &[]).await;
    let stale = send(&app, Method::POST, &format!("/api/v1/merges/{merge_id}/undo"), None).await;
    assert!(stale.problem(409)["detail"].as_str().unwrap().contains("changed after the merge"));

    // Purging the survivor removes the merged-away contact's tombstone and the merge record too.
    send(&app, Method::PATCH, "/api/v1/workspace", Some(json!({"deletion_grace_days": 0}))).await;
    assert_eq!(app.delete(a, &[]).await.status, 204);
    // Search words of the edit before the purge may still be in flight on the stream: its consumer removes them too.
    app.stack.settled().await;
    assert_eq!(items_about(&app, a).await, Vec::<String>::new());
    assert_eq!(items_about(&app, b).await, Vec::<String>::new());
    app.get(&format!("/api/v1/merges/{merge_id}")).await.problem(404);
}

#[tokio::test]
async fn reading_a_merge_cut_short_with_a_read_key_writes_nothing() {
    let app = spawn_app().await;
    let a = app.create(json!({"channel": "frame", "name": "Ada"})).await;
    let b = app.create(json!({"channel": "frame", "name": "Ada L."})).await;
    let merged = send(&app, Method::POST, &format!("/api/v1/contacts/{a}/merge"), Some(json!({"other_id": b}))).await;
    let merge_id = merged.body["merge"]["id"].as_str().unwrap().to_string();
    // As if the function had stopped between the merge's transaction and its last steps.
    use aws_sdk_dynamodb::types::AttributeValue;
    app.store
        .client()
        .update_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("WS#{}#MERGE#{merge_id}", app.workspace)))
        .key("sk", AttributeValue::S("MERGE".into()))
        .update_expression("SET #state = :started")
        .expression_attribute_names("#state", "state")
        .expression_attribute_values(":started", AttributeValue::S("started".into()))
        .send()
        .await
        .unwrap();
    let path = format!("/api/v1/merges/{merge_id}");
    let read = app.send(Method::GET, &path, Some(&app.read_only_key), None, &[]).await;
    assert_eq!((read.status.as_u16(), read.body["state"].as_str()), (200, Some("started")), "{}", read.body);
    let again = app.send(Method::GET, &path, Some(&app.read_only_key), None, &[]).await;
    assert_eq!(again.body["state"], "started", "the read wrote nothing");
    assert_eq!(send(&app, Method::GET, &path, None).await.body["state"], "done", "a write key finishes it");
}
