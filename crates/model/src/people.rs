//! The people of a workspace: who signs in to the dashboard as themselves, with which role,
//! and what each role may do; their passwords (argon2id); the one-time links that invite a
//! person or reset a password; and how failed sign-ins are throttled.
//!
//! A role is a set of the scopes API keys have, so one check serves keys and people alike
//! (the permission table in docs/people.md):
//!
//! | role   | scopes                    | may                                                     |
//! |--------|---------------------------|---------------------------------------------------------|
//! | viewer | read                      | see contacts, conversations, analytics, segments        |
//! | agent  | read, write               | + edit contacts, notes, tags, merges, bulk actions      |
//! | admin  | read, write, admin        | + settings, bots, keys, integrations, exports, GDPR, retention; invite agents and viewers |
//! | owner  | read, write, admin, owner | + invite anyone, change roles, remove people            |

use crate::auth::Scope;
use crate::domain::{Email, InvalidValue, WorkspaceId};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use std::fmt;
use std::str::FromStr;

/// What a person may do in their workspace, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Viewer,
    Agent,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Agent, Role::Admin, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// The scopes a person of this role acts with.
    pub fn scopes(self) -> Vec<Scope> {
        let all = [Scope::Read, Scope::Write, Scope::Admin, Scope::Owner];
        let n = match self {
            Role::Viewer => 1,
            Role::Agent => 2,
            Role::Admin => 3,
            Role::Owner => 4,
        };
        all[..n].to_vec()
    }

    /// The highest role whose scopes are all in `scopes`: what a caller (a person or a key)
    /// counts as when it gives roles to others.
    pub fn of_scopes(scopes: &[Scope]) -> Option<Role> {
        Role::ALL.into_iter().rev().find(|r| r.scopes().iter().all(|s| scopes.contains(s)))
    }

    /// Whether someone of this role may give `role` to a person: owners any role, admins
    /// agent and viewer; nobody else any.
    pub fn may_grant(self, role: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => role <= Role::Agent,
            Role::Agent | Role::Viewer => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| InvalidValue::new(format!("`{s}` is not a role: expected owner, admin, agent or viewer")))
    }
}

/// A person's id in their workspace: `usr_` and 12 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    pub fn generate() -> Self {
        UserId(format!("usr_{}", crate::hex::random(6)))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = s.strip_prefix("usr_").is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        if ok {
            Ok(UserId(s.to_ascii_lowercase()))
        } else {
            Err(InvalidValue::new("a user id is `usr_` and 12 hex digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person who signs in to a workspace's dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub workspace_id: WorkspaceId,
    pub email: Email,
    /// How the person is shown (notes' author, the audit log); defaults to the email.
    pub name: String,
    pub role: Role,
    /// The PHC string of the password's argon2id hash.
    pub password_hash: String,
    /// Raised by a password or role change: sessions opened under an older one end.
    pub session_epoch: u32,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// A person's name: 1 to 100 characters once whitespace is collapsed.
pub fn person_name(input: &str) -> Result<String, InvalidValue> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 100 {
        return Err(InvalidValue::new("must be 1 to 100 characters"));
    }
    Ok(name)
}

/// A password as typed. Its `Debug` never shows it.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    /// A new password: 10 to 128 characters (NIST SP 800-63B: length, no composition rules).
    pub fn new(input: &str) -> Result<Self, InvalidValue> {
        let n = input.chars().count();
        if n < Self::MIN_CHARS {
            return Err(InvalidValue::new(format!("must be at least {} characters", Self::MIN_CHARS)));
        }
        if n > Self::MAX_CHARS {
            return Err(InvalidValue::new(format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        Ok(Password(input.to_string()))
    }

    /// The stored form: argon2id with [`argon2_params`] and a random 16-byte salt.
    pub fn hash(&self) -> String {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the OS has a random source");
        let salt = SaltString::encode_b64(&salt).expect("16 bytes are a valid salt");
        hasher().hash_password(self.0.as_bytes(), &salt).expect("argon2id hashes any password").to_string()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(redacted)")
    }
}

/// argon2id, m = 19 MiB, t = 2, p = 1: OWASP's recommended minimum; about 30 ms on a
/// Lambda at 1 GB. The parameters are in each stored hash, so raising them later still
/// verifies older hashes.
pub fn argon2_params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters")
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params())
}

/// Whether `typed` is the password whose stored form is `phc`.
pub fn password_matches(typed: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| hasher().verify_password(typed.as_bytes(), &h).is_ok())
}

/// A hash to verify against when no account matches, so that a wrong email takes as long
/// as a wrong password and the answer's timing does not tell which accounts exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| Password("not a password of anyone".into()).hash())
}

/// What a one-time link does when opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Join the workspace with this email and role.
    Invite { email: Email, role: Role },
    /// Set a new password for this person.
    ResetPassword { user: UserId },
}

