//! A person's own account: `/join/{link}` (accept an invitation: name and password),
//! `/reset/{link}` (set a new password through a reset link) and `/account` (change one's
//! password, knowing the current one). Links are `<workspace>.<token>`; only the token's
//! hash is stored. Link forms carry the token itself, which no other site knows, so they
//! need no other CSRF token.

use super::format::{link, Form};
use super::layout::{html, page, redirect, with_cookie};
use super::session::{self, SESSION_COOKIE, SESSION_HOURS};
use super::{Dashboard, PageResult};
use crate::http::{request, Problem};
use chrono::Utc;
use lambda_http::{Body, Request, Response};
use maud::{html as markup, Markup};
use model::audit::AuditActor;
use model::domain::WorkspaceId;
use model::people::{LinkPurpose, OneTimeLink, Password};
use model::session::SignedIn;
use model::usecases::people::{self, PeopleError};

/// The workspace and token of a link's path.
fn link_of(req: &Request) -> Result<(WorkspaceId, String), Problem> {
    request::path_param(req, "link", |raw: &str| {
        let (ws, token) = raw.split_once('.').ok_or("this link is not complete; copy the whole link")?;
        let ws = WorkspaceId::parse(ws).map_err(|_| "this link is not complete; copy the whole link")?;
        let ok = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| (ws, token.to_string())).ok_or("this link is not complete; copy the whole link")
    })
}

fn gone() -> Problem {
    Problem::not_found(PeopleError::LinkGone.to_string())
}

fn password_fields(label: &str, invalid: bool) -> Markup {
    markup! {
        label for="password" { (label) }
        input #password type="password" name="password" required minlength=(Password::MIN_CHARS)
            maxlength=(Password::MAX_CHARS) autocomplete="new-password" aria-describedby="password-hint"
            aria-invalid=[invalid.then_some("true")];
        p.hint #password-hint { "At least " (Password::MIN_CHARS) " characters. A few words you will remember work well." }
    }
}

fn form_page(
    title: &str,
    intro: Markup,
    error: Option<&str>,
    fields: Markup,
    button: &str,
    status: u16,
) -> Response<Body> {
    let content = markup! {
        div.card.narrow {
            h1 { (title) }
            (intro)
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" {
                (fields)
                button.primary type="submit" { (button) }
            }
        }
    };
    html(status, page(title, None, content))
}

async fn open(d: &Dashboard, ws: &WorkspaceId, token: &str) -> Result<OneTimeLink, Problem> {
    match people::open_link(&d.store, ws, token, Utc::now()).await {
        Err(PeopleError::LinkGone) => Err(gone()),
        other => Ok(other?),
    }
}

fn join_page(link: &OneTimeLink, name: &str, error: Option<&str>, status: u16) -> Result<Response<Body>, Problem> {
    let LinkPurpose::Invite { email, role } = &link.purpose else { return Err(gone()) };
    let intro = markup! {
        p { (link.created_by) " invited " strong { (email) } " to the workspace " strong { (link.workspace_id) } " as " (role) "." }
    };
    let fields = markup! {
        label for="name" { "Your name" }
        input #name type="text" name="name" value=(name) maxlength="100" autocomplete="name" autofocus;
        (password_fields("Choose a password", error.is_some()))
    };
    Ok(form_page("Join the workspace", intro, error, fields, "Join", status))
}

pub async fn join_form(d: &Dashboard, req: Request) -> PageResult {
    let (ws, token) = link_of(&req)?;
    let link = open(d, &ws, &token).await?;
    join_page(&link, "", None, 200)
}

pub async fn join(d: &Dashboard, req: Request) -> PageResult {
    let (ws, token) = link_of(&req)?;
    let form = Form::body(&req)?;
    let now = Utc::now();
    match people::accept_invitation(&d.store, &ws, &token, form.get("name"), form.get("password"), now).await {
        Ok(user) => {
            tracing::info!(workspace = %ws, user = %user.id, role = %user.role, "invitation accepted");
            // Nobody was signed in: the audit log names the person who joined.
            crate::audit::note_as(&ws, AuditActor::Person { id: user.id.to_string(), name: user.name.clone() });
            let email = user.email.to_string();
            Ok(redirect(&link("/login", &[("workspace", ws.as_str()), ("email", &email), ("done", "joined")])))
        }
        Err(e @ (PeopleError::Invalid { .. } | PeopleError::EmailTaken)) => {
            let link = open(d, &ws, &token).await?;
            let status = if matches!(e, PeopleError::EmailTaken) { 409 } else { 400 };
            join_page(&link, form.get("name"), Some(&e.to_string()), status)
        }
        Err(PeopleError::LinkGone) => Err(gone()),
        Err(e) => Err(e.into()),
    }
}

