//! The settings pages over real HTTP (issue 16, and issue 20's import page): bots with
//! their switches and write-only channel secrets, the workspace's settings and retention
//! policy with its preview and run, and an import from upload to report. Each form's
//! effect is checked through the API; viewers and agents are refused; bad input is shown
//! on the page with what was typed kept.

use chrono::{Duration, Utc};
use contacts_tests::browser::{client, cookie_value, csrf, get, join_and_sign_in, post_form, set_cookie, SESSION};
use contacts_tests::{eventually, spawn_app, TestApp};
use model::domain::{Channel, Name};
use model::new_contact::NewContact;
use model::usecases::contacts;
use model::workspace::Workspace;
use reqwest::{Method, Response};
use serde_json::{json, Value};

/// Signs in with `key` through the form; returns the session cookie's value.
async fn sign_in_with_key(app: &TestApp, key: &str) -> String {
    let http = client();
    let form = http.get(app.url("/login")).send().await.expect("login page");
    let login_cookie = cookie_value(&set_cookie(&form, "abc_login").expect("login cookie"));
    let token = csrf(&form.text().await.expect("html"));
    let r = http
        .post(app.url("/login"))
        .header("cookie", format!("abc_login={login_cookie}"))
        .form(&[("api_key", key), ("csrf", &token)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status(), 303);
    cookie_value(&set_cookie(&r, SESSION).expect("session cookie"))
}

/// A new person of `role`, signed in: the session.
async fn person(app: &TestApp, email: &str, role: &str) -> String {
    join_and_sign_in(app, email, role, "a long enough password").await
}

async fn text(r: Response) -> (u16, String) {
    (r.status().as_u16(), r.text().await.expect("body"))
}

async fn api(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> contacts_tests::Reply {
    app.send(method, path, Some(&app.key), body, &[]).await
}

fn location(r: &Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The value of the first `<input … id="{id}" … value="…">`.
fn input_value(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let value = tag.split("value=\"").nth(1)?;
    Some(value[..value.find('"')?].to_string())
}

#[tokio::test]
async fn viewers_and_agents_are_refused_the_settings_pages_and_do_not_see_their_links() {
    let app = spawn_app().await;
    let admin = sign_in_with_key(&app, &app.key).await;
    let contacts = get(&app, "/contacts", &admin).await.text().await.unwrap();
    for link in ["href=\"/bots\"", "href=\"/settings\"", "href=\"/imports\""] {
        assert!(contacts.contains(link), "admins see {link}");
    }
    for (email, role) in [("vera@settings-test.example", "viewer"), ("abe@settings-test.example", "agent")] {
        let session = person(&app, email, role).await;
        let contacts = get(&app, "/contacts", &session).await.text().await.unwrap();
        for link in ["href=\"/bots\"", "href=\"/settings\"", "href=\"/imports\""] {
            assert!(!contacts.contains(link), "{role}s do not see {link}");
        }
        for page in ["/bots", "/settings", "/imports"] {
            let (status, body) = text(get(&app, page, &session).await).await;
            assert_eq!(status, 403, "{role} on {page}");
            assert!(body.contains("needs the admin or owner role"), "{body}");
        }
        for (path, fields) in [
            ("/bots", vec![("name", "Sneaky bot")]),
            ("/settings", vec![("name", "Taken over")]),
            ("/settings/retention/runs", vec![("dry_run", "0"), ("confirm", "on")]),
        ] {
            let r = post_form(&app, "/contacts", path, &session, &fields).await;
            assert_eq!(r.status(), 403, "{role} posting {path}");
        }
    }
    let bots = api(&app, Method::GET, "/api/v1/bots", None).await;
    assert_eq!(bots.body["bots"], json!([]), "no bot was made");
    assert_eq!(api(&app, Method::GET, "/api/v1/workspace", None).await.body["name"], "Test workspace");
    assert_eq!(api(&app, Method::GET, "/api/v1/retention/runs", None).await.body["runs"], json!([]));
}

/// The bot's Telegram secret as stored (sealed in the table, opened by the store).
async fn stored_telegram_secret(app: &TestApp, id: &str) -> Option<String> {
    let bot = app.store.get_bot(&model::bot::BotId::parse(id).unwrap()).await.unwrap().expect("the bot");
    bot.channels.telegram.map(|t| t.secret_token.expose().to_string())
}

#[tokio::test]
async fn the_bots_pages_make_a_bot_change_its_switches_and_rotate_write_only_secrets() {
    let app = spawn_app().await;
    let admin = sign_in_with_key(&app, &app.key).await;

    // Bad input: the message, and the name typed kept.
    let long = "x".repeat(101);
    let (status, page) = text(post_form(&app, "/bots", "/bots", &admin, &[("name", &long)]).await).await;
    assert_eq!(status, 400);
    assert!(page.contains("role=\"alert\"") && page.contains(&long), "{page}");

    let r = post_form(&app, "/bots", "/bots", &admin, &[("name", "Sales bot"), ("email_collect", "on")]).await;
    assert_eq!(r.status(), 303);
    let path = location(&r);
    let id = path.trim_start_matches("/bots/").split('?').next().unwrap().to_string();
    let bot = api(&app, Method::GET, &format!("/api/v1/bots/{id}"), None).await.body;
    assert_eq!(
        (bot["name"].as_str(), bot["email_collect"].as_bool(), bot["contact_form"].as_bool()),
        (Some("Sales bot"), Some(true), Some(false))
    );

    let page = get(&app, &format!("/bots/{id}"), &admin).await.text().await.unwrap();
    assert!(page.contains(&format!("{}/webhooks/telegram/{id}", app.base)), "the webhook url to paste");
    assert!(page.contains(&format!("{}/webhooks/whatsapp/{id}", app.base)));
    assert!(page.contains("Not set up"));

    // The switches, at the version the form showed.
    let bot_page = format!("/bots/{id}");
    let version = bot["version"].to_string();
    let r = post_form(
        &app,
        &bot_page,
        &bot_page,
        &admin,
        &[("name", "Support bot"), ("contact_form", "on"), ("version", &version)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let bot = api(&app, Method::GET, &format!("/api/v1/bots/{id}"), None).await.body;
    assert_eq!(
        (bot["name"].as_str(), bot["email_collect"].as_bool(), bot["contact_form"].as_bool()),
        (Some("Support bot"), Some(false), Some(true))
    );
    // A form of a version since changed is refused, keeping what was typed.
    let (status, page) =
        text(post_form(&app, &bot_page, &bot_page, &admin, &[("name", "Stale name"), ("version", &version)]).await)
            .await;
    assert_eq!(status, 400);
    assert!(page.contains("Stale name") && page.contains("role=\"alert\""), "{page}");
    assert_eq!(api(&app, Method::GET, &format!("/api/v1/bots/{id}"), None).await.body["name"], "Support bot");

    // A generated Telegram secret: shown once, saved, and what Telegram's calls are checked with.
    let channel = format!("/bots/{id}/channels/telegram");
    let (status, page) = text(post_form(&app, &bot_page, &channel, &admin, &[("action", "generate")]).await).await;
    assert_eq!(status, 200, "{page}");
    let secret = input_value(&page, "new-secret").expect("the secret shown once");
    assert_eq!(secret.len(), 48);
    let bot = api(&app, Method::GET, &format!("/api/v1/bots/{id}"), None).await.body;
    assert_eq!(bot["channels"]["telegram"]["configured"], true);
    let update = json!({"update_id": 1, "message": {"message_id": 1, "date": Utc::now().timestamp(), "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "first_name": "Tia"}, "text": "hi"}});
    assert_eq!(app.post_telegram_update(&id, &secret, &update).await, 200);
    assert_eq!(app.post_telegram_update(&id, "wrong-secret-123", &update).await, 403);
    let again = get(&app, &bot_page, &admin).await.text().await.unwrap();
    assert!(!again.contains(&secret) && again.contains("Secrets set"), "never shown again");

    // A secret typed in: the API's rules, and the old one stops working.
    let (status, page) =
        text(post_form(&app, &bot_page, &channel, &admin, &[("action", "set"), ("secret_token", "not valid!")]).await)
            .await;
    assert_eq!(status, 400);
    assert!(page.contains("Telegram accepts"), "{page}");
    let (status, _) = text(
        post_form(&app, &bot_page, &channel, &admin, &[("action", "set"), ("secret_token", "typed-secret-1234")]).await,
    )
    .await;
    assert_eq!(status, 200);
    // The webhooks keep a bot's settings for a minute: the rotation is checked where it is stored.
    assert_eq!(stored_telegram_secret(&app, &id).await.as_deref(), Some("typed-secret-1234"), "rotated");

    // Meta needs its app secret; the verify token may be made.
    let whatsapp = format!("/bots/{id}/channels/whatsapp");
    let (status, page) = text(post_form(&app, &bot_page, &whatsapp, &admin, &[("action", "generate")]).await).await;
    assert_eq!(status, 400);
    assert!(page.contains("app_secret"), "{page}");
    let (status, page) = text(
        post_form(&app, &bot_page, &whatsapp, &admin, &[("action", "generate"), ("app_secret", "meta-app-secret-1")])
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("verify token made") && input_value(&page, "new-secret").is_some(), "{page}");

    let r = post_form(&app, &bot_page, &channel, &admin, &[("action", "remove")]).await;
    assert_eq!(r.status(), 303);
    let bot = api(&app, Method::GET, &format!("/api/v1/bots/{id}"), None).await.body;
    assert_eq!(
        (bot["channels"]["telegram"]["configured"].as_bool(), bot["channels"]["whatsapp"]["configured"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(stored_telegram_secret(&app, &id).await, None);

    let list = get(&app, "/bots", &admin).await.text().await.unwrap();
    assert!(list.contains("Support bot") && list.contains("WhatsApp"), "{list}");
}

#[tokio::test]
async fn the_settings_page_changes_what_the_api_shows_and_keeps_bad_input() {
    let app = spawn_app().await;
    let admin = sign_in_with_key(&app, &app.key).await;
    let page = get(&app, "/settings", &admin).await.text().await.unwrap();
    assert!(page.contains("asked about") || page.contains("pricing"), "the intents are listed");

    let fields = [
        ("name", "Acme Renamed"),
        ("default_region", "de"),
        ("time_zone", "Europe/Berlin"),
        ("deletion_grace_days", "7"),
        ("follow_up_after_days", "5"),
        ("archive_after_days", "60"),
        ("phrases_pricing", "how much\nprice list"),
        ("phrases_demo", "show me"),
        ("phrases_trial", "try it"),
        ("phrases_enterprise", "SSO"),
    ];
    let r = post_form(&app, "/settings", "/settings", &admin, &fields).await;
    assert_eq!(r.status(), 303);
    let w = api(&app, Method::GET, "/api/v1/workspace", None).await.body;
    assert_eq!(
        w,
        json!({"id": app.workspace.as_str(), "name": "Acme Renamed", "default_region": "DE", "deletion_grace_days": 7,
               "follow_up_after_days": 5, "archive_after_days": 60, "time_zone": "Europe/Berlin",
               "intent_phrases": {"pricing": ["how much", "price list"], "demo": ["show me"], "trial": ["try it"], "enterprise": ["sso"]}})
    );
    let page = get(&app, "/settings", &admin).await.text().await.unwrap();
    assert!(page.contains("Times in Europe/Berlin"), "the header follows the new zone");

    for (field, value, says) in [
        ("time_zone", "Mars/Olympus", "time zone"),
        ("archive_after_days", "3", "archiving more days than follow-up"),
        ("deletion_grace_days", "a week", "whole number of days"),
        ("phrases_demo", "", "needs 1 to 100 phrases"),
    ] {
        let mut sent: Vec<(&str, &str)> = fields.iter().filter(|(k, _)| *k != field && *k != "name").copied().collect();
        sent.push((field, value));
        sent.push(("name", "Typed but refused"));
        let (status, page) = text(post_form(&app, "/settings", "/settings", &admin, &sent).await).await;
        assert_eq!(status, 400, "{field}");
        assert!(page.contains(says) && page.contains("role=\"alert\""), "{field}: {page}");
        assert!(page.contains("Typed but refused") && page.contains(value), "what was typed is kept ({field})");
    }
    assert_eq!(api(&app, Method::GET, "/api/v1/workspace", None).await.body["name"], "Acme Renamed", "nothing saved");
}

/// A contact idle for `idle_days`.
async fn seed(app: &TestApp, name: &str, idle_days: i64) -> u64 {
    let mut new = NewContact::on(Channel::Frame);
    new.name = Some(Name::parse(name).unwrap());
    new.created_at = Some(Utc::now() - Duration::days(idle_days));
    contacts::create(&app.store, &Workspace::with_defaults(app.workspace.clone()), new).await.unwrap().id.0
}

#[tokio::test]
async fn the_retention_policy_is_previewed_with_examples_then_run() {
    let app = spawn_app().await;
    let admin = sign_in_with_key(&app, &app.key).await;
    let old = seed(&app, "Olga Oldtimer", 200).await;
    seed(&app, "Rita Recent", 3).await;

    let (status, page) = text(
        post_form(
            &app,
            "/settings",
            "/settings/retention",
            &admin,
            &[("inactive_after_days", "12"), ("action", "flag")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(page.contains("30 to 3650"), "{page}");
    let r = post_form(
        &app,
        "/settings",
        "/settings/retention",
        &admin,
        &[("inactive_after_days", "90"), ("action", "flag")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let policy = api(&app, Method::GET, "/api/v1/retention/policy", None).await.body;
    assert_eq!(policy, json!({"enabled": false, "inactive_after_days": 90, "action": "flag"}));

    let r = post_form(&app, "/settings", "/settings/retention/runs", &admin, &[("dry_run", "1")]).await;
    assert_eq!(r.status(), 303);
    let (status, page) = text(get(&app, location(&r).split('#').next().unwrap(), &admin).await).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("nothing was changed") && page.contains("Olga Oldtimer") && !page.contains("Rita Recent"),
        "{page}"
    );
    assert!(page.contains("<strong class=\"retention-count\">1</strong>"), "{page}");
    let contact = api(&app, Method::GET, &format!("/api/v1/contacts/{old}"), None).await.body;
    assert!(!contact["tags"].to_string().contains("inactive-review"), "a preview changes nothing");

    let (status, page) =
        text(post_form(&app, "/settings", "/settings/retention/runs", &admin, &[("dry_run", "0")]).await).await;
    assert_eq!(status, 400, "a real run needs its box ticked");
    assert!(page.contains("Tick"), "{page}");
    let r =
        post_form(&app, "/settings", "/settings/retention/runs", &admin, &[("dry_run", "0"), ("confirm", "on")]).await;
    assert_eq!(r.status(), 303);
    let page = get(&app, location(&r).split('#').next().unwrap(), &admin).await.text().await.unwrap();
    assert!(page.contains(": done") && page.contains("flagged"), "{page}");
    let contact = api(&app, Method::GET, &format!("/api/v1/contacts/{old}"), None).await.body;
    assert!(contact["tags"].to_string().contains("inactive-review"), "{contact}");
    let runs = api(&app, Method::GET, "/api/v1/retention/runs", None).await.body;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2);
}

/// A `multipart/form-data` body with the CSRF token and one file, as a browser sends it.
fn multipart(token: &str, filename: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----settings-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &TestApp, session: &str, file: &[u8]) -> Response {
    let token = csrf(&get(app, "/imports", session).await.text().await.unwrap());
    let (content_type, body) = multipart(&token, "people.csv", file);
    client()
        .post(app.url("/imports"))
        .header("cookie", format!("{SESSION}={session}"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_import_is_uploaded_mapped_dry_run_and_imported_with_its_report() {
    let app = spawn_app().await;
    let admin = sign_in_with_key(&app, &app.key).await;
    let (status, page) = text(upload(&app, &admin, b"").await).await;
    assert_eq!(status, 400);
    assert!(page.contains("Choose a file"), "{page}");

    let csv = b"Full name,E-mail,Notes about them\nIvy Import,ivy@import.example,first\nJon Import,jon@import.example,\nBad Row,not-an-email,\n";
    let r = upload(&app, &admin, csv).await;
    assert_eq!(r.status(), 303);
    let page_path = location(&r);
    let id = page_path.trim_start_matches("/imports/").to_string();
    let page = get(&app, &page_path, &admin).await.text().await.unwrap();
    assert!(page.contains("Full name") && page.contains("Notes about them"), "the file's columns");
    assert!(page.contains("<option value=\"email\" selected>"), "E-mail guessed as email: {page}");

    let mapping = [
        ("column_0", "Full name"),
        ("field_0", "name"),
        ("column_1", "E-mail"),
        ("field_1", "email"),
        ("column_2", "Notes about them"),
        ("field_2", "notes"),
        ("duplicates", "skip"),
    ];
    let start = format!("/imports/{id}/start");
    // No channel: refused, with the choices kept.
    let mut sent = mapping.to_vec();
    sent.push(("dry_run", "on"));
    let (status, page) = text(post_form(&app, &page_path, &start, &admin, &sent).await).await;
    assert_eq!(status, 400);
    assert!(page.contains("role=\"alert\"") && page.contains("channel"), "{page}");
    assert!(page.contains("<option value=\"notes\" selected>"), "the mapping as sent");

    sent.push(("default_channel", "frame"));
    let r = post_form(&app, &page_path, &start, &admin, &sent).await;
    assert_eq!(r.status(), 303);
    let done = eventually(
        "the dry run",
        async || get(&app, &page_path, &admin).await.text().await.unwrap(),
        |p: &String| p.contains("dry run done"),
    )
    .await;
    assert!(done.contains("no contact was written"), "{done}");
    assert!(
        done.contains("<dd id=\"count-created\">2</dd>") && done.contains("<dd id=\"count-failed\">1</dd>"),
        "{done}"
    );
    assert_eq!(app.ids("q=import.example").await.len(), 0, "a dry run writes nothing");

    let mut real = mapping.to_vec();
    real.push(("default_channel", "frame"));
    let r = post_form(&app, &page_path, &start, &admin, &real).await;
    assert_eq!(r.status(), 303);
    let done = eventually(
        "the import",
        async || get(&app, &page_path, &admin).await.text().await.unwrap(),
        |p: &String| p.contains("<strong id=\"import-state\">done</strong>"),
    )
    .await;
    assert!(done.contains("<dd id=\"count-created\">2</dd>") && done.contains("Download the failed rows"), "{done}");
    let imported = api(&app, Method::GET, &format!("/api/v1/imports/{id}"), None).await.body;
    assert_eq!(imported["counts"], json!({"created": 2, "updated": 0, "skipped": 0, "failed": 1}));
    assert_eq!(imported["mapping"], json!({"Full name": "name", "E-mail": "email", "Notes about them": "notes"}));
    let report_url = imported["report_url"].as_str().unwrap();
    let report = reqwest::get(report_url).await.unwrap().text().await.unwrap();
    assert!(report.contains("row,reason") && report.contains('4'), "{report}");
    let list = get(&app, "/imports", &admin).await.text().await.unwrap();
    assert!(list.contains(&format!("/imports/{id}")), "listed");
}
