//! The dashboard over real HTTP, below the browser: what the browser tests cannot see
//! (the stored session item, other workspaces, read-only keys, expiry, headers), and the
//! integrations page against a local HubSpot and webhook receiver.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use contacts_tests::browser::{client, cookie_value, csrf, set_cookie, SESSION};
use contacts_tests::vendors::{Vendor, WebhookReceiver};
use contacts_tests::{eventually, spawn_app, TestApp};
use contacts_tools::stack::local_key_pepper;
use model::auth::{ApiKeyRecord, Scope};
use model::domain::ContactId;
use model::integration::{ContactSync, SyncError};
use model::session::{secret_hash, DashboardSession, SignedIn};
use reqwest::Response;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Posts the sign-in form with `key`, as a browser would after opening it.
async fn post_login(app: &TestApp, key: &str) -> Response {
    let http = client();
    let form = http.get(app.url("/login")).send().await.expect("login page");
    let login_cookie = cookie_value(&set_cookie(&form, "abc_login").expect("login cookie"));
    let token = csrf(&form.text().await.expect("html"));
    http.post(app.url("/login"))
        .header("cookie", format!("abc_login={login_cookie}"))
        .form(&[("api_key", key), ("csrf", &token)])
        .send()
        .await
        .expect("sign in")
}

/// Signs in through the form; returns the session cookie's value.
async fn sign_in(app: &TestApp, key: &str) -> String {
    let r = post_login(app, key).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/contacts");
    let cookie = set_cookie(&r, SESSION).expect("session cookie");
    for part in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/;", "Max-Age=43200"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    cookie_value(&cookie)
}

async fn get(app: &TestApp, path: &str, session: &str) -> Response {
    client().get(app.url(path)).header("cookie", format!("{SESSION}={session}")).send().await.expect("request")
}

/// The item stored for an API key hash, if any.
async fn api_key_item(app: &TestApp, hash: &str) -> Option<std::collections::HashMap<String, AttributeValue>> {
    app.store
        .client()
        .get_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(store::keys::api_key_pk(hash)))
        .key("sk", AttributeValue::S(store::keys::API_KEY_SK.into()))
        .send()
        .await
        .expect("get item")
        .item
}

fn plain_sha256(key: &str) -> String {
    format!("{:x}", Sha256::digest(key.as_bytes()))
}

#[tokio::test]
async fn api_keys_are_stored_under_the_pepper_and_plain_sha256_hashes_are_refused() {
    let app = spawn_app().await;
    assert!(api_key_item(&app, &local_key_pepper().key_hash(&app.key)).await.is_some(), "stored under the pepper");
    assert!(api_key_item(&app, &plain_sha256(&app.key)).await.is_none(), "not under its SHA-256");
    assert_eq!(app.get("/api/v1/contacts").await.status, 200, "the key works through the API");
    let session = sign_in(&app, &app.key).await;
    assert_eq!(get(&app, "/contacts", &session).await.status(), 200, "and through the dashboard");

    // A key stored the way keys were before the pepper opens neither.
    let legacy = "abc_legacy_key_stored_as_plain_sha256";
    let record =
        ApiKeyRecord { workspace_id: app.workspace.clone(), name: "legacy".into(), scopes: Scope::ALL.to_vec() };
    let info =
        store::KeyInfo::new(&model::auth::ApiKey::from_secret(legacy).unwrap(), &record, chrono::Utc::now(), None);
    app.store.put_api_key(&plain_sha256(legacy), &record, &info).await.expect("legacy key stored");
    let r = app.send(reqwest::Method::GET, "/api/v1/contacts", Some(legacy), None, &[]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(post_login(&app, legacy).await.status(), 401);
}

#[tokio::test]
async fn sessions_are_stored_by_hash_in_the_workspace_with_an_expiry() {
    let app = spawn_app().await;
    let session = sign_in(&app, &app.key).await;
    let (ws, secret) = session.split_once('.').expect("workspace.secret");
    assert_eq!(ws, app.workspace.as_str());

    let item = app
        .store
        .client()
        .get_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("WS#{ws}#SESSION#{}", secret_hash(secret))))
        .key("sk", AttributeValue::S("SESSION".into()))
        .send()
        .await
        .expect("get item")
        .item
        .expect("the session item");
    let text = format!("{item:?}");
    assert!(!text.contains(secret) && !text.contains(&app.key), "neither the session secret nor the API key is stored");
    assert_eq!(item["api_key_hash"].as_s().unwrap(), &local_key_pepper().key_hash(&app.key));
    let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    let hours = (expires - Utc::now().timestamp()) as f64 / 3600.0;
    assert!((11.9..=12.0).contains(&hours), "TTL about 12 h ahead, got {hours}");

    assert_eq!(get(&app, "/contacts", &session).await.status(), 200);
}

