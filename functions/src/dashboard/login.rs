//! `/`, `/login` and `/logout`: people sign in with their workspace, email and password
//! (throttled per account and per address); automation may still sign in with an API key.

use super::format::Form;
use super::layout::{html, page, redirect, with_cookie};
use super::session::{self, LOGIN_COOKIE, SESSION_COOKIE, SESSION_HOURS};
use super::{Dashboard, PageResult};
use crate::http::Problem;
use lambda_http::{Body, Request, Response};
use maud::html as markup;
use model::audit::AuditActor;
use model::domain::WorkspaceId;
use model::session::SignedIn;
use model::usecases::people::{self, SignInError};

/// The form token cookie lives as long as a sign-in form may stay open.
const LOGIN_TOKEN_SECONDS: i64 = 3600;
/// Remembers the workspace last signed in to, to fill in the form (not a secret).
const WORKSPACE_COOKIE: &str = "abc_workspace";

pub async fn home(d: &Dashboard, req: Request) -> PageResult {
    Ok(redirect(if session::visitor(d, &req).await?.is_some() { "/contacts" } else { "/login" }))
}

pub async fn form(d: &Dashboard, req: Request) -> PageResult {
    if session::visitor(d, &req).await?.is_some() {
        return Ok(redirect("/contacts"));
    }
    let query = Form::query(&req);
    let workspace = query.filled("workspace").or_else(|| session::cookie(&req, WORKSPACE_COOKIE)).unwrap_or("");
    let notice = match query.get("done") {
        "joined" => Some("Welcome! Sign in with your email and new password."),
        "reset" => Some("Your password is set. Sign in with it."),
        _ => None,
    };
    Ok(login_page(200, &Filled { workspace, email: query.get("email") }, notice, None))
}

/// What the form keeps after a failed attempt (never the password).
struct Filled<'a> {
    workspace: &'a str,
    email: &'a str,
}

/// The sign-in form with a fresh token, and the cookie that must repeat it.
fn login_page(status: u16, filled: &Filled, notice: Option<&str>, error: Option<&str>) -> Response<Body> {
    let token = session::random_token();
    let invalid = error.map(|_| "true");
    let described = error.map(|_| "login-error");
    let content = markup! {
        div.card.narrow {
            h1 { "Sign in" }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if let Some(e) = error {
                p.error role="alert" #login-error { (e) }
            }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                label for="workspace" { "Workspace" }
                input #workspace type="text" name="workspace" required value=(filled.workspace)
                    autocomplete="organization" autocapitalize="none" spellcheck="false"
                    aria-describedby=[described] aria-invalid=[invalid];
                label for="email" { "Email" }
                input #email type="email" name="email" required value=(filled.email) autocomplete="username"
                    autofocus[!filled.workspace.is_empty()] aria-describedby=[described] aria-invalid=[invalid];
                label for="password" { "Password" }
                input #password type="password" name="password" required autocomplete="current-password"
                    aria-describedby=[described] aria-invalid=[invalid];
                button.primary type="submit" { "Sign in" }
            }
            details.key-sign-in {
                summary { "Sign in with an API key instead" }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(token);
                    label for="api_key" { "API key" }
                    input #api_key type="password" name="api_key" required autocomplete="off";
                    button type="submit" { "Sign in with the key" }
                }
            }
            p.hint { "Forgot your password? Ask an owner or admin of your workspace for a reset link." }
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
    if let Some(key) = form.filled("api_key") {
        return sign_in_with_key(d, key).await;
    }
    let filled = Filled { workspace: form.get("workspace").trim(), email: form.get("email").trim() };
    let (Some(_), Some(_), Some(password)) = (form.filled("workspace"), form.filled("email"), form.filled("password"))
    else {
        return Ok(login_page(400, &filled, None, Some("Enter your workspace, email and password.")));
    };
    let wrong = || login_page(401, &filled, None, Some("That workspace, email or password is not right."));
    let Ok(ws) = WorkspaceId::parse(&filled.workspace.to_lowercase()) else { return Ok(wrong()) };
    let now = chrono::Utc::now();
    let address = crate::http::source_ip(&req);
    let user = match people::sign_in(&d.store, &ws, filled.email, password, &address, now).await {
        Ok(user) => user,
        Err(SignInError::Wrong) => return Ok(wrong()),
        Err(e @ SignInError::Throttled { retry_after_seconds }) => {
            let mut page = login_page(429, &filled, None, Some(&format!("{e}.")));
            page.headers_mut().insert("retry-after", retry_after_seconds.into());
            return Ok(page);
        }
        Err(SignInError::Store(e)) => return Err(e.into()),
    };
    crate::audit::note_as(&ws, AuditActor::Person { id: user.id.to_string(), name: user.name.clone() });
    let signed_in = SignedIn::Person { user: user.id.clone(), epoch: user.session_epoch };
    let value = session::open(d, &ws, signed_in, now).await?;
    tracing::info!(workspace = %ws, user = %user.id, "dashboard sign-in");
    let remember = session::set_cookie(WORKSPACE_COOKIE, ws.as_str(), "/login", 400 * 24 * 3600);
    Ok(with_cookie(signed_in_response(&value), remember))
}

async fn sign_in_with_key(d: &Dashboard, key: &str) -> PageResult {
    let hash = d.auth.key_hash(key);
    let caller = match d.auth.authenticate_hash(hash.clone()).await {
        Ok(c) => c,
        Err(p) if p.status == 401 => {
            let filled = Filled { workspace: "", email: "" };
            return Ok(login_page(401, &filled, None, Some("That API key is not valid. Check it and try again.")));
        }
        Err(p) => return Err(p),
    };
    crate::audit::note(&caller);
    let now = chrono::Utc::now();
    let value = session::open(d, &caller.workspace.id, SignedIn::Key { hash }, now).await?;
    tracing::info!(workspace = %caller.workspace.id, key = %caller.log_name(), "dashboard sign-in");
    Ok(signed_in_response(&value))
}

fn signed_in_response(session_value: &str) -> Response<Body> {
    let cookie = session::set_cookie(SESSION_COOKIE, session_value, "/", SESSION_HOURS * 3600);
    let response = with_cookie(redirect("/contacts"), cookie);
    with_cookie(response, session::set_cookie(LOGIN_COOKIE, "", "/login", 0))
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
