//! GDPR requests end to end: a data-subject export of one contact, erasure by email and
//! by channel identity (purge, exports holding the contact deleted with their files, a
//! receipt without personal data), and an erased person who comes back stays opted out.

use contacts_tests::{count, eventually, spawn_app, spawn_app_on, spawn_app_with, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const SECRET: &str = "test-channel-secret-1";

async fn telegram_bot(app: &TestApp) -> String {
    app.create_bot(json!({"name": "Sales bot", "channels": {"telegram": {"secret_token": SECRET}}})).await
}

/// A Telegram text message from user 5120034411 (Harper Mitchell).
async fn telegram_message(app: &TestApp, bot: &str, update_id: u64, text: &str) {
    telegram_message_at(app, bot, update_id, text, 1755838949).await
}

/// A message sent at `date` (Unix seconds, as Telegram dates them).
async fn telegram_message_at(app: &TestApp, bot: &str, update_id: u64, text: &str, date: i64) {
    let body = json!({"update_id": update_id, "message": {"message_id": update_id % 1000, "date": date,
        "from": {"id": 5120034411u64, "is_bot": false, "first_name": "Harper", "last_name": "Mitchell", "username": "harper_m"},
        "chat": {"id": 5120034411u64, "first_name": "Harper", "type": "private"}, "text": text}});
    assert_eq!(app.post_telegram_update(bot, SECRET, &body).await, 200);
}

/// The one contact the Telegram messages make, once captured.
async fn telegram_contact(app: &TestApp) -> Value {
    eventually("one telegram contact", async || app.list("channel=telegram").await.body, |l| count(l) == 1).await
}

async fn ready_export(app: &TestApp, body: Value) -> Value {
    let r = app.send(Method::POST, "/api/v1/exports", Some(&app.key), Some(body), &[]).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let read = async || app.get(&format!("/api/v1/exports/{id}")).await.body;
    let e = eventually("the export to finish", read, |e| e["status"] == "ready" || e["status"] == "failed").await;
    assert_eq!(e["status"], "ready", "{e}");
    e
}

async fn erase(app: &TestApp, body: Value) -> contacts_tests::Reply {
    app.send(Method::POST, "/api/v1/gdpr/erasure", Some(&app.key), Some(body), &[]).await
}

#[tokio::test]
async fn a_contact_exports_as_one_document_with_its_conversations() {
    let app = spawn_app().await;
    let bot = telegram_bot(&app).await;
    telegram_message(&app, &bot, 730501001, "Hi! What do your plans cost?").await;
    let list = telegram_contact(&app).await;
    let id = list["contacts"][0]["id"].as_u64().unwrap();
    assert_eq!(
        app.patch(id, json!({"email": "harper@sparkwave.app", "consent": "granted", "tags": ["vip"]}), &[])
            .await
            .status,
        200
    );

    let r = app.get(&format!("/api/v1/contacts/{id}/export")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = &r.body;
    assert_eq!(doc["contact"]["email"], "harper@sparkwave.app");
    assert_eq!(doc["contact"]["identities"][0]["external_id"], "5120034411");
    assert_eq!(doc["contact"]["provenance"]["name"]["source"], "telegram");
    assert_eq!(doc["contact"]["consent"]["status"], "granted");
    assert_eq!(doc["contact"]["consent"]["source"], "api");
    assert!(doc["contact"]["consent"]["updated_at"].is_string());
    assert_eq!(doc["contact"]["tags"], json!(["vip"]));
    assert_eq!(doc["conversations"][0]["conversation"]["channel"], "telegram");
    assert_eq!(doc["conversations"][0]["messages"][0]["text"], "Hi! What do your plans cost?");
    assert!(doc["notes"].is_array() && doc["possible_duplicates"].is_array());
    app.get("/api/v1/contacts/999999/export").await.problem(404);
    let other_reader =
        app.send(Method::GET, &format!("/api/v1/contacts/{id}/export"), Some(&app.read_only_key), None, &[]).await;
    other_reader.problem(403);
}

#[tokio::test]
async fn erasure_by_email_purges_the_contact_and_the_exports_that_hold_it() {
    let app = spawn_app().await;
    let olivia = app.create(json!({"channel": "frame", "name": "Olivia Bennett", "email": "olivia@lumoco.dev", "phone": "+1 415 555 2671"})).await;
    let mason = app.create(json!({"channel": "whatsapp", "name": "Mason Clark", "email": "mason@northpeak.co"})).await;
    let everyone = ready_export(&app, json!({"format": "csv"})).await;
    let whatsapp = ready_export(&app, json!({"format": "csv", "filters": {"channel": "whatsapp"}})).await;
    let old_link = everyone["download_url"].as_str().unwrap().to_string();
    assert_eq!(reqwest::get(&old_link).await.unwrap().status(), 200);

    let denied = app
        .send(
            Method::POST,
            "/api/v1/gdpr/erasure",
            Some(&app.read_only_key),
            Some(json!({"email": "olivia@lumoco.dev"})),
            &[],
        )
        .await;
    denied.problem(403);
    erase(&app, json!({"email": "olivia@lumoco.dev", "phone": "+1 415 555 2671"})).await.problem(400);

    let r = erase(&app, json!({"email": "OLIVIA@lumoco.dev"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "done");
    assert_eq!(r.body["subject"], "email");
    assert_eq!(r.body["contact_id"], olivia);
    assert_eq!(r.body["exports_deleted"], 1);
    assert_eq!(r.body["identities_suppressed"], 2, "email and phone");
    assert!(r.body["items_removed"].as_u64().unwrap() > 0);
    for personal in ["olivia", "Olivia", "lumoco", "2671"] {
        assert!(!r.raw.contains(personal), "the receipt holds no personal data: {}", r.raw);
    }

    // Gone everywhere: profile, list, search, the export that held her, its file.
    app.get(&format!("/api/v1/contacts/{olivia}")).await.problem(404);
    assert_eq!(app.ids("").await, [mason]);
    assert!(app.ids("q=olivia").await.is_empty());
    app.get(&format!("/api/v1/exports/{}", everyone["id"].as_str().unwrap())).await.problem(404);
    // S3 answers a missing key with 403 when the signer may not list the bucket (as on AWS).
    assert!(
        matches!(reqwest::get(&old_link).await.unwrap().status().as_u16(), 403 | 404),
        "the link no longer downloads"
    );
    let key = reqwest::Url::parse(&old_link).unwrap().path().splitn(3, '/').nth(2).unwrap().to_string();
    let bucket = &app.stack.buckets["ExportsBucket"];
    let head = app.stack.s3.head_object().bucket(bucket).key(&key).send().await;
    assert!(head.is_err_and(|e| e.as_service_error().is_some_and(|e| e.is_not_found())), "the file is deleted: {key}");
    let kept = app.get(&format!("/api/v1/exports/{}", whatsapp["id"].as_str().unwrap())).await;
    assert_eq!(kept.body["status"], "ready", "an export that cannot hold her stays");
    // Her email is free again (a new person may use it).
    app.create(json!({"channel": "frame", "email": "olivia@lumoco.dev"})).await;
    // Nothing to erase is still a receipt (and a suppression).
    let none = erase(&app, json!({"phone": "+44 20 7946 0958"})).await;
    assert_eq!(
        (none.status.as_u16(), none.body["contact_id"].clone(), none.body["identities_suppressed"].clone()),
        (200, Value::Null, json!(1))
    );
}

#[tokio::test]
async fn an_access_document_too_large_to_answer_with_is_a_link_and_erasure_deletes_its_file() {
    // Any document is "too large" here: the limit stands in for Lambda's 6 MB answers.
    let app = spawn_app_with([("ACCESS_EXPORT_INLINE_BYTES".to_string(), "200".to_string())].into()).await;
    let id = app.create(json!({"channel": "frame", "name": "Harper Mitchell", "email": "harper@sparkwave.app"})).await;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = no_redirects.get(app.url(&format!("/api/v1/contacts/{id}/export"))).bearer_auth(&app.key).send().await;
    let r = r.unwrap();
    assert_eq!(r.status(), 303);
    let link = r.headers()["location"].to_str().unwrap().to_string();
    assert!(link.contains("X-Amz-Signature="), "a signed link: {link}");
    let doc: Value = reqwest::get(&link).await.unwrap().json().await.unwrap();
    assert_eq!(
        (doc["contact"]["id"].as_u64(), doc["contact"]["email"].as_str()),
        (Some(id), Some("harper@sparkwave.app"))
    );
    // A client that follows redirects gets the document itself.
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}/export")).await.body["contact"]["id"], id);

    let r = erase(&app, json!({"contact_id": id})).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let key = reqwest::Url::parse(&link).unwrap().path().splitn(3, '/').nth(2).unwrap().to_string();
    let bucket = &app.stack.buckets["ExportsBucket"];
    let head = app.stack.s3.head_object().bucket(bucket).key(&key).send().await;
    assert!(
        head.is_err_and(|e| e.as_service_error().is_some_and(|e| e.is_not_found())),
        "erased with the person: {key}"
    );
}

#[tokio::test]
async fn an_erasure_too_long_for_its_request_answers_202_and_the_jobs_worker_finishes_it() {
    // No time in the request for the purge: the receipt and the suppression first, the rest queued.
    let app = spawn_app_with([("ERASURE_INLINE_SECONDS".to_string(), "0".to_string())].into()).await;
    let bot = telegram_bot(&app).await;
    telegram_message(&app, &bot, 730501001, "Hi! What do your plans cost?").await;
    let id = telegram_contact(&app).await["contacts"][0]["id"].as_u64().unwrap();
    assert_eq!(app.patch(id, json!({"email": "harper@sparkwave.app"}), &[]).await.status, 200);

    let r = erase(&app, json!({"email": "harper@sparkwave.app"})).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    assert_eq!((r.body["status"].as_str(), r.body["contact_id"].as_u64()), (Some("pending"), Some(id)), "{}", r.raw);
    assert_eq!(r.body["completed_at"], Value::Null);
    assert_eq!(r.body["identities_suppressed"], 2, "the email and the Telegram identity, from the start");
    let receipt = r.body["id"].as_str().unwrap().to_string();
    let location = format!("/api/v1/gdpr/erasures/{receipt}");
    assert_eq!(r.header("location"), Some(location.as_str()));
    app.get(&format!("/api/v1/contacts/{id}")).await.problem(404);
    assert_eq!(app.list("").await.body["total"], 0, "hidden at once");

    let done = eventually("the erasure done", async || app.get(&location).await.body, |r| r["status"] == "done").await;
    assert_eq!((done["id"].as_str(), done["contact_id"].as_u64()), (Some(receipt.as_str()), Some(id)), "{done}");
    assert_eq!(done["conversations_removed"], 1, "{done}");
    assert!(done["completed_at"].is_string() && done["items_removed"].as_u64() > Some(0), "{done}");
    let store = contacts_tests::clean_store(&app).await;
    assert!(store.get_contact(&app.workspace, model::domain::ContactId(id)).await.unwrap().is_none(), "purged");

    app.get("/api/v1/gdpr/erasures/not-a-receipt").await.problem(400);
    app.get(&format!("/api/v1/gdpr/erasures/er{}", "0".repeat(21))).await.problem(404);
    app.send(Method::GET, &location, Some(&app.read_only_key), None, &[]).await.problem(403);
    spawn_app_on(&app).await.get(&location).await.problem(404);
}

#[tokio::test]
async fn an_erased_identity_that_comes_back_stays_opted_out() {
    let app = spawn_app().await;
    let bot = telegram_bot(&app).await;
    telegram_message(&app, &bot, 730501001, "Hi!").await;
    let first = telegram_contact(&app).await;
    let id = first["contacts"][0]["id"].as_u64().unwrap();
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}")).await.body["opted_out"], false);

    let r = erase(&app, json!({"channel": "telegram", "external_id": "5120034411"})).await;
    assert_eq!((r.status.as_u16(), r.body["contact_id"].as_u64()), (200, Some(id)), "{}", r.body);
    app.get(&format!("/api/v1/contacts/{id}")).await.problem(404);

    // A message sent before the erasure and delivered after it (a redrive of the dead-letter
    // queue) brings nothing back.
    telegram_message(&app, &bot, 730501002, "my old message").await;
    let queue = async || app.queue_depth("CaptureQueue").await;
    eventually("the old message handled", queue, |q| q.waiting + q.in_flight + q.delayed == 0).await;
    assert_eq!(app.list("channel=telegram").await.body["total"], 0);

    telegram_message_at(&app, &bot, 730501003, "I'm back", chrono::Utc::now().timestamp() + 1).await;
    let again = telegram_contact(&app).await;
    let new_id = again["contacts"][0]["id"].as_u64().unwrap();
    assert_ne!(new_id, id, "a new contact: the old one is gone");
    let c = eventually(
        "the returning identity kept opted out",
        async || app.get(&format!("/api/v1/contacts/{new_id}")).await.body,
        |c| c["opted_out"] == true,
    )
    .await;
    assert_eq!(c["consent"]["source"], "erasure");
}

#[tokio::test]
async fn erasing_a_merged_away_contact_reaches_its_survivor_and_the_exports_made_before_the_merge() {
    let app = spawn_app().await;
    let survivor = app.create(json!({"channel": "telegram", "name": "Ava Stone"})).await;
    let merged_away = app.create(json!({"channel": "whatsapp", "name": "Ava S.", "email": "ava@example.com"})).await;
    // Made before the merge: it holds the WhatsApp contact as it was then.
    let whatsapp = ready_export(&app, json!({"format": "csv", "filters": {"channel": "whatsapp"}})).await;
    let merged = app
        .send(
            Method::POST,
            &format!("/api/v1/contacts/{survivor}/merge"),
            Some(&app.key),
            Some(json!({"other_id": merged_away})),
            &[],
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.body);

    let r = erase(&app, json!({"contact_id": merged_away})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["contact_id"], survivor, "the person now lives in the survivor");
    assert_eq!(r.body["exports_deleted"], 1, "{}", r.body);
    app.get(&format!("/api/v1/contacts/{survivor}")).await.problem(404);
    app.get(&format!("/api/v1/exports/{}", whatsapp["id"].as_str().unwrap())).await.problem(404);
    assert!(app.ids("").await.is_empty());
}

#[tokio::test]
async fn an_access_document_too_long_for_its_request_answers_202_and_the_jobs_worker_stores_it() {
    // No time in the request: the request is recorded and the jobs worker writes the document.
    let app = spawn_app_with([("ACCESS_EXPORT_INLINE_SECONDS".to_string(), "0".to_string())].into()).await;
    let bot = telegram_bot(&app).await;
    telegram_message(&app, &bot, 730501001, "Hi! What do your plans cost?").await;
    telegram_message(&app, &bot, 730501002, "And for a team of five?").await;
    let id = telegram_contact(&app).await["contacts"][0]["id"].as_u64().unwrap();
    let conversations = async || app.get(&format!("/api/v1/contacts/{id}/conversations")).await.body;
    eventually("both messages captured", conversations, |c| c["conversations"][0]["message_count"] == 2).await;
    let note = json!({"text": "Wants a quote for five seats"});
    let r = app.send(Method::POST, &format!("/api/v1/contacts/{id}/notes"), Some(&app.key), Some(note), &[]).await;
    assert_eq!(r.status, 201, "{}", r.raw);

    let r = app.get(&format!("/api/v1/contacts/{id}/export")).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    assert_eq!((r.body["status"].as_str(), r.body["contact_id"].as_u64()), (Some("pending"), Some(id)), "{}", r.raw);
    assert_eq!((r.body["download_url"].clone(), r.body["completed_at"].clone()), (Value::Null, Value::Null));
    let location = format!("/api/v1/gdpr/access-requests/{}", r.body["id"].as_str().unwrap());
    assert_eq!(r.header("location"), Some(location.as_str()));

    let done =
        eventually("the document written", async || app.get(&location).await.body, |r| r["status"] == "done").await;
    assert!(done["completed_at"].is_string() && done["bytes"].as_u64() > Some(0), "{done}");
    let link = done["download_url"].as_str().unwrap_or_else(|| panic!("a link: {done}")).to_string();
    assert!(link.contains("X-Amz-Signature="), "a signed link: {link}");
    let file = reqwest::get(&link).await.unwrap().bytes().await.unwrap();
    assert_eq!(file.len() as u64, done["bytes"].as_u64().unwrap(), "the size recorded is the file's");
    let doc: Value = serde_json::from_slice(&file).unwrap();
    let fields: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "contact",
            "conversations",
            "deleted_at",
            "generated_at",
            "notes",
            "possible_duplicates",
            "purge_after",
            "workspace"
        ]
    );
    assert_eq!((doc["contact"]["id"].as_u64(), doc["contact"]["name"].as_str()), (Some(id), Some("Harper Mitchell")));
    assert_eq!(doc["notes"][0]["text"], "Wants a quote for five seats");
    assert_eq!(doc["conversations"].as_array().map(Vec::len), Some(1), "{doc}");
    assert_eq!(doc["conversations"][0]["conversation"]["channel"], "telegram");
    let texts: Vec<&str> =
        doc["conversations"][0]["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, ["Hi! What do your plans cost?", "And for a team of five?"]);

    app.get("/api/v1/contacts/999999/export").await.problem(404);
    app.get("/api/v1/gdpr/access-requests/not-a-request").await.problem(400);
    app.get(&format!("/api/v1/gdpr/access-requests/ac{}", "0".repeat(21))).await.problem(404);
    app.send(Method::GET, &location, Some(&app.read_only_key), None, &[]).await.problem(403);
    spawn_app_on(&app).await.get(&location).await.problem(404);

    // Erased since: the file went with the person, and the record no longer links to it.
    assert_eq!(erase(&app, json!({"contact_id": id})).await.status, 200);
    let key = reqwest::Url::parse(&link).unwrap().path().splitn(3, '/').nth(2).unwrap().to_string();
    let head = app.stack.s3.head_object().bucket(&app.stack.buckets["ExportsBucket"]).key(&key).send().await;
    assert!(head.is_err_and(|e| e.as_service_error().is_some_and(|e| e.is_not_found())), "erased: {key}");
    let after = app.get(&location).await.body;
    assert_eq!((after["status"].as_str(), after["download_url"].clone()), (Some("done"), Value::Null), "{after}");
}

#[tokio::test]
async fn the_dashboard_waits_on_a_page_while_the_jobs_worker_writes_a_long_history() {
    use contacts_tests::browser::{get, join_and_sign_in};
    let app = spawn_app_with([("ACCESS_EXPORT_INLINE_SECONDS".to_string(), "0".to_string())].into()).await;
    let admin = join_and_sign_in(&app, "dpo@gdpr-test.example", "admin", "a long enough password").await;
    let id = app.create(json!({"channel": "frame", "name": "Harper Mitchell", "email": "harper@sparkwave.app"})).await;

    let r = get(&app, &format!("/contacts/{id}/gdpr-export"), &admin).await;
    assert_eq!(r.status(), 303);
    let waiting = r.headers()["location"].to_str().unwrap().to_string();
    assert!(waiting.starts_with(&format!("/contacts/{id}/gdpr-export/ac")), "{waiting}");
    let link = eventually(
        "the document ready",
        async || {
            let r = get(&app, &waiting, &admin).await;
            match r.status().as_u16() {
                303 => Some(r.headers()["location"].to_str().unwrap().to_string()),
                200 => {
                    let html = r.text().await.unwrap();
                    assert!(html.contains("prepared in the background"), "{html}");
                    None
                }
                status => panic!("{waiting}: {status}"),
            }
        },
        Option::is_some,
    )
    .await
    .unwrap();
    let file = reqwest::get(&link).await.unwrap();
    assert!(file.headers()["content-disposition"].to_str().unwrap().contains(&format!("contact-{id}-data.json")));
    let doc: Value = file.json().await.unwrap();
    assert_eq!((doc["contact"]["id"].as_u64(), doc["conversations"].clone()), (Some(id), json!([])));

    // Another contact's request is not reachable under this one.
    let other = app.create(json!({"channel": "frame", "name": "Olivia Brown"})).await;
    let request = waiting.rsplit('/').next().unwrap();
    assert_eq!(get(&app, &format!("/contacts/{other}/gdpr-export/{request}"), &admin).await.status(), 404);
    assert_eq!(get(&app, &format!("/contacts/{id}/gdpr-export/nope"), &admin).await.status(), 400);
}
