//! Bearer API keys. The workspace comes from the key alone, so a request can only ever
//! reach its own workspace's items.

use super::Problem;
use lambda_http::Request;
use model::auth::{ApiKeyRecord, KeyPepper, Scope};
use model::domain::WorkspaceId;
use model::people::{Role, UserId};
use model::usecases::people::Actor;
use model::workspace::Workspace;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use store::Store;

/// How long a verified key is trusted without another read: a revoked or expired key is
/// refused within this on every instance (sessions included).
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_CAPACITY: usize = 1024;

/// Who is calling: what they may do (a key's record, or a person's role as one), their
/// workspace's settings, and the person when it is one (dashboard sessions).
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: ApiKeyRecord,
    pub workspace: Workspace,
    pub user: Option<UserId>,
}

impl Caller {
    /// For a request that needs more than its route's scope, depending on what it asks.
    pub fn require(&self, scope: Scope) -> Result<(), Problem> {
        if self.key.allows(scope) {
            return Ok(());
        }
        Err(Problem::forbidden(match self.user {
            Some(_) => {
                format!("your role ({}) does not allow this: it needs the `{}` permission", self.role(), scope.as_str())
            }
            None => format!("this API key lacks the `{}` scope", scope.as_str()),
        }))
    }

    /// Who the caller is in logs: a key's name, a person's id (never their name or email,
    /// which are personal data).
    pub fn log_name(&self) -> &str {
        self.user.as_ref().map_or(&self.key.name, UserId::as_str)
    }

    /// The role the caller counts as: a person's own, a key's the highest its scopes cover.
    pub fn role(&self) -> Role {
        Role::of_scopes(&self.key.scopes).unwrap_or(Role::Viewer)
    }

    /// The caller as the people use cases see them.
    pub fn actor(&self) -> Actor<'_> {
        Actor { role: self.role(), name: &self.key.name, user: self.user.as_ref() }
    }
}

/// Verifies bearer keys against their stored hashes, caching the answers briefly.
#[derive(Debug)]
pub struct Authenticator {
    store: Store,
    pepper: KeyPepper,
    cache: Mutex<HashMap<String, (Instant, Caller)>>,
    ttl: Duration,
}

impl Authenticator {
    pub fn new(store: Store, pepper: KeyPepper) -> Self {
        Authenticator { store, pepper, cache: Mutex::new(HashMap::new()), ttl: DEFAULT_CACHE_TTL }
    }

    /// Trusts a verified key for `ttl` instead of [`DEFAULT_CACHE_TTL`].
    pub fn set_cache_ttl(&mut self, ttl: Duration) {
        self.ttl = ttl;
    }

    /// The stored form of a presented key: the same hash provisioning stores.
    pub fn key_hash(&self, key: &str) -> String {
        self.pepper.key_hash(key)
    }

    pub async fn authorize(&self, req: &Request, scope: Scope) -> Result<Caller, Problem> {
        let caller = self.authenticate(req).await?;
        crate::audit::note(&caller);
        caller.require(scope)?;
        Ok(caller)
    }

    async fn authenticate(&self, req: &Request) -> Result<Caller, Problem> {
        let header = req
            .headers()
            .get("authorization")
            .ok_or_else(|| Problem::unauthorized("send a workspace API key as `Authorization: Bearer <key>`"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Problem::unauthorized("the Authorization header must be `Bearer <key>`"))?;
        self.authenticate_hash(self.key_hash(token)).await
    }

    /// The caller behind a key's stored hash, for sign-ins that do not come as a bearer
    /// header (the dashboard's form and its sessions). Same checks, same cache.
    pub async fn authenticate_hash(&self, hash: String) -> Result<Caller, Problem> {
        if let Some(caller) = self.cached(&hash) {
            return Ok(caller);
        }
        let key = self
            .store
            .find_api_key(&hash, chrono::Utc::now())
            .await?
            .ok_or_else(|| Problem::unauthorized("the API key is not valid"))?;
        let workspace = self
            .store
            .get_workspace(&key.workspace_id)
            .await?
            .ok_or_else(|| Problem::unauthorized("the API key's workspace no longer exists"))?;
        let caller = Caller { key, workspace, user: None };
        self.remember(hash, caller.clone());
        Ok(caller)
    }

    /// The caller behind a person's dashboard session: refused (401) as soon as the person
    /// is removed or their session epoch moved on (a password or role change). Not cached:
    /// one GetItem per page, at people's pace, buys an immediate end on every instance.
    pub async fn authenticate_person(&self, ws: &WorkspaceId, id: &UserId, epoch: u32) -> Result<Caller, Problem> {
        let gone = || Problem::unauthorized("sign in again");
        let user = self.store.get_user(ws, id).await?.filter(|u| u.session_epoch == epoch).ok_or_else(gone)?;
        let workspace = self.store.get_workspace(ws).await?.ok_or_else(gone)?;
        let key = ApiKeyRecord { workspace_id: ws.clone(), name: user.name, scopes: user.role.scopes() };
        Ok(Caller { key, workspace, user: Some(user.id) })
    }

    /// Drops cached callers of a workspace whose settings changed (other instances catch up within the cache's minute).
    pub fn forget_workspace(&self, ws: &WorkspaceId) {
        self.cache.lock().expect("auth cache lock").retain(|_, (_, c)| &c.workspace.id != ws);
    }

    fn cached(&self, hash: &str) -> Option<Caller> {
        let cache = self.cache.lock().expect("auth cache lock");
        cache.get(hash).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, c)| c.clone())
    }

    fn remember(&self, hash: String, caller: Caller) {
        let mut cache = self.cache.lock().expect("auth cache lock");
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(hash, (Instant::now(), caller));
    }
}
