//! `/team`, for admins and owners: the workspace's people with their roles and last
//! sign-in; invitations and password reset links (shown to the inviter, who passes them
//! on); and, for owners, role changes and removal. The rules are the people use cases'.

use super::contacts::time;
use super::format::{link, Form};
use super::layout::{html, page as shell, redirect};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::http::{self, request, Problem};
use chrono::Utc;
use lambda_http::Request;
use maud::html as markup;
use model::people::{Role, User, UserId};
use model::usecases::people::{self, PeopleError};

/// What these pages are for, as a refusal names it (admins and owners only).
const MANAGING: &str = "managing the team";

fn user_id(req: &Request) -> Result<UserId, Problem> {
    request::path_param(req, "id", |raw: &str| UserId::parse(raw).map_err(|e| e.0))
}

/// A one-time link to hand on, shown once after it is made.
struct Issued {
    what: String,
    url: String,
}

/// What the page says above the table.
enum Notice {
    Done(String),
    Link(Issued),
    Problem(String),
}

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    let query = Form::query(&req);
    let notice = query.filled("done").map(|d| Notice::Done(d.to_string()));
    render(d, &v, notice, 200).await
}

async fn render(d: &Dashboard, v: &Visitor, notice: Option<Notice>, status: u16) -> PageResult {
    let ws = &v.caller.workspace.id;
    let mut everyone = people::list(&d.store, ws, v.caller.actor()).await?;
    everyone.sort_by(|a, b| b.role.cmp(&a.role).then_with(|| a.name.cmp(&b.name)));
    let zone = v.caller.workspace.time_zone;
    let actor = v.caller.actor();
    let grantable: Vec<Role> = Role::ALL.into_iter().rev().filter(|r| actor.role.may_grant(*r)).collect();
    let is_owner = actor.role == Role::Owner;
    let content = markup! {
        h1 { "Team" }
        p { a href="/keys" { "API keys" } " · " a href="/audit" { "Audit log" } }
        @match &notice {
            Some(Notice::Done(text)) => p.notice role="status" { (text) },
            Some(Notice::Link(issued)) => div.notice.issued role="status" {
                p { (issued.what) " Copy this link and send it to them; it is shown only now." }
                input.link-shown #issued-link type="text" readonly value=(issued.url) aria-label="The link to send";
            },
            Some(Notice::Problem(text)) => p.error role="alert" { (text) },
            None => {},
        }
        p.hint #team-summary {
            "Viewers see contacts and analytics; agents also edit contacts, notes, tags and merges; admins also manage "
            "settings, bots, keys, integrations, exports, GDPR requests and retention, and invite agents and viewers; "
            "owners also invite anyone, change roles and remove people."
        }
        div.table-wrap {
            table.listing.team aria-describedby="team-summary" {
                thead { tr {
                    th scope="col" { "Name" }
                    th scope="col" { "Email" }
                    th scope="col" { "Role" }
                    th scope="col" { "Last sign-in" }
                    th scope="col" { span.visually-hidden { "Actions" } }
                } }
                tbody {
                    @for u in &everyone {
                        tr data-user=(u.id) {
                            td { (u.name) @if Some(&u.id) == v.caller.user.as_ref() { " (you)" } }
                            td { (u.email) }
                            td {
                                @if is_owner && Some(&u.id) != v.caller.user.as_ref() {
                                    form.inline method="post" action=(format!("/team/{}/role", u.id)) {
                                        input type="hidden" name="csrf" value=(v.csrf);
                                        label.visually-hidden for=(format!("role-{}", u.id)) { "Role of " (u.name) }
                                        select id=(format!("role-{}", u.id)) name="role" {
                                            @for r in Role::ALL.into_iter().rev() {
                                                option value=(r.as_str()) selected[r == u.role] { (r.as_str()) }
                                            }
                                        }
                                        button type="submit" { "Change" }
                                    }
                                } @else {
                                    (u.role.as_str())
                                }
                            }
                            td { @match u.last_sign_in_at { Some(t) => (time(t, zone)), None => "never" } }
                            td.actions {
                                @if actor.role.may_grant(u.role) && Some(&u.id) != v.caller.user.as_ref() {
                                    form.inline method="post" action=(format!("/team/{}/reset", u.id)) {
                                        input type="hidden" name="csrf" value=(v.csrf);
                                        button type="submit" aria-label=(format!("Password reset link for {}", u.name)) { "Reset link" }
                                    }
                                }
                                @if is_owner && Some(&u.id) != v.caller.user.as_ref() {
                                    form.inline method="post" action=(format!("/team/{}/remove", u.id)) {
                                        input type="hidden" name="csrf" value=(v.csrf);
                                        button.danger type="submit" aria-label=(format!("Remove {}", u.name)) { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "Invite someone" }
            form method="post" action="/team/invite" {
                input type="hidden" name="csrf" value=(v.csrf);
                label for="invite-email" { "Email" }
                input #invite-email type="email" name="email" required autocomplete="off";
                label for="invite-role" { "Role" }
                select #invite-role name="role" {
                    @for r in &grantable { option value=(r.as_str()) selected[*r == Role::Agent] { (r.as_str()) } }
                }
                button.primary type="submit" { "Make an invitation link" }
            }
            p.hint { "The link works once, for 7 days. Whoever opens it chooses their name and password." }
        }
    };
    Ok(html(status, shell("Team", Some(v), content)))
}

/// A people use case's refusal, shown on the page (a conflict, a bad field) or as a problem.
async fn refused(d: &Dashboard, v: &Visitor, e: PeopleError) -> PageResult {
    match e {
        PeopleError::Store(_) | PeopleError::Forbidden(_) | PeopleError::NotFound => Err(e.into()),
        other => {
            let text = other.to_string();
            render(d, v, Some(Notice::Problem(text)), Problem::from(other).status).await
        }
    }
}

pub async fn invite(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let now = Utc::now();
    let ws = &v.caller.workspace.id;
    match people::invite(&d.store, ws, v.caller.actor(), form.get("email"), form.get("role"), now).await {
        Ok((token, link)) => {
            let url = format!("{}/join/{ws}.{token}", http::origin(&req));
            tracing::info!(workspace = %ws, by = %v.caller.log_name(), "invitation made");
            let what = match &link.purpose {
                model::people::LinkPurpose::Invite { email, role } => format!("Invitation for {email} as {role} made."),
                model::people::LinkPurpose::ResetPassword { .. } => String::new(),
            };
            render(d, &v, Some(Notice::Link(Issued { what, url })), 201).await
        }
        Err(e) => refused(d, &v, e).await,
    }
}

pub async fn reset(d: &Dashboard, req: Request) -> PageResult {
    let (v, _) = session::admin_form(d, &req, MANAGING).await?;
    let id = user_id(&req)?;
    let ws = &v.caller.workspace.id;
    match people::issue_reset(&d.store, ws, v.caller.actor(), &id, Utc::now()).await {
        Ok((token, _)) => {
            let url = format!("{}/reset/{ws}.{token}", http::origin(&req));
            let name = d.store.get_user(ws, &id).await?.map_or_else(|| id.to_string(), |u: User| u.name);
            let what = format!("Password reset link for {name} made; it works once, for 24 hours.");
            render(d, &v, Some(Notice::Link(Issued { what, url })), 201).await
        }
        Err(e) => refused(d, &v, e).await,
    }
}

pub async fn change_role(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let id = user_id(&req)?;
    let ws = &v.caller.workspace.id;
    match people::change_role(&d.store, ws, v.caller.actor(), &id, form.get("role")).await {
        Ok(user) => {
            tracing::info!(workspace = %ws, user = %user.id, by = %v.caller.log_name(), "role changed");
            let done = format!("{} is now {}. Their sessions ended: they sign in again.", user.name, user.role);
            Ok(redirect(&link("/team", &[("done", &done)])))
        }
        Err(e) => refused(d, &v, e).await,
    }
}

pub async fn remove(d: &Dashboard, req: Request) -> PageResult {
    let (v, _) = session::admin_form(d, &req, MANAGING).await?;
    let id = user_id(&req)?;
    let ws = &v.caller.workspace.id;
    match people::remove(&d.store, ws, v.caller.actor(), &id).await {
        Ok(user) => {
            tracing::info!(workspace = %ws, user = %user.id, by = %v.caller.log_name(), "person removed");
            let done = format!("{} was removed; their sessions ended.", user.name);
            Ok(redirect(&link("/team", &[("done", &done)])))
        }
        Err(e) => refused(d, &v, e).await,
    }
}