fn reset_page(error: Option<&str>, status: u16) -> Response<Body> {
    let intro = markup! { p { "Choose a new password. Every session signed in with the old one ends." } };
    form_page(
        "Set a new password",
        intro,
        error,
        password_fields("New password", error.is_some()),
        "Set password",
        status,
    )
}

pub async fn reset_form(d: &Dashboard, req: Request) -> PageResult {
    let (ws, token) = link_of(&req)?;
    match open(d, &ws, &token).await?.purpose {
        LinkPurpose::ResetPassword { .. } => Ok(reset_page(None, 200)),
        LinkPurpose::Invite { .. } => Err(gone()),
    }
}

pub async fn reset(d: &Dashboard, req: Request) -> PageResult {
    let (ws, token) = link_of(&req)?;
    let form = Form::body(&req)?;
    match people::reset_password(&d.store, &ws, &token, form.get("password"), Utc::now()).await {
        Ok(user) => {
            tracing::info!(workspace = %ws, user = %user, "password reset");
            // Nobody was signed in: the audit log names the person whose password it was.
            let name = d.store.get_user(&ws, &user).await.ok().flatten().map(|u| u.name).unwrap_or_default();
            crate::audit::note_as(&ws, AuditActor::Person { id: user.to_string(), name });
            Ok(redirect(&link("/login", &[("workspace", ws.as_str()), ("done", "reset")])))
        }
        Err(e @ PeopleError::Invalid { .. }) => Ok(reset_page(Some(&e.to_string()), 400)),
        Err(PeopleError::LinkGone) => Err(gone()),
        Err(e) => Err(e.into()),
    }
}

fn account_page(v: &session::Visitor, notice: Option<&str>, error: Option<&str>, status: u16) -> Response<Body> {
    let content = markup! {
        div.card.narrow {
            h1 { "Your account" }
            p { "You are " strong { (v.caller.key.name) } ", " (v.caller.role()) " of " (v.caller.workspace.name) "." }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            h2 { "Change your password" }
            form method="post" action="/account" {
                input type="hidden" name="csrf" value=(v.csrf);
                label for="current_password" { "Current password" }
                input #current_password type="password" name="current_password" required autocomplete="current-password";
                (password_fields("New password", error.is_some()))
                button.primary type="submit" { "Change password" }
            }
            p.hint { "Changing it signs you out everywhere else." }
        }
    };
    html(status, page("Your account", Some(v), content))
}

/// The signed-in person's page; a key's session has no account to change.
async fn person(d: &Dashboard, req: &Request) -> Result<session::Visitor, Problem> {
    let v = session::require(d, req).await?;
    if v.caller.user.is_none() {
        return Err(Problem::forbidden("you signed in with an API key, which has no password; sign in as yourself"));
    }
    Ok(v)
}

pub async fn page_handler(d: &Dashboard, req: Request) -> PageResult {
    let v = person(d, &req).await?;
    let notice = Form::query(&req).filled("done").map(|_| "Your password is changed.");
    Ok(account_page(&v, notice, None, 200))
}

pub async fn change_password(d: &Dashboard, req: Request) -> PageResult {
    let v = person(d, &req).await?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let (ws, id) = (&v.caller.workspace.id, v.caller.user.clone().ok_or_else(Problem::internal)?);
    match people::change_password(&d.store, ws, &id, form.get("current_password"), form.get("password")).await {
        Ok(()) => {
            // Every session ended with the old epoch, this one too: open a new one here.
            let user = d.store.get_user(ws, &id).await?.ok_or_else(|| Problem::unauthorized("sign in again"))?;
            session::close(d, &v).await?;
            let signed_in = SignedIn::Person { user: user.id, epoch: user.session_epoch };
            let value = session::open(d, ws, signed_in, Utc::now()).await?;
            let cookie = session::set_cookie(SESSION_COOKIE, &value, "/", SESSION_HOURS * 3600);
            Ok(with_cookie(redirect("/account?done=1"), cookie))
        }
        Err(e @ (PeopleError::Invalid { .. } | PeopleError::WrongPassword)) => {
            Ok(account_page(&v, None, Some(&e.to_string()), 400))
        }
        Err(e) => Err(e.into()),
    }
}
