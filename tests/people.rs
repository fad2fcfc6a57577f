//! People and roles over real HTTP: invitations accepted in the dashboard, sign-in by
//! email and password (throttled), each role held to the permission table on API-backed
//! dashboard forms and API routes, and sessions ending on role change, removal and
//! password change.

use contacts_tests::browser::{self, client, cookie_value, get, post_form, set_cookie, sign_in, SESSION};
use contacts_tests::{spawn_app, TestApp};
use model::people::SignInThrottle;
use reqwest::{Method, Response};
use serde_json::{json, Value};

const OWNER_EMAIL: &str = "owner@people-test.example";
const OWNER_PASSWORD: &str = "owner password for tests";
const NEW_PASSWORD: &str = "a brand new password";

/// A cookie's value from a response.
fn cookie(r: &Response, name: &str) -> Option<String> {
    set_cookie(r, name).map(|header| cookie_value(&header))
}

/// Posts the sign-in form as a browser would after opening it.
async fn post_login(app: &TestApp, email: &str, password: &str) -> Response {
    let fields = [("workspace", app.workspace.as_str()), ("email", email), ("password", password)];
    browser::post_login(app, &fields).await
}

/// Whether the session still opens a page (a gone one is sent to the sign-in page).
async fn signed_in(app: &TestApp, session: &str) -> bool {
    get(app, "/contacts", session).await.status() == 200
}

async fn with_owner(app: &TestApp) {
    contacts_tools::provision::owner(&app.store, &app.workspace, OWNER_EMAIL, OWNER_PASSWORD).await.expect("owner");
}