#[tokio::test]
async fn a_session_cookie_opens_nothing_outside_its_workspace_or_after_expiry() {
    let app = spawn_app().await;
    let session = sign_in(&app, &app.key).await;
    let (_, secret) = session.split_once('.').unwrap();
    for forged in [format!("other-ws.{secret}"), format!("{}.{}", app.workspace, "0".repeat(64)), "garbage".to_string()]
    {
        let r = get(&app, "/contacts", &forged).await;
        assert_eq!(r.status(), 303, "{forged}");
        assert_eq!(r.headers()["location"], "/login");
    }

    let expired_secret = "e".repeat(64);
    let past = Utc::now() - Duration::minutes(1);
    let expired = DashboardSession {
        workspace_id: app.workspace.clone(),
        signed_in: SignedIn::Key { hash: local_key_pepper().key_hash(&app.key) },
        created_at: past - Duration::hours(12),
        last_seen_at: past,
        expires_at: past,
    };
    app.store.put_session(&secret_hash(&expired_secret), &expired).await.unwrap();
    let r = get(&app, "/contacts", &format!("{}.{expired_secret}", app.workspace)).await;
    assert_eq!(r.status(), 303, "an expired session is refused before DynamoDB's TTL removes it");
}

/// Sets a session's recorded last request, as if it had been idle since `at`.
async fn seen_at(app: &TestApp, session: &str, at: chrono::DateTime<Utc>) {
    let (ws, secret) = session.split_once('.').unwrap();
    app.store
        .client()
        .update_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("WS#{ws}#SESSION#{}", secret_hash(secret))))
        .key("sk", AttributeValue::S("SESSION".into()))
        .update_expression("SET last_seen_at = :at")
        .expression_attribute_values(":at", AttributeValue::N(at.timestamp().to_string()))
        .send()
        .await
        .expect("update item");
}

