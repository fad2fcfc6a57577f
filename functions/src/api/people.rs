//! `/api/v1/users` and `/api/v1/invitations`: the workspace's people. Admins list people,
//! invite agents and viewers and make password reset links for them; owners also invite
//! anyone, change roles and remove people (the permission table: docs/people.md). Links
//! are answered to the caller, who passes them on; only their hashes are stored.

use crate::api::openapi::schemas::ProblemDetails;
use crate::api::Api;
use crate::http::{self, json, request, HttpResult, Problem};
use chrono::Utc;
use lambda_http::{Body, Request, Response};
use model::auth::Scope;
use model::listing::api_time;
use model::people::{OneTimeLink, User, UserId};
use model::usecases::people;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One person of the workspace (never their password).
#[derive(Serialize, ToSchema)]
#[schema(as = Person)]
struct PersonView {
    #[schema(example = "usr_3f9c2a7be41d")]
    id: String,
    #[schema(example = "ada@lumoco.dev")]
    email: String,
    #[schema(example = "Ada Lovelace")]
    name: String,
    #[schema(example = "agent", pattern = "^(owner|admin|agent|viewer)$")]
    role: &'static str,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime, required = true)]
    last_sign_in_at: Option<String>,
}

impl From<&User> for PersonView {
    fn from(u: &User) -> Self {
        PersonView {
            id: u.id.to_string(),
            email: u.email.to_string(),
            name: u.name.clone(),
            role: u.role.as_str(),
            created_at: api_time(u.created_at),
            last_sign_in_at: u.last_sign_in_at.map(api_time),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = PersonList)]
struct PersonList {
    users: Vec<PersonView>,
}

/// An invitation to make.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InvitationInput, example = json!({"email": "sam@lumoco.dev", "role": "agent"}))]
struct InvitationBody {
    email: Option<String>,
    /// `owner`, `admin`, `agent` or `viewer`; admins invite agents and viewers only.
    #[schema(pattern = "^(owner|admin|agent|viewer)$")]
    role: Option<String>,
}

/// A one-time link, shown this once: the invited person (or the one whose password is
/// reset) opens it in a browser.
#[derive(Serialize, ToSchema)]
#[schema(as = OneTimeLink)]
struct LinkView {
    #[schema(example = "https://contacts.example.com/join/acme.5b1e…")]
    url: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

/// A role change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PersonChange, example = json!({"role": "admin"}))]
struct ChangeBody {
    #[schema(pattern = "^(owner|admin|agent|viewer)$")]
    role: Option<String>,
}

fn link_view(req: &Request, kind: &str, ws: &str, token: &str, link: &OneTimeLink) -> LinkView {
    LinkView { url: format!("{}/{kind}/{ws}.{token}", http::origin(req)), expires_at: api_time(link.expires_at) }
}

fn user_id(req: &Request) -> Result<UserId, Problem> {
    request::path_param(req, "id", |raw: &str| UserId::parse(raw).map_err(|e| e.0))
}

/// Everyone in the workspace, in id order.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "people",
    security(("api_key" = ["admin"])),
    responses((status = 200, description = "The workspace's people", body = PersonList)),
)]
pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let users = people::list(&api.store, &caller.workspace.id, caller.actor()).await?;
    Ok(json(200, &PersonList { users: users.iter().map(PersonView::from).collect() }))
}

/// Invites someone by email with a role: the answer holds the link to send them (7 days, once).
#[utoipa::path(
    post,
    path = "/api/v1/invitations",
    tag = "people",
    request_body = InvitationBody,
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The invitation link", body = LinkView),
        (status = 403, description = "A role the caller may not give", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "Someone in the workspace has this email", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn invite(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let body: InvitationBody = request::json_body(&req)?;
    let email = body.email.ok_or_else(|| Problem::invalid_field("email", "is required"))?;
    let role = body.role.ok_or_else(|| Problem::invalid_field("role", "is required: owner, admin, agent or viewer"))?;
    let ws = &caller.workspace.id;
    let (token, link) = people::invite(&api.store, ws, caller.actor(), &email, &role, Utc::now()).await?;
    tracing::info!(workspace = %ws, by = %caller.log_name(), "invitation made");
    Ok(json(201, &link_view(&req, "join", ws.as_str(), &token, &link)))
}

/// Gives a person another role (owners only); their sessions end.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "people",
    params(("id" = String, Path, pattern = "^usr_[0-9a-f]{12}$")),
    request_body = ChangeBody,
    security(("api_key" = ["owner"])),
    responses(
        (status = 200, description = "The person, with the new role", body = PersonView),
        (status = 404, description = "No such person", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "It would leave the workspace without an owner", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn change(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Owner).await?;
    request::no_query(&req)?;
    let id = user_id(&req)?;
    let body: ChangeBody = request::json_body(&req)?;
    let role = body.role.ok_or_else(|| Problem::invalid_field("role", "is required: owner, admin, agent or viewer"))?;
    let ws = &caller.workspace.id;
    let user = people::change_role(&api.store, ws, caller.actor(), &id, &role).await?;
    tracing::info!(workspace = %ws, user = %user.id, by = %caller.log_name(), "role changed");
    Ok(json(200, &PersonView::from(&user)))
}

/// Removes a person (owners only); their sessions end.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    tag = "people",
    params(("id" = String, Path, pattern = "^usr_[0-9a-f]{12}$")),
    security(("api_key" = ["owner"])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such person", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "The workspace's last owner", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn remove(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Owner).await?;
    request::no_query(&req)?;
    let id = user_id(&req)?;
    let ws = &caller.workspace.id;
    let user = people::remove(&api.store, ws, caller.actor(), &id).await?;
    tracing::info!(workspace = %ws, user = %user.id, by = %caller.log_name(), "person removed");
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}

/// A password reset link for a person (24 hours, once): admins for agents and viewers,
/// owners for anyone.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/password-reset",
    tag = "people",
    params(("id" = String, Path, pattern = "^usr_[0-9a-f]{12}$")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The reset link", body = LinkView),
        (status = 403, description = "The person's role is above what the caller may reset", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn password_reset(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let id = user_id(&req)?;
    let ws = &caller.workspace.id;
    let (token, link) = people::issue_reset(&api.store, ws, caller.actor(), &id, Utc::now()).await?;
    tracing::info!(workspace = %ws, user = %id, by = %caller.log_name(), "password reset link made");
    Ok(json(201, &link_view(&req, "reset", ws.as_str(), &token, &link)))
}
