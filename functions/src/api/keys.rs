//! `/api/v1/keys`: the workspace's API keys (admin scope). A key is shown once, when it is
//! made; afterwards only its public id, name, first characters, scopes (with the role they
//! make, for a key made for a role) and times. A key
//! never makes or revokes a key with a scope it lacks itself. A revoked or expired key is
//! refused within 5 seconds on every instance (the key cache's lifetime).

use crate::api::openapi::schemas::ProblemDetails;
use crate::api::Api;
use crate::http::auth::Caller;
use crate::http::{json, request, HttpResult, Problem};
use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, RequestExt, Response};
use model::auth::{ApiKey, ApiKeyRecord, Scope};
use model::listing::api_time;
use model::people::Role;
use serde::{Deserialize, Serialize};
use store::KeyInfo;
use utoipa::ToSchema;

/// A new key: its name, what it may do and, optionally, when it stops working.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KeyInput, example = json!({"name": "CRM sync", "role": "agent", "expires_at": "2027-01-01T00:00:00Z"}))]
struct KeyBody {
    /// 1 to 100 characters; shown as the author of notes and in the audit of what a key did.
    name: Option<String>,
    /// A subset of the caller's own scopes; or give `role` instead.
    #[schema(value_type = Option<Vec<String>>)]
    scopes: Option<Vec<String>>,
    /// The key acts as a person of this role (`viewer`, `agent`, `admin`, `owner`): it gets
    /// exactly that role's scopes. One the caller holds; not with `scopes`.
    role: Option<String>,
    /// RFC 3339, in the future.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

/// One of the workspace's keys, without its secret.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiKey)]
struct KeyView {
    #[schema(example = "key_3f9c2a7be41d")]
    id: String,
    #[schema(example = "CRM sync")]
    name: String,
    /// The secret's first characters, to tell keys apart.
    #[schema(example = "abc_1a2b")]
    prefix: String,
    #[schema(example = json!(["read", "write"]))]
    scopes: Vec<&'static str>,
    /// The role whose scopes the key has exactly (`null`: another set of scopes).
    #[schema(example = "agent", required = true)]
    role: Option<&'static str>,
    #[schema(format = DateTime)]
    created_at: String,
    /// `null`: it does not expire.
    #[schema(format = DateTime, required = true)]
    expires_at: Option<String>,
    /// To the hour.
    #[schema(format = DateTime, required = true)]
    last_used_at: Option<String>,
}

impl From<&KeyInfo> for KeyView {
    fn from(k: &KeyInfo) -> Self {
        KeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scopes: k.scopes.iter().map(|s| s.as_str()).collect(),
            role: role_of(&k.scopes).map(Role::as_str),
            created_at: api_time(k.created_at),
            expires_at: k.expires_at.map(api_time),
            last_used_at: k.last_used_at.map(api_time),
        }
    }
}

/// A key just made: the listing's fields and the secret, shown this once.
#[derive(Serialize, ToSchema)]
#[schema(as = NewApiKey)]
struct NewKeyView {
    #[serde(flatten)]
    key: KeyView,
    /// The key itself: store it now, it is not shown again.
    #[schema(example = "abc_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b")]
    secret: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiKeyList)]
struct KeyList {
    keys: Vec<KeyView>,
}

/// Every key of the workspace, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/keys",
    tag = "keys",
    security(("api_key" = ["admin"])),
    responses((status = 200, description = "The workspace's keys", body = KeyList)),
)]
pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let keys = api.store.list_api_keys(&caller.workspace.id).await?;
    Ok(json(200, &KeyList { keys: keys.iter().map(KeyView::from).collect() }))
}

/// Makes a key; the answer holds its secret, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/keys",
    tag = "keys",
    request_body = KeyBody,
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The key and its secret", body = NewKeyView, headers(("Location" = String))),
        (status = 403, description = "A scope the calling key lacks", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn create(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let body: KeyBody = request::json_body(&req)?;
    let now = Utc::now();
    let spec = new_key_spec(&caller, body.name, Grant::from_body(body.scopes, body.role)?, body.expires_at, now)?;
    let (key, info) = make_key(&api.store, &api.auth, &caller, spec, now).await?;
    tracing::info!(workspace = %caller.workspace.id, key = %info.id, by = %caller.log_name(), "api key made");
    let view = NewKeyView { key: KeyView::from(&info), secret: key.expose_secret().to_string() };
    let mut response = json(201, &view);
    let location = format!("/api/v1/keys/{}", info.id).parse().map_err(|_| Problem::internal())?;
    response.headers_mut().insert("location", location);
    Ok(response)
}

/// Revokes a key (it may be the calling one): refused everywhere within 5 seconds.
#[utoipa::path(
    delete,
    path = "/api/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, pattern = "^key_[0-9a-f]{12}$")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "The key has a scope the calling key lacks", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn revoke(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let id = req.path_parameters_ref().and_then(|p| p.first("id")).unwrap_or("").to_string();
    let well_formed =
        id.strip_prefix("key_").is_some_and(|h| h.len() == 12 && h.chars().all(|c| c.is_ascii_hexdigit()));
    if !well_formed {
        return Err(Problem::invalid_field("id", "a key id is `key_` and 12 hex digits"));
    }
    let revoked = revoke_key(&api.store, &caller, &id).await?;
    tracing::info!(workspace = %caller.workspace.id, key = %revoked.id, by = %caller.log_name(), "api key revoked");
    Ok(Response::builder().status(204).body(Body::Empty).expect("valid response"))
}

