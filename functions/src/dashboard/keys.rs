//! `/keys`, for admins and owners (as `/api/v1/keys`): the workspace's API keys with their
//! scopes and last use, a form to make one (its secret shown once) and revoking. The
//! rules are the API's (`api::keys::new_key_spec`, `revoke_key`): nobody makes or revokes
//! a key with a scope they lack.

use super::contacts::time;
use super::format::Form;
use super::layout::{html, page as shell, redirect};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::api::keys::{make_key, new_key_spec, revoke_key, role_of, Grant};
use crate::http::request;
use chrono::{NaiveDate, TimeZone, Utc};
use lambda_http::Request;
use maud::html as markup;
use model::auth::Scope;
use model::people::Role;

/// The role choice that means "the scopes ticked below".
const CUSTOM: &str = "custom";

/// What these pages are for, as a refusal names it (admins and owners only).
const MANAGING: &str = "managing API keys";

/// What the page says above the table.
enum Notice {
    Done(String),
    Secret { name: String, secret: String },
    Problem(String),
}

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    let notice = Form::query(&req)
        .filled("revoked")
        .map(|id| Notice::Done(format!("Key {id} revoked: it stops working within 5 seconds.")));
    render(d, &v, notice, 200).await
}

async fn render(d: &Dashboard, v: &Visitor, notice: Option<Notice>, status: u16) -> PageResult {
    let keys = d.store.list_api_keys(&v.caller.workspace.id).await?;
    let zone = v.caller.workspace.time_zone;
    let grantable: Vec<Scope> = Scope::ALL.into_iter().filter(|s| v.caller.key.allows(*s)).collect();
    let roles: Vec<Role> =
        Role::ALL.into_iter().filter(|r| r.scopes().iter().all(|s| v.caller.key.allows(*s))).collect();
    let content = markup! {
        h1 { "API keys" }
        @match &notice {
            Some(Notice::Done(text)) => p.notice role="status" { (text) },
            Some(Notice::Secret { name, secret }) => div.notice.issued role="status" {
                p { "Key " strong { (name) } " made. Copy it now: it is shown only this once." }
                input.link-shown #new-key type="text" readonly value=(secret) aria-label="The new key";
            },
            Some(Notice::Problem(text)) => p.error role="alert" { (text) },
            None => {},
        }
        p.hint #keys-summary {
            "Keys call the API as the workspace. A key made for a role may do what a person of that role may do; "
            "by scope, read sees; write changes contacts; admin manages settings, keys, "
            "integrations, exports and GDPR requests; owner manages people. A revoked or expired key stops working within 5 seconds."
        }
        @if keys.is_empty() {
            p.empty { "No keys." }
        } @else {
            div.table-wrap {
                table.listing.keys aria-describedby="keys-summary" {
                    thead { tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Starts with" }
                        th scope="col" { "Acts as" }
                        th scope="col" { "Made" }
                        th scope="col" { "Last used" }
                        th scope="col" { "Expires" }
                        th scope="col" { span.visually-hidden { "Actions" } }
                    } }
                    tbody {
                        @for k in &keys {
                            tr data-key=(k.id) {
                                td data-label="Name" { (k.name) }
                                td data-label="Starts with" { code { (k.prefix) "…" } }
                                td data-label="Acts as" {
                                    @match role_of(&k.scopes) {
                                        Some(role) => { (role.as_str()) " (" (scope_names(&k.scopes)) ")" }
                                        None => { "scopes " (scope_names(&k.scopes)) }
                                    }
                                }
                                td data-label="Made" { (time(k.created_at, zone)) }
                                td data-label="Last used" { @match k.last_used_at { Some(t) => (time(t, zone)), None => "never" } }
                                td data-label="Expires" { @match k.expires_at { Some(t) => (time(t, zone)), None => "never" } }
                                td.actions {
                                    @if k.scopes.iter().all(|s| v.caller.key.allows(*s)) {
                                        form.inline method="post" action=(format!("/keys/{}/revoke", k.id)) {
                                            input type="hidden" name="csrf" value=(v.csrf);
                                            button.danger type="submit" aria-label=(format!("Revoke {}", k.name)) { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "Make a key" }
            form method="post" action="/keys" {
                input type="hidden" name="csrf" value=(v.csrf);
                label for="key-name" { "Name" }
                input #key-name type="text" name="name" required maxlength="100" placeholder="e.g. CRM sync";
                label for="key-role" { "Acts as" }
                div.hint #key-role-hint { "A role gives the key exactly what a person of that role may do." }
                select #key-role name="role" aria-describedby="key-role-hint" {
                    @for r in &roles {
                        option value=(r.as_str()) selected[*r == Role::Viewer] { (r.as_str()) }
                    }
                    option value=(CUSTOM) { "the scopes ticked below" }
                }
                fieldset {
                    legend { "Scopes (when not a role)" }
                    @for s in &grantable {
                        label.check {
                            input type="checkbox" name="scopes" value=(s.as_str()) checked[*s == Scope::Read];
                            " " (s.as_str())
                        }
                    }
                }
                label for="key-expires" { "Expires on (optional)" }
                input #key-expires type="date" name="expires_on";
                button.primary type="submit" { "Make the key" }
            }
            p.hint { "To rotate a key: make a new one, move its users over, then revoke the old one." }
        }
    };
    Ok(html(status, shell("API keys", Some(v), content)))
}

pub async fn create(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let now = Utc::now();
    // A date ends at the end of that day in the workspace's time zone.
    let zone = v.caller.workspace.time_zone;
    let expires_at = form.filled("expires_on").map(|day| {
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .and_then(|t| zone.from_local_datetime(&t).earliest())
            .map_or_else(|| day.to_string(), |t| t.with_timezone(&Utc).to_rfc3339())
    });
    let grant = match form.filled("role") {
        Some(role) if role != CUSTOM => Grant::Role(role.to_string()),
        _ => Grant::Scopes(form.all("scopes").into_iter().map(str::to_string).collect()),
    };
    let name = Some(form.get("name").to_string());
    let checked = new_key_spec(&v.caller, name, grant, expires_at, now);
    let spec = match checked {
        Ok(spec) => spec,
        Err(p) if p.status == 400 || p.status == 403 => {
            return render(d, &v, Some(Notice::Problem(p.detail)), p.status).await;
        }
        Err(p) => return Err(p),
    };
    let (key, info) = make_key(&d.store, &d.auth, &v.caller, spec, now).await?;
    tracing::info!(workspace = %v.caller.workspace.id, key = %info.id, by = %v.caller.log_name(), "api key made");
    let notice = Notice::Secret { name: info.name, secret: key.expose_secret().to_string() };
    render(d, &v, Some(notice), 201).await
}

pub async fn revoke(d: &Dashboard, req: Request) -> PageResult {
    let (v, _) = session::admin_form(d, &req, MANAGING).await?;
    let id = request::path_param(&req, "id", |raw: &str| match raw.len() {
        16 if raw.starts_with("key_") => Ok(raw.to_string()),
        _ => Err(format!("`{raw}` is not a key id")),
    })?;
    let revoked = revoke_key(&d.store, &v.caller, &id).await?;
    tracing::info!(workspace = %v.caller.workspace.id, key = %revoked.id, by = %v.caller.log_name(), "api key revoked");
    Ok(redirect(&super::format::link("/keys", &[("revoked", &revoked.id)])))
}

fn scope_names(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}
