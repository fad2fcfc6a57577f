//! Sessions and CSRF tokens. The session cookie holds `<workspace>.<secret>`; only the
//! secret's SHA-256 (`session::secret_hash`) is stored, under the workspace's key space, so a leaked table does
//! not open sessions. Each request checks that whoever signed in still may: a person at the
//! same session epoch (read uncached), or an API key that still exists (the authenticator's
//! 5 s cache), so a password or role change, removal or a revoked key ends the sessions. A form's CSRF token is derived from the session secret; the sign-in form,
//! which has no session yet, uses a double-submit cookie instead.

use super::Dashboard;
use crate::http::auth::Caller;
use crate::http::Problem;
use chrono::{DateTime, Duration, Utc};
use lambda_http::Request;
use model::auth::Scope;
use model::domain::WorkspaceId;
use model::session::{secret_hash, DashboardSession, SignedIn};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `__Host-`: browsers take it only with `Secure`, `Path=/` and no `Domain`, so neither
/// plain http nor a sibling subdomain can set or shadow it.
pub const SESSION_COOKIE: &str = "__Host-abc_session";
pub const LOGIN_COOKIE: &str = "abc_login";
/// Sessions end this long after sign-in, however active.
pub const SESSION_HOURS: i64 = 12;
/// Sessions also end after this long without a request.
pub const SESSION_IDLE_MINUTES: i64 = 30;
/// How stale the recorded last request may get before a request records itself: at most
/// one write a minute per session, and the idle timeout holds to within a minute.
const TOUCH_AFTER_SECONDS: i64 = 60;

/// A signed-in person: the key's caller, and the token their forms must carry.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub caller: Caller,
    pub csrf: String,
    workspace: WorkspaceId,
    secret_hash: String,
}

impl Visitor {
    pub fn can_write(&self) -> bool {
        self.caller.key.allows(Scope::Write)
    }

    /// Refuses a change to contacts to viewers (and read-only keys).
    pub fn require_write(&self) -> Result<(), Problem> {
        self.caller.require(Scope::Write)
    }

    pub fn is_admin(&self) -> bool {
        self.caller.key.allows(Scope::Admin)
    }

    /// Refuses `action` (e.g. "erasing a person") to anyone below admin.
    pub fn require_admin(&self, action: &str) -> Result<(), Problem> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Problem::forbidden(format!("{action} needs the admin or owner role (or a key with the `admin` scope)")))
        }
    }

    /// Refuses a form whose `csrf` field is not this session's token.
    pub fn check_csrf(&self, form: &super::format::Form) -> Result<(), Problem> {
        if same(form.get("csrf"), &self.csrf) {
            Ok(())
        } else {
            Err(Problem::forbidden(
                "the form's security token does not match your session; reload the page and try again",
            ))
        }
    }
}

fn same(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// A random secret: 32 bytes as hex.
pub fn random_token() -> String {
    model::hex::random(32)
}

fn csrf_of(secret: &str) -> String {
    model::hex::encode(&Sha256::digest(format!("csrf\0{secret}").as_bytes()))
}

/// The value of a cookie the browser sent.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn has_cookie(req: &Request) -> bool {
    cookie(req, SESSION_COOKIE).is_some()
}

/// `Set-Cookie` for a cookie only this site's pages send back, over HTTPS, never to scripts.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64) -> String {
    format!("{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; Secure; SameSite=Lax")
}

fn parse_cookie(value: &str) -> Option<(WorkspaceId, &str)> {
    let (ws, secret) = value.split_once('.')?;
    let ok = secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit());
    Some((WorkspaceId::parse(ws).ok()?, secret)).filter(|_| ok)
}

/// Opens a session for a verified caller; returns the cookie value.
pub async fn open(d: &Dashboard, ws: &WorkspaceId, signed_in: SignedIn, now: DateTime<Utc>) -> Result<String, Problem> {
    let secret = random_token();
    let session = DashboardSession {
        workspace_id: ws.clone(),
        signed_in,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::hours(SESSION_HOURS),
    };
    d.store.put_session(&secret_hash(&secret), &session).await?;
    Ok(format!("{ws}.{secret}"))
}