/// A new key's checked name, scopes and expiry.
pub struct KeySpec {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a new key may do, as asked: scopes by name, or a role.
pub enum Grant {
    Scopes(Vec<String>),
    Role(String),
}

impl Grant {
    /// The API's body: `scopes` or `role`, exactly one.
    fn from_body(scopes: Option<Vec<String>>, role: Option<String>) -> Result<Grant, Problem> {
        match (scopes, role) {
            (Some(scopes), None) => Ok(Grant::Scopes(scopes)),
            (None, Some(role)) => Ok(Grant::Role(role)),
            (Some(_), Some(_)) => Err(Problem::invalid_field("role", "give `scopes` or a `role`, not both")),
            (None, None) => Err(Problem::invalid_field(
                "scopes",
                "is required (read, write, admin or owner), or a `role` (viewer, agent, admin or owner)",
            )),
        }
    }

    fn scopes(self) -> Result<Vec<Scope>, Problem> {
        let asked = match self {
            Grant::Role(role) => {
                return role.parse::<Role>().map(Role::scopes).map_err(|e| Problem::invalid_field("role", e.0));
            }
            Grant::Scopes(asked) => asked,
        };
        let mut scopes = Vec::new();
        for raw in asked {
            let scope = raw.parse::<Scope>().map_err(|e| Problem::invalid_field("scopes", e.0))?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err(Problem::invalid_field("scopes", "needs at least one of read, write, admin or owner"));
        }
        Ok(scopes)
    }
}

/// The role whose scopes are exactly these: what a key made for a role is listed as.
pub fn role_of(scopes: &[Scope]) -> Option<Role> {
    Role::ALL.into_iter().find(|r| {
        let of_role = r.scopes();
        of_role.len() == scopes.len() && of_role.iter().all(|s| scopes.contains(s))
    })
}

/// What a new key will be, checked: a name of 1 to 100 characters, at least one scope (or a
/// role) and none the caller lacks, an expiry in the future. The API and the dashboard's keys page.
pub fn new_key_spec(
    caller: &Caller,
    name: Option<String>,
    grant: Grant,
    expires_at: Option<String>,
    now: DateTime<Utc>,
) -> Result<KeySpec, Problem> {
    let name = name.map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Problem::invalid_field("name", "is required: 1 to 100 characters"));
    }
    let scopes = grant.scopes()?;
    if let Some(lacking) = scopes.iter().find(|s| !caller.key.allows(**s)) {
        return Err(Problem::forbidden(format!(
            "a key cannot make a key with the `{}` scope, which it lacks itself",
            lacking.as_str()
        )));
    }
    let expires_at = expires_at
        .map(|e| {
            DateTime::parse_from_rfc3339(&e)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| Problem::invalid_field("expires_at", format!("`{e}` is not an RFC 3339 time")))
        })
        .transpose()?;
    if expires_at.is_some_and(|e| e <= now) {
        return Err(Problem::invalid_field("expires_at", "must be in the future"));
    }
    Ok(KeySpec { name, scopes, expires_at })
}

/// Makes and stores a checked key; the key (shown once) and how it is listed.
pub async fn make_key(
    store: &store::Store,
    auth: &crate::http::auth::Authenticator,
    caller: &Caller,
    spec: KeySpec,
    now: DateTime<Utc>,
) -> Result<(ApiKey, KeyInfo), Problem> {
    let record = ApiKeyRecord { workspace_id: caller.workspace.id.clone(), name: spec.name, scopes: spec.scopes };
    let key = ApiKey::generate();
    let info = KeyInfo::new(&key, &record, now, spec.expires_at);
    store.put_api_key(&auth.key_hash(key.expose_secret()), &record, &info).await?;
    Ok((key, info))
}

/// Revokes one of the caller's workspace's keys, unless it has a scope the caller lacks.
pub async fn revoke_key(store: &store::Store, caller: &Caller, id: &str) -> Result<KeyInfo, Problem> {
    let allowed = |k: &KeyInfo| match k.scopes.iter().find(|s| !caller.key.allows(**s)) {
        Some(s) => Err(format!("key {} has the `{}` scope, which you lack", k.id, s.as_str())),
        None => Ok(()),
    };
    match store.revoke_api_key(&caller.workspace.id, id, allowed).await? {
        None => Err(Problem::not_found(format!("there is no key {id}"))),
        Some(Err(why)) => Err(Problem::forbidden(why)),
        Some(Ok(revoked)) => Ok(revoked),
    }
}