/// A one-time link: stored under the hash of its token (the token is only in the link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeLink {
    pub workspace_id: WorkspaceId,
    pub purpose: LinkPurpose,
    /// Who made it (a person's or a key's name).
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl OneTimeLink {
    /// Invitations are open for 7 days.
    pub const INVITE_DAYS: i64 = 7;
    /// Password reset links for 24 hours.
    pub const RESET_HOURS: i64 = 24;

    pub fn invite(ws: &WorkspaceId, email: Email, role: Role, by: &str, now: DateTime<Utc>) -> Self {
        Self::new(ws, LinkPurpose::Invite { email, role }, by, now, Duration::days(Self::INVITE_DAYS))
    }

    pub fn reset(ws: &WorkspaceId, user: UserId, by: &str, now: DateTime<Utc>) -> Self {
        Self::new(ws, LinkPurpose::ResetPassword { user }, by, now, Duration::hours(Self::RESET_HOURS))
    }

    fn new(ws: &WorkspaceId, purpose: LinkPurpose, by: &str, now: DateTime<Utc>, open_for: Duration) -> Self {
        OneTimeLink {
            workspace_id: ws.clone(),
            purpose,
            created_by: by.to_string(),
            created_at: now,
            expires_at: now + open_for,
        }
    }

    /// A new token for a link: 32 random bytes as hex. The link is
    /// `/join/<workspace>.<token>` or `/reset/<workspace>.<token>`.
    pub fn new_token() -> String {
        crate::hex::random(32)
    }

    /// The stored form of a token (tokens are 256 random bits: a plain SHA-256 suffices).
    pub fn token_hash(token: &str) -> String {
        crate::session::secret_hash(token)
    }
}

/// Failed sign-ins: counted per account and per source address in fixed windows.
pub struct SignInThrottle;

impl SignInThrottle {
    /// The window failures are counted in, in seconds.
    pub const WINDOW_SECONDS: i64 = 15 * 60;
    /// An account locks after this many failures in a window, until the window ends.
    pub const PER_ACCOUNT: i64 = 5;
    /// An address is refused after this many failures in a window (any account).
    pub const PER_ADDRESS: i64 = 20;

    /// The window `now` falls in (its start, in seconds since the epoch).
    pub fn window(now: DateTime<Utc>) -> i64 {
        now.timestamp() - now.timestamp().rem_euclid(Self::WINDOW_SECONDS)
    }

    /// Seconds until the window of `now` ends.
    pub fn retry_after(now: DateTime<Utc>) -> i64 {
        Self::window(now) + Self::WINDOW_SECONDS - now.timestamp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_nested_sets_of_scopes() {
        assert_eq!(Role::Viewer.scopes(), [Scope::Read]);
        assert_eq!(Role::Agent.scopes(), [Scope::Read, Scope::Write]);
        assert_eq!(Role::Admin.scopes(), [Scope::Read, Scope::Write, Scope::Admin]);
        assert_eq!(Role::Owner.scopes(), Scope::ALL);
        for r in Role::ALL {
            assert_eq!(Role::of_scopes(&r.scopes()), Some(r));
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert_eq!(Role::of_scopes(&[Scope::Write]), None);
        assert_eq!(Role::of_scopes(&[Scope::Read, Scope::Admin]), Some(Role::Viewer));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_owners_and_admins_grant_roles_and_admins_only_lesser_ones() {
        assert!(Role::ALL.iter().all(|r| Role::Owner.may_grant(*r)));
        assert!(Role::Admin.may_grant(Role::Agent) && Role::Admin.may_grant(Role::Viewer));
        assert!(!Role::Admin.may_grant(Role::Admin) && !Role::Admin.may_grant(Role::Owner));
        assert!(Role::ALL.iter().all(|r| !Role::Agent.may_grant(*r) && !Role::Viewer.may_grant(*r)));
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let p = Password::new("correct horse battery").unwrap();
        let phc = p.hash();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_ne!(phc, p.hash(), "a fresh salt each time");
        assert!(password_matches("correct horse battery", &phc));
        assert!(!password_matches("correct horse batterY", &phc));
        assert!(!password_matches("correct horse battery", "not a hash"));
        assert!(!password_matches("anything", decoy_hash()));
        assert_eq!(format!("{p:?}"), "Password(redacted)");
    }

    #[test]
    fn passwords_are_long_enough_and_bounded() {
        assert!(Password::new("short").is_err());
        assert!(Password::new(&"x".repeat(129)).is_err());
        assert!(Password::new("ten chars!").is_ok());
        assert!(Password::new("äöüäöüäöüä").is_ok(), "characters, not bytes");
    }

    #[test]
    fn user_ids_and_names() {
        let id = UserId::generate();
        assert_eq!(UserId::parse(id.as_str()).unwrap(), id);
        for bad in ["usr_", "usr_12345", "key_0123456789ab", "usr_0123456789ag"] {
            assert!(UserId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(person_name("  Ada   Lovelace ").unwrap(), "Ada Lovelace");
        assert!(person_name("   ").is_err());
    }

    #[test]
    fn throttle_windows_are_fixed_quarters_of_an_hour() {
        let t = "2026-11-29T10:07:30Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(SignInThrottle::window(t), "2026-11-29T10:00:00Z".parse::<DateTime<Utc>>().unwrap().timestamp());
        assert_eq!(SignInThrottle::retry_after(t), 450);
    }

    #[test]
    fn links_expire() {
        let now = Utc::now();
        let ws = WorkspaceId::parse("acme").unwrap();
        let invite = OneTimeLink::invite(&ws, Email::parse("a@b.io").unwrap(), Role::Agent, "Ada", now);
        assert_eq!(invite.expires_at - now, Duration::days(7));
        let reset = OneTimeLink::reset(&ws, UserId::generate(), "Ada", now);
        assert_eq!(reset.expires_at - now, Duration::hours(24));
        let token = OneTimeLink::new_token();
        assert_eq!(token.len(), 64);
        assert_ne!(OneTimeLink::token_hash(&token), token);
    }
}
