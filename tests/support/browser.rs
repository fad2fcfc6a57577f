//! Talking to the dashboard as a browser does, below the browser tests: no redirects
//! followed, cookies read from `Set-Cookie`, forms' CSRF tokens read from the page.

use crate::TestApp;
use reqwest::redirect::Policy;
use reqwest::{Client, Method, Response};
use serde_json::json;

/// The session cookie's name: `__Host-` so browsers take it only Secure, on `/`, without a Domain.
pub const SESSION: &str = "__Host-abc_session";

/// A client that shows each redirect instead of following it.
pub fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().expect("client")
}

/// A cookie's whole `Set-Cookie` header (value and attributes) from a response.
pub fn set_cookie(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// The value of a `Set-Cookie` header.
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_string()).expect("cookie value")
}

/// The hidden CSRF field of a page.
pub fn csrf(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let at = html.find(marker).expect("a csrf field") + marker.len();
    html[at..].split('"').next().expect("value").to_string()
}

/// A page opened with a session.
pub async fn get(app: &TestApp, path: &str, session: &str) -> Response {
    client().get(app.url(path)).header("cookie", format!("{SESSION}={session}")).send().await.expect("request")
}

/// Posts a form with the CSRF token of `page`, as a browser that opened it would.
pub async fn post_form(app: &TestApp, page: &str, path: &str, session: &str, fields: &[(&str, &str)]) -> Response {
    let token = csrf(&get(app, page, session).await.text().await.expect("page"));
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", &token));
    client()
        .post(app.url(path))
        .header("cookie", format!("{SESSION}={session}"))
        .form(&form)
        .send()
        .await
        .expect("form")
}

/// Posts the sign-in form (`fields` besides its CSRF token) as a browser does after opening it.
pub async fn post_login(app: &TestApp, fields: &[(&str, &str)]) -> Response {
    let http = client();
    let form = http.get(app.url("/login")).send().await.expect("login page");
    let login_cookie = cookie_value(&set_cookie(&form, "abc_login").expect("login cookie"));
    let token = csrf(&form.text().await.expect("html"));
    let mut fields = fields.to_vec();
    fields.push(("csrf", &token));
    http.post(app.url("/login"))
        .header("cookie", format!("abc_login={login_cookie}"))
        .form(&fields)
        .send()
        .await
        .expect("sign in")
}

/// Signs in a person by email and password; the session cookie's value.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> String {
    let r = post_login(app, &[("workspace", app.workspace.as_str()), ("email", email), ("password", password)]).await;
    assert_eq!(r.status(), 303, "{email} signed in");
    assert_eq!(r.headers()["location"], "/contacts");
    cookie_value(&set_cookie(&r, SESSION).expect("session cookie"))
}

/// Invites `email` as `role` with the app's key, joins through the link with `password`
/// and signs in; the session cookie's value.
pub async fn join_and_sign_in(app: &TestApp, email: &str, role: &str, password: &str) -> String {
    let r = app
        .send(Method::POST, "/api/v1/invitations", Some(&app.key), Some(json!({"email": email, "role": role})), &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let path = r.body["url"].as_str().expect("url").trim_start_matches(&app.base).to_string();
    let joined = client().post(app.url(&path)).form(&[("name", role), ("password", password)]).send().await.unwrap();
    assert_eq!(joined.status(), 303);
    sign_in(app, email, password).await
}