#[tokio::test]
async fn a_session_ends_after_30_idle_minutes_and_each_request_keeps_it_alive() {
    let app = spawn_app().await;
    let active = sign_in(&app, &app.key).await;
    seen_at(&app, &active, Utc::now() - Duration::minutes(25)).await;
    assert_eq!(get(&app, "/contacts", &active).await.status(), 200, "25 idle minutes are within the timeout");
    seen_at(&app, &active, Utc::now() - Duration::minutes(25)).await;
    let (ws, secret) = active.split_once('.').unwrap();
    let workspace = model::domain::WorkspaceId::parse(ws).unwrap();
    assert_eq!(get(&app, "/contacts", &active).await.status(), 200);
    let session = app.store.get_session(&workspace, &secret_hash(secret), Utc::now()).await.unwrap().expect("session");
    assert!(Utc::now() - session.last_seen_at < Duration::minutes(1), "the request was recorded: {session:?}");

    let idle = sign_in(&app, &app.key).await;
    seen_at(&app, &idle, Utc::now() - Duration::minutes(31)).await;
    let r = get(&app, "/contacts", &idle).await;
    assert_eq!(r.status(), 303, "31 idle minutes end the session");
    assert_eq!(r.headers()["location"], "/login");
    let (_, secret) = idle.split_once('.').unwrap();
    assert!(app.store.get_session(&workspace, &secret_hash(secret), Utc::now()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_read_only_key_can_look_but_not_change() {
    let app = spawn_app().await;
    let id = app.create(json!({"channel": "frame", "name": "Olivia Bennett"})).await;
    let session = sign_in(&app, &app.read_only_key).await;
    let list = get(&app, "/contacts", &session).await;
    assert_eq!(list.status(), 200);
    let html = list.text().await.unwrap();
    assert!(
        html.contains("Olivia Bennett") && !html.contains("Delete Olivia Bennett"),
        "no delete action for a reader"
    );

    let page = get(&app, &format!("/contacts/{id}"), &session).await.text().await.unwrap();
    assert!(!page.contains("Edit contact"));
    let token = csrf(&page);
    let r = client()
        .post(app.url(&format!("/contacts/{id}/delete")))
        .header("cookie", format!("{SESSION}={session}"))
        .form(&[("csrf", token.as_str()), ("version", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("lacks the `write` scope"));
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}")).await.status, 200);
}

#[tokio::test]
async fn pages_are_not_cached_framed_or_sniffed_and_escape_what_they_show() {
    let app = spawn_app().await;
    let id = app.create(json!({"channel": "frame", "name": "<script>alert(1)</script>", "notes": "\"><img src=x onerror=alert(1)>"})).await;
    let session = sign_in(&app, &app.key).await;
    let r = get(&app, &format!("/contacts/{id}"), &session).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<img src=x"));

    let css = client().get(app.url("/static/dashboard.css")).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
    assert_eq!(client().get(app.url("/static/nope.js")).send().await.unwrap().status(), 404);
}

/// Posts a form of the dashboard with the session's cookie.
async fn post(app: &TestApp, path: &str, session: &str, form: &[(&str, &str)]) -> Response {
    client()
        .post(app.url(path))
        .header("cookie", format!("{SESSION}={session}"))
        .form(form)
        .send()
        .await
        .expect("request")
}

fn location(r: &Response) -> String {
    r.headers()["location"].to_str().expect("location").to_string()
}

async fn text(app: &TestApp, path: &str, session: &str) -> String {
    let r = get(app, path, session).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.expect("html")
}

/// Vendor calls wait out the sync queue: a few seconds each.
const SYNC_DEADLINE: std::time::Duration = std::time::Duration::from_secs(90);

#[tokio::test]
async fn admins_add_pause_resync_and_delete_integrations_from_their_page() {
    let app = spawn_app().await;
    let vendor = Vendor::hubspot("pat-dashboard-test").await;
    let early = app.create(json!({"channel": "frame", "name": "Early Bird", "email": "early@example.com"})).await;
    let session = sign_in(&app, &app.key).await;
    let html = text(&app, "/integrations", &session).await;
    assert!(html.contains("No integrations yet.") && html.contains(r#"<a href="/integrations">Integrations</a>"#));
    let token = csrf(&html);

    // A bad field: the model's reason beside it, what was typed kept but the token not, nothing stored.
    let mut form = vec![
        ("csrf", token.as_str()),
        ("kind", "hubspot"),
        ("name", "Sales HubSpot"),
        ("hubspot_base_url", "http://10.0.0.5"),
        ("hubspot_access_token", "pat-dashboard-test"),
    ];
    let bad = post(&app, "/integrations", &session, &form).await;
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains(r#"<p class="field-error" id="hubspot_base_url-error">API address: must be an https URL"#),
        "{html}"
    );
    assert!(html.contains(r#"aria-invalid="true" aria-describedby="hubspot_base_url-hint hubspot_base_url-error""#));
    assert!(html.contains(r#"value="http://10.0.0.5""#) && html.contains(r#"value="Sales HubSpot""#));
    assert!(!html.contains("pat-dashboard-test"), "credentials are never shown back");
    assert!(app.store.list_integrations(&app.workspace).await.unwrap().is_empty(), "nothing stored");

    // Added: listed with its status; its first sync sends the contacts made before it.
    let base = vendor.base();
    form[3].1 = &base;
    let added = post(&app, "/integrations", &session, &form).await;
    assert_eq!(added.status(), 303);
    let id = location(&added).strip_prefix("/integrations?added=").expect("the new integration").to_string();
    let html = text(&app, &location(&added), &session).await;
    assert!(html.contains("Sales HubSpot added: the workspace's contacts are on their way"), "{html}");
    assert!(html.contains(&format!(r#"<tr data-integration-id="{id}"><td data-label="Name"><div>Sales HubSpot"#)));
    assert!(html.contains(
        r#"<td data-label="Kind">HubSpot</td><td data-label="Status"><span class="badge badge-active">Active</span>"#
    ));
    assert!(!html.contains("pat-dashboard-test"));
    let early_at_hubspot = async || vendor.records().into_iter().find(|(_, r)| r["email"] == "early@example.com");
    let (remote_id, _) =
        contacts_tests::eventually_within(SYNC_DEADLINE, "the backfill", early_at_hubspot, Option::is_some)
            .await
            .unwrap();
    let remote_cell = format!(r#"<td data-label="Remote ID">{remote_id}</td>"#);
    let contact_page = async || text(&app, &format!("/contacts/{early}"), &session).await;
    let page = eventually("the contact's sync state", contact_page, |html| html.contains(&remote_cell)).await;
    assert!(page.contains(r#"<h2 id="sync-heading">CRM sync</h2>"#));
    assert!(page.contains(&format!(
        r#"<tr data-integration-id="{id}"><td data-label="Integration"><span><a href="/integrations">Sales HubSpot</a>"#
    )));

    // Forms without the session's token change nothing.
    let forged = post(&app, &format!("/integrations/{id}/pause"), &session, &[("csrf", &"0".repeat(64))]).await;
    assert_eq!(forged.status(), 403);

    // Paused: shown so; a resync waits for the resume; changes meanwhile are not sent.
    let paused = post(&app, &format!("/integrations/{id}/pause"), &session, &[("csrf", &token)]).await;
    assert_eq!((paused.status().as_u16(), location(&paused)), (303, format!("/integrations?paused={id}")));
    let html = text(&app, &location(&paused), &session).await;
    assert!(html.contains(r#"<span class="badge badge-paused">Paused</span>"#));
    assert!(html.contains(&format!(r#"action="/integrations/{id}/resume""#)) && !html.contains("/resync\""));
    assert!(app.store.get_integration(&app.workspace, &id).await.unwrap().unwrap().integration.paused);
    let refused = post(&app, &format!("/integrations/{id}/resync"), &session, &[("csrf", &token)]).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("Sales HubSpot is paused: resume it first, then resync."));
    app.create(json!({"channel": "telegram", "name": "Quiet Time", "email": "paused@example.com"})).await;
    app.stack.settled().await;

    let resumed = post(&app, &format!("/integrations/{id}/resume"), &session, &[("csrf", &token)]).await;
    assert_eq!(resumed.status(), 303);
    assert!(text(&app, &location(&resumed), &session).await.contains("resync to send them"));
    assert!(!vendor.records().values().any(|r| r["email"] == "paused@example.com"), "not sent while paused");
    let resynced = post(&app, &format!("/integrations/{id}/resync"), &session, &[("csrf", &token)]).await;
    assert_eq!((resynced.status().as_u16(), location(&resynced)), (303, format!("/integrations?resynced={id}")));
    assert!(text(&app, &location(&resynced), &session).await.contains("Resync of Sales HubSpot queued"));
    let quiet_at_hubspot = async || vendor.records().values().any(|r| r["email"] == "paused@example.com");
    contacts_tests::eventually_within(SYNC_DEADLINE, "the resync", quiet_at_hubspot, |sent| *sent).await;

    // Deleted after a confirmation; the contact page no longer lists it.
    let confirm = text(&app, &format!("/integrations/{id}/delete"), &session).await;
    assert!(
        confirm.contains("<h1>Delete Sales HubSpot?</h1>") && confirm.contains(r#"<a href="/integrations">Cancel</a>"#)
    );
    let deleted = post(&app, &format!("/integrations/{id}/delete"), &session, &[("csrf", &csrf(&confirm))]).await;
    assert_eq!(location(&deleted), format!("/integrations?deleted={id}"));
    assert!(app.store.get_integration(&app.workspace, &id).await.unwrap().is_none());
    assert!(text(&app, &location(&deleted), &session).await.contains("No integrations yet."));
    let page = text(&app, &format!("/contacts/{early}"), &session).await;
    assert!(page.contains("Not sent to any CRM or webhook yet.") && !page.contains("Sales HubSpot"));

    // A key without the admin scope sees neither the page nor its link.
    let reader = sign_in(&app, &app.read_only_key).await;
    assert_eq!(get(&app, "/integrations", &reader).await.status(), 403);
    assert!(!text(&app, "/contacts", &reader).await.contains(r#"href="/integrations""#));
}

#[tokio::test]
async fn a_webhook_secret_is_shown_once_and_vendor_errors_show_their_status_and_code() {
    let app = spawn_app().await;
    let receiver = WebhookReceiver::start().await;
    let session = sign_in(&app, &app.key).await;
    let token = csrf(&text(&app, "/integrations", &session).await);
    let url = receiver.url();
    let form = [
        ("csrf", token.as_str()),
        ("kind", "webhook"),
        ("name", "Zap"),
        ("webhook_url", url.as_str()),
        ("webhook_events", "contact.created"),
        ("webhook_events", "contact.updated"),
    ];
    let made = post(&app, "/integrations", &session, &form).await;
    assert_eq!(made.status(), 201);
    let html = made.text().await.unwrap();
    let at = html.find(r#"<code id="signing-secret">"#).expect("the secret") + r#"<code id="signing-secret">"#.len();
    let secret = html[at..].split('<').next().unwrap().to_string();
    assert!(secret.starts_with("whsec_") && html.contains("it is not shown again"), "{html}");
    receiver.set_secret(&secret);
    let stored = app.store.list_integrations(&app.workspace).await.unwrap();
    let events = match &stored[0].integration.target {
        model::integration::Target::Webhook { events, .. } => events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(events, ["contact.created", "contact.updated"]);
    let id = stored[0].integration.id.clone();

    // Five refused deliveries in a row: failing, with the vendor's status, code and message.
    let error = SyncError {
        status: Some(503),
        code: Some("RECEIVER_DOWN".into()),
        message: "<b>maintenance</b>".into(),
        at: Utc::now(),
    };
    for _ in 0..model::integration::FAILING_AFTER {
        app.store.record_delivery(&app.workspace, &id, 0, 1, Some(&error)).await.unwrap();
    }
    let html = text(&app, "/integrations", &session).await;
    assert!(!html.contains(&secret), "the secret is shown once only");
    assert!(html.contains(r#"<span class="badge badge-failing">Failing</span>"#), "{html}");
    assert!(html.contains(
        r#"<span class="sync-error">HTTP 503 · <code>RECEIVER_DOWN</code> · &lt;b&gt;maintenance&lt;/b&gt;</span>"#
    ));
    assert!(html.contains(r#"<td data-label="Failed">5</td>"#));

    // A contact's own refusal, on its page.
    let contact = app.create(json!({"channel": "frame", "name": "Refused Person"})).await;
    let state = ContactSync {
        integration: id.clone(),
        remote_id: None,
        synced_at: None,
        last_error: Some(SyncError { status: Some(422), code: Some("INVALID_EMAIL".into()), ..error }),
    };
    app.store.put_syncs(&app.workspace, &[(ContactId(contact), state)]).await.unwrap();
    let page = text(&app, &format!("/contacts/{contact}"), &session).await;
    assert!(page.contains(&format!(
        r#"<tr data-integration-id="{id}"><td data-label="Integration"><span><a href="/integrations">Zap</a>"#
    )));
    assert!(page.contains(r#"<td data-label="Remote ID">—</td>"#));
    assert!(page.contains(r#"HTTP 422 · <code>INVALID_EMAIL</code>"#), "{page}");
}

#[tokio::test]
async fn times_show_in_the_workspaces_time_zone_which_the_header_names() {
    let app = spawn_app().await;
    let mut new = model::new_contact::NewContact::on(model::domain::Channel::Frame);
    new.created_at = Some("2025-08-22T05:02:29Z".parse().unwrap());
    let workspace = model::workspace::Workspace::with_defaults(app.workspace.clone());
    let id = model::usecases::contacts::create(&app.store, &workspace, new).await.unwrap().id;
    let zone = json!({"time_zone": "America/Los_Angeles"});
    let set = app.send(reqwest::Method::PATCH, "/api/v1/workspace", Some(&app.key), Some(zone), &[]).await;
    assert_eq!(set.status, 200, "{}", set.body);
    let session = sign_in(&app, &app.key).await;
    for path in ["/contacts".to_string(), format!("/contacts/{id}")] {
        let html = text(&app, &path, &session).await;
        assert!(
            html.contains(r#"<time datetime="2025-08-22T05:02:29Z">21.8.2025 22:02:29</time>"#),
            "{path}: Pacific Daylight Time, the instant in UTC: {html}"
        );
        assert_eq!(html.matches("America/Los_Angeles").count(), 1, "{path}: the zone is named once");
    }
    // The dashboard trusts the key's settings for a few seconds (`KEY_CACHE_SECONDS`).
    let winter = json!({"time_zone": "Europe/Berlin"});
    app.send(reqwest::Method::PATCH, "/api/v1/workspace", Some(&app.key), Some(winter), &[]).await;
    eventually(
        "Berlin's time on the page",
        async || text(&app, "/contacts", &session).await,
        |html| html.contains(">22.8.2025 07:02:29</time>") && html.contains("Times in Europe/Berlin"),
    )
    .await;
}