/// The signed-in person, or `None` without a live session.
pub async fn visitor(d: &Dashboard, req: &Request) -> Result<Option<Visitor>, Problem> {
    let Some((workspace, secret)) = cookie(req, SESSION_COOKIE).and_then(parse_cookie) else {
        return Ok(None);
    };
    let secret_hash = secret_hash(secret);
    let now = Utc::now();
    let Some(session) = d.store.get_session(&workspace, &secret_hash, now).await? else {
        return Ok(None);
    };
    let idle = now - session.last_seen_at;
    if idle > Duration::minutes(SESSION_IDLE_MINUTES) {
        d.store.delete_session(&workspace, &secret_hash).await?;
        return Ok(None);
    }
    let caller = match session.signed_in {
        SignedIn::Key { hash } => d.auth.authenticate_hash(hash).await,
        SignedIn::Person { user, epoch } => d.auth.authenticate_person(&workspace, &user, epoch).await,
    };
    let caller = match caller {
        Ok(c) if c.workspace.id == workspace => c,
        Ok(_) => return Ok(None),
        Err(p) if p.status == 401 => return Ok(None),
        Err(p) => return Err(p),
    };
    crate::audit::note(&caller);
    if idle > Duration::seconds(TOUCH_AFTER_SECONDS) {
        d.store.touch_session(&workspace, &secret_hash, now).await?;
    }
    Ok(Some(Visitor { caller, csrf: csrf_of(secret), workspace, secret_hash }))
}

/// The signed-in person, if they may do `action` (admins and owners, or an admin key).
pub async fn require_admin(d: &Dashboard, req: &Request, action: &str) -> Result<Visitor, Problem> {
    let v = require(d, req).await?;
    v.require_admin(action)?;
    Ok(v)
}

/// An admin's form for `action`, its CSRF token checked.
pub async fn admin_form(d: &Dashboard, req: &Request, action: &str) -> Result<(Visitor, super::format::Form), Problem> {
    let v = require_admin(d, req, action).await?;
    let form = super::format::Form::body(req)?;
    v.check_csrf(&form)?;
    Ok((v, form))
}

/// The signed-in person; otherwise a 401 that the dashboard turns into the sign-in page.
pub async fn require(d: &Dashboard, req: &Request) -> Result<Visitor, Problem> {
    visitor(d, req).await?.ok_or_else(|| Problem::unauthorized("sign in to continue"))
}

pub async fn close(d: &Dashboard, v: &Visitor) -> Result<(), Problem> {
    d.store.delete_session(&v.workspace, &v.secret_hash).await?;
    Ok(())
}

/// The sign-in form's CSRF check: the hidden field must repeat the cookie set with the form.
pub fn login_token_matches(req: &Request, given: &str) -> bool {
    cookie(req, LOGIN_COOKIE).is_some_and(|expected| same(given, expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_carry_a_workspace_and_a_64_hex_secret() {
        let secret = random_token();
        assert_eq!(
            parse_cookie(&format!("demo.{secret}")).map(|(w, s)| (w.to_string(), s.to_string())),
            Some(("demo".into(), secret.clone()))
        );
        assert!(parse_cookie(&format!("Demo.{secret}")).is_none());
        assert!(parse_cookie("demo.abc").is_none());
        assert!(parse_cookie(&secret).is_none());
    }

    #[test]
    fn csrf_tokens_are_per_session_and_compared_whole() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(csrf_of(&a), csrf_of(&b));
        assert!(same(&csrf_of(&a), &csrf_of(&a)));
        assert!(!same("", ""));
        assert!(!same(&csrf_of(&a)[..10], &csrf_of(&a)));
    }

    #[test]
    fn session_cookies_are_locked_down() {
        let c = set_cookie(SESSION_COOKIE, "demo.x", "/", 60);
        for part in ["__Host-", "HttpOnly", "Secure", "SameSite=Lax", "Path=/;"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!c.contains("Domain"), "{c}");
    }
}
