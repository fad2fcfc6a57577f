//! Talking to the dashboard as a browser does, below the browser tests: no redirects
//! followed, cookies read from `Set-Cookie`, forms' CSRF tokens read from the page.

use reqwest::redirect::Policy;
use reqwest::{Client, Response};

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
