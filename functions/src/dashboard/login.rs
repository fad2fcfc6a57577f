//! `/`, `/login` and `/logout`: signing in with a workspace API key, and out.

use super::format::Form;
use super::layout::{html, page, redirect, with_cookie};
use super::session::{self, LOGIN_COOKIE, SESSION_COOKIE, SESSION_HOURS};
use super::{Dashboard, PageResult};
use crate::http::Problem;
use lambda_http::Request;
use maud::html as markup;

/// The form token cookie lives as long as a sign-in form may stay open.
const LOGIN_TOKEN_SECONDS: i64 = 3600;

pub async fn home(d: &Dashboard, req: Request) -> PageResult {
    Ok(redirect(if session::visitor(d, &req).await?.is_some() { "/contacts" } else { "/login" }))
}

pub async fn form(d: &Dashboard, req: Request) -> PageResult {
    if session::visitor(d, &req).await?.is_some() {
        return Ok(redirect("/contacts"));
    }
    Ok(login_page(200, None))
}

/// The sign-in form with a fresh token, and the cookie that must repeat it.
fn login_page(status: u16, error: Option<&str>) -> lambda_http::Response<lambda_http::Body> {
    let token = session::random_token();
    let content = markup! {
        div.card.narrow {
            h1 { "Sign in" }
            p { "Sign in with an API key of your workspace." }
            @if let Some(e) = error {
                p.error role="alert" #login-error { (e) }
            }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                label for="api_key" { "API key" }
                input #api_key type="password" name="api_key" required autocomplete="current-password" autofocus
                    aria-describedby=[error.map(|_| "login-error")] aria-invalid=[error.map(|_| "true")];
                button.primary type="submit" { "Sign in" }
            }
        }
    };
    let cookie = session::set_cookie(LOGIN_COOKIE, &token, "/login", LOGIN_TOKEN_SECONDS);
    with_cookie(html(status, page("Sign in", None, content)), cookie)
}

pub async fn sign_in(d: &Dashboard, req: Request) -> PageResult {
    let form = Form::body(&req)?;
    if !session::login_token_matches(&req, form.get("csrf")) {
        return Err(Problem::forbidden(
            "the sign-in form expired or did not come from this site; open the sign-in page again",
        ));
    }
    let Some(key) = form.filled("api_key") else {
        return Ok(login_page(400, Some("Enter your API key.")));
    };
    let hash = d.auth.key_hash(key);
    let caller = match d.auth.authenticate_hash(hash.clone()).await {
        Ok(c) => c,
        Err(p) if p.status == 401 => {
            return Ok(login_page(401, Some("That API key is not valid. Check it and try again.")))
        }
        Err(p) => return Err(p),
    };
    let now = chrono::Utc::now();
    let value = session::open(d, &caller, hash, now).await?;
    tracing::info!(workspace = %caller.workspace.id, key = %caller.key.name, "dashboard sign-in");
    let response =
        with_cookie(redirect("/contacts"), session::set_cookie(SESSION_COOKIE, &value, "/", SESSION_HOURS * 3600));
    Ok(with_cookie(response, session::set_cookie(LOGIN_COOKIE, "", "/login", 0)))
}

pub async fn sign_out(d: &Dashboard, req: Request) -> PageResult {
    let form = Form::body(&req)?;
    if let Some(v) = session::visitor(d, &req).await? {
        v.check_csrf(&form)?;
        session::close(d, &v).await?;
        tracing::info!(workspace = %v.caller.workspace.id, "dashboard sign-out");
    }
    Ok(with_cookie(redirect("/login"), session::set_cookie(SESSION_COOKIE, "", "/", 0)))
}