async fn api(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> contacts_tests::Reply {
    app.send(method, path, Some(&app.key), body, &[]).await
}

/// Invites `email` as `role` with the owner key, and accepts in the dashboard with `password`.
async fn join(app: &TestApp, email: &str, role: &str, password: &str) -> String {
    let r = api(app, Method::POST, "/api/v1/invitations", Some(json!({"email": email, "role": role}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.body["url"].as_str().expect("url").to_string();
    let path = url.trim_start_matches(&app.base).to_string();
    assert!(path.starts_with(&format!("/join/{}.", app.workspace)), "{url}");
    let page = client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(email));
    let r = client().post(app.url(&path)).form(&[("name", "Sam Agent"), ("password", password)]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?"));
    let again = client().post(app.url(&path)).form(&[("name", "Sam"), ("password", password)]).send().await.unwrap();
    assert_eq!(again.status(), 404, "an invitation opens once");
    path
}

async fn person_id(app: &TestApp, email: &str) -> String {
    let r = api(app, Method::GET, "/api/v1/users", None).await;
    assert_eq!(r.status, 200);
    let users = r.body["users"].as_array().unwrap();
    let person = users.iter().find(|u| u["email"] == email).expect("listed");
    assert!(person.get("password_hash").is_none());
    person["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_invited_agent_signs_in_and_may_do_what_agents_may_and_no_more() {
    let app = spawn_app().await;
    with_owner(&app).await;
    let owner = sign_in(&app, OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(get(&app, "/team", &owner).await.status(), 200, "owners see the team");

    join(&app, "sam@people-test.example", "agent", "sam's own password").await;
    let agent = sign_in(&app, "sam@people-test.example", "sam's own password").await;
    let contacts = get(&app, "/contacts", &agent).await.text().await.unwrap();
    assert!(contacts.contains("Sam Agent") && contacts.contains("agent"), "the header names the person and role");
    assert!(!contacts.contains(r#"href="/team""#), "no Team link for agents");

    let id = app.create(json!({"name": "Olivia Brown", "email": "olivia@lumoco.dev", "channel": "frame"})).await;
    let page = format!("/contacts/{id}");
    let note = post_form(&app, &page, &format!("/contacts/{id}/notes"), &agent, &[("text", "Called back")]).await;
    assert_eq!(note.status(), 303, "agents add notes");
    let erase = post_form(&app, &page, &format!("/contacts/{id}/erase"), &agent, &[("confirm", "ERASE")]).await;
    assert_eq!(erase.status(), 403, "agents may not erase");
    assert_eq!(get(&app, "/team", &agent).await.status(), 403, "agents do not see the team");
    assert_eq!(get(&app, "/integrations", &agent).await.status(), 403);
}

#[tokio::test]
async fn viewers_read_and_change_nothing() {
    let app = spawn_app().await;
    join(&app, "vic@people-test.example", "viewer", "vic's own password").await;
    let viewer = sign_in(&app, "vic@people-test.example", "vic's own password").await;
    let id = app.create(json!({"name": "Noah Green", "channel": "frame"})).await;
    let page = format!("/contacts/{id}");
    assert_eq!(get(&app, &page, &viewer).await.status(), 200);
    let note = post_form(&app, &page, &format!("/contacts/{id}/notes"), &viewer, &[("text", "hi")]).await;
    assert_eq!(note.status(), 403);
    assert!(note.text().await.unwrap().contains("viewer"), "the refusal names the role");
}

#[tokio::test]
async fn role_changes_and_removal_end_the_persons_sessions() {
    let app = spawn_app().await;
    join(&app, "ann@people-test.example", "agent", "ann's own password").await;
    let ann = person_id(&app, "ann@people-test.example").await;
    let session = sign_in(&app, "ann@people-test.example", "ann's own password").await;
    assert!(signed_in(&app, &session).await);

    let r = api(&app, Method::PATCH, &format!("/api/v1/users/{ann}"), Some(json!({"role": "admin"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["role"], "admin");
    assert!(!signed_in(&app, &session).await, "a role change ends the session");
    let session = sign_in(&app, "ann@people-test.example", "ann's own password").await;
    assert_eq!(get(&app, "/team", &session).await.status(), 200, "admins see the team");

    let r = api(&app, Method::DELETE, &format!("/api/v1/users/{ann}"), None).await;
    assert_eq!(r.status, 204);
    assert!(!signed_in(&app, &session).await, "removal ends the session");
    assert_eq!(post_login(&app, "ann@people-test.example", "ann's own password").await.status(), 401);
    api(&app, Method::DELETE, &format!("/api/v1/users/{ann}"), None).await.problem(404);
}

#[tokio::test]
async fn admins_invite_only_agents_and_viewers_and_only_owners_change_roles() {
    let app = spawn_app().await;
    let admin_key = contacts_tools::provision::api_key(
        &app.store,
        &contacts_tools::stack::local_key_pepper(),
        &model::auth::ApiKeyRecord {
            workspace_id: app.workspace.clone(),
            name: "an admin".into(),
            scopes: vec![model::auth::Scope::Read, model::auth::Scope::Write, model::auth::Scope::Admin],
        },
        None,
    )
    .await
    .unwrap();
    let as_admin = |method: Method, path: &str, body: Value| {
        let key = admin_key.expose_secret().to_string();
        let (app, path) = (&app, path.to_string());
        async move { app.send(method, &path, Some(&key), Some(body), &[]).await }
    };
    let r = as_admin(Method::POST, "/api/v1/invitations", json!({"email": "a@people-test.example", "role": "owner"}));
    assert!(r.await.problem(403)["detail"].as_str().unwrap().contains("owner role"));
    let r = as_admin(Method::POST, "/api/v1/invitations", json!({"email": "b@people-test.example", "role": "viewer"}));
    assert_eq!(r.await.status, 201);

    join(&app, "c@people-test.example", "agent", "c's own password!").await;
    let c = person_id(&app, "c@people-test.example").await;
    as_admin(Method::PATCH, &format!("/api/v1/users/{c}"), json!({"role": "admin"})).await.problem(403);

    let r = api(
        &app,
        Method::POST,
        "/api/v1/invitations",
        Some(json!({"email": "c@people-test.example", "role": "viewer"})),
    );
    r.await.problem(409);
    let r = api(&app, Method::POST, "/api/v1/invitations", Some(json!({"email": "not an email", "role": "viewer"})));
    assert!(r.await.problem(400)["detail"].as_str().unwrap().contains("email"));
    let r =
        api(&app, Method::POST, "/api/v1/invitations", Some(json!({"email": "d@people-test.example", "role": "root"})));
    r.await.problem(400);
    app.send(Method::GET, "/api/v1/users", Some(&app.read_only_key), None, &[]).await.problem(403);
}

#[tokio::test]
async fn the_last_owner_stays() {
    let app = spawn_app().await;
    with_owner(&app).await;
    let owner = person_id(&app, OWNER_EMAIL).await;
    let r = api(&app, Method::PATCH, &format!("/api/v1/users/{owner}"), Some(json!({"role": "admin"}))).await;
    assert!(r.problem(409)["detail"].as_str().unwrap().contains("owner"));
    api(&app, Method::DELETE, &format!("/api/v1/users/{owner}"), None).await.problem(409);

    join(&app, "second@people-test.example", "owner", "second owner's password").await;
    let r = api(&app, Method::PATCH, &format!("/api/v1/users/{owner}"), Some(json!({"role": "admin"}))).await;
    assert_eq!(r.status, 200, "with another owner, the first may step down");
}

#[tokio::test]
async fn failed_sign_ins_lock_the_account_with_a_clear_message() {
    let app = spawn_app().await;
    with_owner(&app).await;
    let wrong_email = post_login(&app, "nobody@people-test.example", OWNER_PASSWORD).await;
    assert_eq!(wrong_email.status(), 401);
    let wrong_email = wrong_email.text().await.unwrap();
    for _ in 1..SignInThrottle::PER_ACCOUNT {
        let r = post_login(&app, OWNER_EMAIL, "not the password").await;
        assert_eq!(r.status(), 401);
        let text = r.text().await.unwrap();
        let message =
            |html: &str| html.split("login-error\">").nth(1).and_then(|t| t.split('<').next()).map(str::to_string);
        assert_eq!(message(&text), message(&wrong_email), "a wrong email and a wrong password read alike");
    }
    let r = post_login(&app, OWNER_EMAIL, "not the password").await;
    assert_eq!(r.status(), 401, "the fifth failure still answers as wrong");
    let locked = post_login(&app, OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(locked.status(), 429, "locked: even the right password waits");
    let retry: i64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= SignInThrottle::WINDOW_SECONDS);
    assert!(locked.text().await.unwrap().contains("too many failed sign-ins"));
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_the_old_sessions() {
    let app = spawn_app().await;
    join(&app, "rita@people-test.example", "agent", "rita's first password").await;
    let rita = person_id(&app, "rita@people-test.example").await;
    let old_session = sign_in(&app, "rita@people-test.example", "rita's first password").await;

    let r = api(&app, Method::POST, &format!("/api/v1/users/{rita}/password-reset"), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let path = r.body["url"].as_str().unwrap().trim_start_matches(&app.base).to_string();
    assert_eq!(client().get(app.url(&path)).send().await.unwrap().status(), 200);
    let short = client().post(app.url(&path)).form(&[("password", "short")]).send().await.unwrap();
    assert_eq!(short.status(), 400, "too short a password is refused and the link stays open");
    let r = client().post(app.url(&path)).form(&[("password", NEW_PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(client().post(app.url(&path)).form(&[("password", NEW_PASSWORD)]).send().await.unwrap().status(), 404);

    assert!(!signed_in(&app, &old_session).await, "the reset ends the sessions of the old password");
    assert_eq!(post_login(&app, "rita@people-test.example", "rita's first password").await.status(), 401);
    let session = sign_in(&app, "rita@people-test.example", NEW_PASSWORD).await;

    // Her own change on /account: the current password is checked; her session goes on.
    let r = post_form(
        &app,
        "/account",
        "/account",
        &session,
        &[("current_password", "wrong"), ("password", "yet another password")],
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = post_form(
        &app,
        "/account",
        "/account",
        &session,
        &[("current_password", NEW_PASSWORD), ("password", "yet another password")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let renewed = cookie(&r, SESSION).expect("a new session for this browser");
    assert!(signed_in(&app, &renewed).await);
    assert!(!signed_in(&app, &session).await, "the session of the old password ended");
}

#[tokio::test]
async fn every_change_is_in_the_audit_log_with_who_what_and_field_names_but_no_values() {
    let app = spawn_app().await;
    with_owner(&app).await;
    let id = app.create(json!({"name": "Audit Person", "email": "audited@lumoco.dev", "channel": "frame"})).await;
    let r = app.patch(id, json!({"name": "Audit Renamed"}), &[]).await;
    assert_eq!(r.status, 200);
    let owner = sign_in(&app, OWNER_EMAIL, OWNER_PASSWORD).await;
    let page = format!("/contacts/{id}");
    let note =
        post_form(&app, &page, &format!("/contacts/{id}/notes"), &owner, &[("text", "a secret note text")]).await;
    assert_eq!(note.status(), 303);
    app.get(&format!("/api/v1/contacts/{id}")).await; // reads are not changes

    let log = api(&app, Method::GET, "/api/v1/audit", None).await;
    assert_eq!(log.status, 200, "{}", log.body);
    let entries = log.body["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["POST /contacts/{id}/notes", "POST /login", "PATCH /api/v1/contacts/{id}", "POST /api/v1/contacts"],
        "newest first; the GET is not there"
    );
    let owner_id = person_id(&app, OWNER_EMAIL).await;
    assert_eq!(entries[0]["actor_id"], owner_id.as_str());
    assert_eq!(entries[0]["actor_kind"], "person");
    assert_eq!(entries[0]["targets"], json!([id.to_string()]));
    assert_eq!(entries[0]["fields"], json!(["text"]));
    assert_eq!(entries[2]["actor_id"], "key:test admin");
    assert_eq!(entries[2]["fields"], json!(["name"]));
    assert_eq!(entries[1]["fields"], json!(["email", "password", "workspace"]), "names, never values");
    for value in ["Audit Renamed", "a secret note text", OWNER_PASSWORD, "audited@lumoco.dev"] {
        assert!(!log.raw.contains(value), "{value} is in the log");
    }

    let mine = api(&app, Method::GET, &format!("/api/v1/audit?actor={owner_id}"), None).await;
    assert_eq!(mine.body["entries"].as_array().unwrap().len(), 2);
    let contacts = api(&app, Method::GET, "/api/v1/audit?action=api/v1/contacts&per_page=1", None).await;
    assert_eq!(contacts.body["entries"][0]["action"], "PATCH /api/v1/contacts/{id}");
    let cursor = contacts.body["next_cursor"].as_str().expect("a next page").to_string();
    let next =
        api(&app, Method::GET, &format!("/api/v1/audit?action=api/v1/contacts&per_page=1&cursor={cursor}"), None).await;
    assert_eq!(next.body["entries"][0]["action"], "POST /api/v1/contacts");
    assert!(next.body["next_cursor"].is_null());
    api(&app, Method::GET, &format!("/api/v1/audit?cursor={cursor}"), None).await.problem(400);
    api(&app, Method::GET, "/api/v1/audit?from=yesterday", None).await.problem(400);
    let future = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let none = api(&app, Method::GET, &format!("/api/v1/audit?from={future}"), None).await;
    assert_eq!(none.body["entries"], json!([]));
    app.send(Method::GET, "/api/v1/audit", Some(&app.read_only_key), None, &[]).await.problem(403);

    let access = api(&app, Method::GET, &format!("/api/v1/contacts/{id}/export"), None).await;
    assert_eq!(access.status, 200);
    let handed_out = api(&app, Method::GET, "/api/v1/audit?action=export", None).await;
    assert_eq!(handed_out.body["entries"][0]["action"], "GET /api/v1/contacts/{id}/export", "GDPR access is recorded");

    let page = get(&app, "/audit", &owner).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("PATCH /api/v1/contacts/{id}"));
    assert!(
        html.contains(r#"value="key:test admin""#) && html.contains(r#"value="job:retention""#),
        "keys and jobs to filter by"
    );
    let by_key = get(&app, "/audit?actor=key%3Atest%20admin", &owner).await.text().await.unwrap();
    assert!(by_key.contains("PATCH /api/v1/contacts/{id}") && !by_key.contains("POST /contacts/{id}/notes"));

    // The edit form sends every field; its entry names the one the edit changed.
    let shown = app.get(&format!("/api/v1/contacts/{id}")).await.body;
    let version = shown["version"].to_string();
    let form = [
        ("name", "Audit Renamed"),
        ("email", "audited@lumoco.dev"),
        ("phone", ""),
        ("notes", ""),
        ("tags", ""),
        ("status", "follow_up"),
        ("version", version.as_str()),
    ];
    let saved = post_form(&app, &format!("/contacts/{id}"), &format!("/contacts/{id}/edit"), &owner, &form).await;
    assert_eq!(saved.status(), 303);
    let edits = api(&app, Method::GET, "/api/v1/audit?action=/edit", None).await;
    assert_eq!(edits.body["entries"][0]["fields"], json!(["status"]), "{}", edits.raw);

    // Joining through a link is recorded as the person who joined (nobody was signed in).
    join(&app, "joiner@people-test.example", "viewer", "the joiner's password").await;
    let joiner = person_id(&app, "joiner@people-test.example").await;
    let joined = api(&app, Method::GET, "/api/v1/audit?action=join", None).await;
    assert_eq!(joined.body["entries"][0]["action"], "POST /join/{link}", "{}", joined.raw);
    assert_eq!(joined.body["entries"][0]["actor_id"], joiner.as_str());
    assert_eq!(joined.body["entries"][0]["targets"], json!([]), "the link itself is never recorded");
}

#[tokio::test]
async fn admins_make_and_revoke_keys_in_the_dashboard_within_their_own_scopes() {
    let app = spawn_app().await;
    join(&app, "adam@people-test.example", "agent", "adam's own password").await;
    let adam = person_id(&app, "adam@people-test.example").await;
    let agent = sign_in(&app, "adam@people-test.example", "adam's own password").await;
    assert_eq!(get(&app, "/keys", &agent).await.status(), 403, "agents do not manage keys");
    let r = api(&app, Method::PATCH, &format!("/api/v1/users/{adam}"), Some(json!({"role": "admin"}))).await;
    assert_eq!(r.status, 200);
    let admin = sign_in(&app, "adam@people-test.example", "adam's own password").await;

    let made =
        post_form(&app, "/keys", "/keys", &admin, &[("name", "Zapier"), ("scopes", "read"), ("scopes", "write")]).await;
    assert_eq!(made.status(), 201);
    let html = made.text().await.unwrap();
    let at = html.find("abc_").expect("the secret is shown once");
    let secret: String = html[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    assert_eq!(app.send(Method::GET, "/api/v1/contacts", Some(&secret), None, &[]).await.status, 200);
    let listed = get(&app, "/keys", &admin).await.text().await.unwrap();
    assert!(listed.contains("Zapier") && !listed.contains(&secret), "listed without its secret");

    let owner_scope = post_form(&app, "/keys", "/keys", &admin, &[("name", "Too much"), ("scopes", "owner")]).await;
    assert_eq!(owner_scope.status(), 403, "an admin makes no key with the owner scope");
    let owner_role = post_form(&app, "/keys", "/keys", &admin, &[("name", "Too much"), ("role", "owner")]).await;
    assert_eq!(owner_role.status(), 403, "nor one for the owner role");
    let for_role = post_form(&app, "/keys", "/keys", &admin, &[("name", "Helpdesk"), ("role", "agent")]).await;
    assert_eq!(for_role.status(), 201);
    let listed = get(&app, "/keys", &admin).await.text().await.unwrap();
    assert!(listed.contains("agent (read, write)"), "the key is listed with its role");
    let nameless = post_form(&app, "/keys", "/keys", &admin, &[("name", " "), ("scopes", "read")]).await;
    assert_eq!(nameless.status(), 400);

    let id = api(&app, Method::GET, "/api/v1/keys", None).await.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Zapier")
        .map(|k| k["id"].as_str().unwrap().to_string())
        .unwrap();
    let revoked = post_form(&app, "/keys", &format!("/keys/{id}/revoke"), &admin, &[]).await;
    assert_eq!(revoked.status(), 303);
    contacts_tests::eventually_within(
        std::time::Duration::from_secs(10),
        "the revoked key is refused",
        async || app.send(Method::GET, "/api/v1/contacts", Some(&secret), None, &[]).await.status.as_u16(),
        |status| *status == 401,
    )
    .await;
}
