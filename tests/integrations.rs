//! CRM sync and outbound webhooks end to end: the API makes an integration, contacts change
//! through the API, the table's stream feeds the fan-out, the sync worker sends to local
//! servers that behave like HubSpot, Salesforce and Zoho CRM (`support::vendors`) and to a
//! Standard Webhooks receiver. Rate limits, expired tokens, refused records, opt-outs,
//! deletions, merges and erasures included.

use contacts_tests::vendors::{Fault, Vendor, WebhookReceiver};
use contacts_tests::{eventually, spawn_app, TestApp};
use http::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// Vendor calls wait out backoff and `Retry-After`: a few seconds each.
const SYNC_DEADLINE: Duration = Duration::from_secs(90);

async fn add_integration(app: &TestApp, body: Value) -> Value {
    let r = app.send(Method::POST, "/api/v1/integrations", Some(&app.key), Some(body), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

async fn integration(app: &TestApp, id: &str) -> Value {
    let r = app.send(Method::GET, &format!("/api/v1/integrations/{id}"), Some(&app.key), None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The vendor's record whose `field` is `value`.
async fn record_where(vendor: &Vendor, field: &str, value: &str) -> Value {
    let probe = async || vendor.records().into_values().find(|r| r[field] == value);
    contacts_tests::eventually_within(
        SYNC_DEADLINE,
        &format!("a record with {field} = {value}"),
        probe,
        Option::is_some,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn hubspot_gets_contacts_as_they_change_and_a_rate_limit_only_delays_them() {
    let app = spawn_app().await;
    let vendor = Vendor::hubspot("pat-na1-test").await;
    // Made before the integration: its first sync (the backfill) sends it.
    let early = app.create(json!({"channel": "livechat", "name": "Early Bird", "email": "early@example.com"})).await;
    let made = add_integration(
        &app,
        json!({"kind": "hubspot", "base_url": vendor.base(), "credentials": {"access_token": "pat-na1-test"}}),
    )
    .await;
    let id = made["id"].as_str().unwrap().to_string();
    assert!(made.get("credentials").is_none() && !made.to_string().contains("pat-na1-test"), "{made}");
    assert!(made["backfill"].is_string(), "{made}");
    assert_eq!(record_where(&vendor, "email", "early@example.com").await["aibot_contact_id"], early.to_string());

    vendor.fail_next(Fault::RateLimited { retry_after_seconds: 1 });
    let ada = app.create(json!({"channel": "telegram", "name": "Ada Lovelace", "email": "ada@example.com"})).await;
    let record = record_where(&vendor, "email", "ada@example.com").await;
    assert_eq!((record["firstname"].as_str(), record["lastname"].as_str()), (Some("Ada"), Some("Lovelace")));
    assert_eq!(record["aibot_channel"], "telegram");
    assert_eq!(record["aibot_contact_id"], ada.to_string());
    let calls = vendor.received();
    assert!(calls.iter().all(|c| c.headers.get("authorization").map(String::as_str) == Some("Bearer pat-na1-test")));
    let upserts = calls.iter().filter(|c| c.path == "/crm/v3/objects/contacts/batch/upsert").count();
    assert!(upserts >= 2, "the rate-limited call was sent again ({upserts} upserts)");

    // A contact without email is found again by our id.
    let anonymous = app.create(json!({"channel": "frame", "name": "Visitor"})).await;
    record_where(&vendor, "aibot_contact_id", &anonymous.to_string()).await;

    assert_eq!(app.patch(ada, json!({"name": "Ada King"}), &[]).await.status, 200);
    record_where(&vendor, "lastname", "King").await;
    // After the first sync a record is found by our id: a new email updates it.
    assert_eq!(app.patch(ada, json!({"email": "ada.king@example.com"}), &[]).await.status, 200);
    record_where(&vendor, "email", "ada.king@example.com").await;
    let ada_id = ada.to_string();
    let ada_records = vendor.records().into_values().filter(|r| r["aibot_contact_id"] == ada_id.as_str()).count();
    assert_eq!(ada_records, 1, "one record for the contact");

    let healthy = async || integration(&app, &id).await;
    let shown = eventually("the integration's counts", healthy, |i| i["synced"].as_u64() >= Some(4)).await;
    assert_eq!(shown["status"], "active");
    assert!(shown["last_success_at"].is_string());
    assert_eq!(shown["last_error"]["code"], "RATE_LIMIT", "the 429 is shown as the last error");

    let detail = app.get(&format!("/api/v1/contacts/{ada}")).await;
    assert_eq!(detail.body["sync"][0]["integration"], id.as_str(), "{}", detail.body);
    assert!(detail.body["sync"][0]["remote_id"].is_string() && detail.body["sync"][0]["last_error"].is_null());

    assert_eq!(app.delete(ada, &[]).await.status, 204);
    let gone = async || vendor.records().into_values().any(|r| r["aibot_contact_id"] == ada_id.as_str());
    contacts_tests::eventually_within(SYNC_DEADLINE, "the deleted contact archived", gone, |there| !there).await;
}

#[tokio::test]
async fn salesforce_refreshes_an_expired_token_and_shows_a_refused_record_on_its_contact() {
    let app = spawn_app().await;
    let vendor = Vendor::salesforce("client-1", "secret-1", "refresh-1").await;
    let made = add_integration(
        &app,
        json!({
            "kind": "salesforce",
            "base_url": vendor.base(),
            "token_url": format!("{}/services/oauth2/token", vendor.base()),
            "credentials": {"client_id": "client-1", "client_secret": "secret-1", "refresh_token": "refresh-1"},
        }),
    )
    .await;
    let id = made["id"].as_str().unwrap().to_string();

    app.create(json!({"channel": "whatsapp", "name": "Grace Hopper", "email": "grace@example.com"})).await;
    let grace = record_where(&vendor, "Email", "grace@example.com").await;
    assert_eq!((grace["LastName"].as_str(), grace["Company"].as_str()), (Some("Hopper"), Some("[not provided]")));

    vendor.fail_next(Fault::ExpiredToken);
    app.create(json!({"channel": "frame", "name": "Alan Turing", "email": "alan@example.com"})).await;
    record_where(&vendor, "Email", "alan@example.com").await;
    let tokens = vendor.received().iter().filter(|c| c.path == "/services/oauth2/token").count();
    assert_eq!(tokens, 2, "one token at first, one after the 401");

    vendor.reject_records_where("Email", "blocked@example.com");
    let blocked =
        app.create(json!({"channel": "frame", "name": "Blocked Person", "email": "blocked@example.com"})).await;
    let failed = async || integration(&app, &id).await;
    let shown =
        contacts_tests::eventually_within(SYNC_DEADLINE, "the refusal counted", failed, |i| i["failed"] == 1).await;
    assert_eq!(shown["last_error"]["code"], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "{shown}");
    let detail = app.get(&format!("/api/v1/contacts/{blocked}")).await;
    let sync = &detail.body["sync"];
    assert_eq!(sync.as_array().map(Vec::len), Some(1), "{}", detail.body);
    assert_eq!(sync[0]["last_error"]["code"], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "the contact shows the refusal");
    assert_eq!((sync[0]["remote_id"].is_null(), sync[0]["kind"].as_str()), (true, Some("salesforce")));

    // Paused: nothing is sent; a resync after resuming sends what the filters match.
    let path = format!("/api/v1/integrations/{id}");
    let paused = app.send(Method::PATCH, &path, Some(&app.key), Some(json!({"paused": true})), &[]).await;
    assert_eq!(paused.body["status"], "paused", "{}", paused.body);
    let refused = app.send(Method::POST, &format!("{path}/resync"), Some(&app.key), None, &[]).await;
    assert_eq!(refused.status, 409);
    app.create(json!({"channel": "telegram", "name": "Quiet Time", "email": "paused@example.com"})).await;
    app.create(json!({"channel": "frame", "name": "Web Only", "email": "web@example.com"})).await;
    app.stack.settled().await;
    assert_eq!(app.send(Method::PATCH, &path, Some(&app.key), Some(json!({"paused": false})), &[]).await.status, 200);
    let body = json!({"filters": {"channel": "telegram"}});
    let resync = app.send(Method::POST, &format!("{path}/resync"), Some(&app.key), Some(body), &[]).await;
    assert_eq!(resync.status, 202, "{}", resync.body);
    record_where(&vendor, "Email", "paused@example.com").await;
    assert!(!vendor.records().values().any(|r| r["Email"] == "web@example.com"), "the filter held");
}

#[tokio::test]
async fn zoho_never_gets_opted_out_contacts_and_deletes_an_erased_one() {
    let app = spawn_app().await;
    let vendor = Vendor::zoho("zc-1", "zs-1", "zr-1").await;
    let made = add_integration(
        &app,
        json!({
            "kind": "zoho",
            "base_url": vendor.base(),
            "accounts_url": vendor.base(),
            "credentials": {"client_id": "zc-1", "client_secret": "zs-1", "refresh_token": "zr-1"},
        }),
    )
    .await;
    app.create(json!({"channel": "frame", "email": "quiet@example.com", "consent": "withdrawn"})).await;
    let lin = app.create(json!({"channel": "messenger", "name": "Lin", "email": "lin@example.com"})).await;
    let record = record_where(&vendor, "Email", "lin@example.com").await;
    assert_eq!(record["Last_Name"], "Lin");
    assert!(
        vendor
            .received()
            .iter()
            .all(|c| c.headers.get("authorization").is_none_or(|a| a.starts_with("Zoho-oauthtoken "))),
        "Zoho's own authorization scheme"
    );
    assert!(
        !vendor.records().values().any(|r| r["Email"] == "quiet@example.com"),
        "an opted-out contact is never pushed"
    );

    let remote = vendor.records().into_iter().find(|(_, r)| r["Email"] == "lin@example.com").unwrap().0;
    // Paused, it is told of erasures all the same: a resync would not send them.
    let path = format!("/api/v1/integrations/{}", made["id"].as_str().unwrap());
    assert_eq!(app.send(Method::PATCH, &path, Some(&app.key), Some(json!({"paused": true})), &[]).await.status, 200);
    let erased =
        app.send(Method::POST, "/api/v1/gdpr/erasure", Some(&app.key), Some(json!({"contact_id": lin})), &[]).await;
    assert_eq!(erased.status, 200, "{}", erased.body);
    let deleted = async || vendor.deleted();
    contacts_tests::eventually_within(SYNC_DEADLINE, "the erased contact deleted", deleted, |d| d.contains(&remote))
        .await;
    assert!(!vendor.records().contains_key(&remote));
}

#[tokio::test]
async fn webhooks_are_signed_retried_with_the_same_id_and_tell_merges_and_erasures_by_id() {
    let app = spawn_app().await;
    let receiver = WebhookReceiver::start().await;
    let made = add_integration(&app, json!({"kind": "webhook", "url": receiver.url()})).await;
    let secret = made["signing_secret"].as_str().expect("the secret, shown once");
    assert!(secret.starts_with("whsec_"));
    receiver.set_secret(secret);
    let listed = app.send(Method::GET, "/api/v1/integrations", Some(&app.key), None, &[]).await;
    assert!(!listed.body.to_string().contains(secret), "never shown again");

    receiver.fail_next(1);
    let web = app.create(json!({"channel": "frame", "name": "Mia Chen", "email": "mia@example.com"})).await;
    let created = async || receiver.deliveries().into_iter().find(|(_, b)| b["type"] == "contact.created");
    let (_, body) =
        contacts_tests::eventually_within(SYNC_DEADLINE, "contact.created", created, Option::is_some).await.unwrap();
    assert_eq!(body["data"]["contact"]["email"], "mia@example.com");
    assert_eq!(body["data"]["contact_id"], web);

    let tg = app.create(json!({"channel": "telegram", "name": "Mia C."})).await;
    let merged = app
        .send(
            Method::POST,
            &format!("/api/v1/contacts/{web}/merge"),
            Some(&app.key),
            Some(json!({"other_id": tg})),
            &[],
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    let merge = async || receiver.deliveries().into_iter().find(|(_, b)| b["type"] == "contact.merged");
    let (_, body) =
        contacts_tests::eventually_within(SYNC_DEADLINE, "contact.merged", merge, Option::is_some).await.unwrap();
    assert_eq!(body["data"], json!({"contact_id": tg, "survivor_id": web}));

    let erased =
        app.send(Method::POST, "/api/v1/gdpr/erasure", Some(&app.key), Some(json!({"contact_id": web})), &[]).await;
    assert_eq!(erased.status, 200, "{}", erased.body);
    let erasure = async || receiver.deliveries().into_iter().find(|(_, b)| b["type"] == "contact.erased");
    let (_, body) =
        contacts_tests::eventually_within(SYNC_DEADLINE, "contact.erased", erasure, Option::is_some).await.unwrap();
    assert_eq!(body["data"], json!({"contact_id": web}), "ids only");
    assert_eq!(receiver.rejected(), 0, "every delivery verified");
    let ids: Vec<String> = receiver.deliveries().into_iter().map(|(id, _)| id).collect();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "one delivery per change once it succeeded: {ids:?}");
}

#[tokio::test]
async fn bad_integrations_are_refused_with_the_field_and_why() {
    let app = spawn_app().await;
    let refused = async |body: Value| {
        let r = app.send(Method::POST, "/api/v1/integrations", Some(&app.key), Some(body), &[]).await;
        assert!(r.status.is_client_error(), "{}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        r.body["detail"].as_str().unwrap_or_default().to_string()
    };
    assert!(refused(json!({"kind": "pipedrive"})).await.contains("pipedrive"));
    assert!(refused(json!({"kind": "hubspot"})).await.contains("credentials"));
    let private = json!({"kind": "hubspot", "base_url": "http://10.0.0.5", "credentials": {"access_token": "x"}});
    assert!(refused(private).await.contains("https"));
    let metadata = json!({"kind": "webhook", "url": "https://169.254.169.254/latest"});
    assert!(refused(metadata).await.contains("not a public address"));
    assert!(refused(json!({"kind": "webhook", "url": "https://example.com", "secret": "mine"}))
        .await
        .contains("secret"));
    let read_only = app.send(Method::GET, "/api/v1/integrations", Some(&app.read_only_key), None, &[]).await;
    assert_eq!(read_only.status, 403);
}

#[tokio::test]
async fn updated_since_pulls_each_changed_contact_once_oldest_first_and_removed_ones_as_tombstones() {
    let app = spawn_app().await;
    let since = (chrono::Utc::now() - chrono::Duration::seconds(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let kept = app.create(json!({"channel": "frame", "name": "Kept Contact"})).await;
    let gone = app.create(json!({"channel": "telegram", "name": "Gone Contact"})).await;
    assert_eq!(app.patch(kept, json!({"tags": ["vip"]}), &[]).await.status, 200);
    assert_eq!(app.patch(kept, json!({"name": "Kept Again"}), &[]).await.status, 200);
    assert_eq!(app.delete(gone, &[]).await.status, 204);

    let mut changes = Vec::new();
    let mut path = format!("/api/v1/contacts?updated_since={since}&per_page=1");
    loop {
        let page = app.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        changes.extend(page.body["changes"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/contacts?updated_since={since}&per_page=1&cursor={cursor}"),
            None => break,
        }
    }
    let ids: Vec<u64> = changes.iter().map(|c| c["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [kept, gone], "each contact once, in the order of its latest change: {changes:?}");
    assert_eq!(changes[0]["contact"]["name"], "Kept Again");
    assert_eq!((changes[0]["deleted"].as_bool(), changes[1]["deleted"].as_bool()), (Some(false), Some(true)));
    assert!(changes[1]["contact"].is_null(), "a tombstone carries the id only");
    let times: Vec<&str> = changes.iter().map(|c| c["changed_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    let combined = app.get(&format!("/api/v1/contacts?updated_since={since}&channel=frame")).await;
    assert_eq!(combined.status, 400, "{}", combined.body);
    assert!(combined.body["detail"].as_str().unwrap().contains("channel"));
    let bad = app.get("/api/v1/contacts?updated_since=yesterday").await;
    assert!(bad.status.is_client_error() && bad.body["detail"].as_str().unwrap().contains("RFC 3339"));
}

#[tokio::test]
async fn a_crm_with_filters_takes_only_matching_contacts_and_archives_them_as_moved_to_crm() {
    let app = spawn_app().await;
    let vendor = Vendor::zoho("zc-2", "zs-2", "zr-2").await;
    let bad = app
        .send(
            Method::POST,
            "/api/v1/integrations",
            Some(&app.key),
            Some(json!({"kind": "webhook", "url": "https://example.com/h", "archive_after_sync": true})),
            &[],
        )
        .await;
    assert!(bad.status.is_client_error() && bad.body["detail"].as_str().unwrap().contains("archive_after_sync"));
    let made = add_integration(
        &app,
        json!({
            "kind": "zoho",
            "base_url": vendor.base(),
            "accounts_url": vendor.base(),
            "module": "Contacts",
            "credentials": {"client_id": "zc-2", "client_secret": "zs-2", "refresh_token": "zr-2"},
            "filters": {"channel": "whatsapp"},
            "archive_after_sync": true,
        }),
    )
    .await;
    assert_eq!(
        (made["filters"]["channel"].as_str(), made["archive_after_sync"].as_bool()),
        (Some("whatsapp"), Some(true))
    );
    let taken = app.create(json!({"channel": "whatsapp", "name": "Rosa Parks", "email": "rosa@example.com"})).await;
    let left = app.create(json!({"channel": "frame", "name": "Web Visitor", "email": "visitor@example.com"})).await;
    record_where(&vendor, "Email", "rosa@example.com").await;
    let archived = async || app.get(&format!("/api/v1/contacts/{taken}")).await.body;
    let moved = contacts_tests::eventually_within(SYNC_DEADLINE, "archived as moved to the CRM", archived, |c| {
        c["archived_reason"] == "moved_to_crm"
    })
    .await;
    assert_eq!((moved["status"].as_str(), moved["status_set_by"].as_str()), (Some("archived"), Some("integration")));
    app.stack.settled().await;
    assert!(!vendor.records().values().any(|r| r["Email"] == "visitor@example.com"), "the filter held");
    let untouched = app.get(&format!("/api/v1/contacts/{left}")).await.body;
    assert!(untouched["archived_reason"].is_null() && untouched["status"] != "archived", "{untouched}");
    let upserts = vendor.received().iter().filter(|c| c.path == "/crm/v8/Contacts/upsert").count();
    assert!(upserts <= 3, "archiving does not loop: {upserts} upserts");
}
