//! People of a workspace: signing in (throttled), invitations, roles, removal and
//! passwords. The permission rules are here, once, for the API and the dashboard alike.

use crate::domain::{Email, WorkspaceId};
use crate::people::{
    decoy_hash, password_matches, person_name, LinkPurpose, OneTimeLink, Password, Role, SignInThrottle, User, UserId,
};
use crate::ports::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use std::future::Future;

/// Why adding a person failed, as the store tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddRefused {
    EmailTaken,
    LinkGone,
}

/// The people partition's access patterns (docs/data-model.md, "People").
pub trait PeopleStore: Sync {
    fn get_user(&self, ws: &WorkspaceId, id: &UserId) -> impl Future<Output = StoreResult<Option<User>>> + Send;
    fn user_by_email(&self, ws: &WorkspaceId, email: &Email) -> impl Future<Output = StoreResult<Option<User>>> + Send;
    fn list_users(&self, ws: &WorkspaceId) -> impl Future<Output = StoreResult<Vec<User>>> + Send;
    /// Adds a person, using up the invitation `link` (its token hash) when given.
    fn add_user(
        &self,
        user: &User,
        link: Option<&str>,
    ) -> impl Future<Output = StoreResult<Result<(), AddRefused>>> + Send;
    fn set_user_role(
        &self,
        ws: &WorkspaceId,
        id: &UserId,
        role: Role,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn set_user_password(
        &self,
        ws: &WorkspaceId,
        id: &UserId,
        phc: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn reset_password(
        &self,
        token_hash: &str,
        ws: &WorkspaceId,
        id: &UserId,
        phc: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn remove_user(&self, ws: &WorkspaceId, user: &User) -> impl Future<Output = StoreResult<bool>> + Send;
    fn record_sign_in(
        &self,
        ws: &WorkspaceId,
        id: &UserId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn put_link(&self, token_hash: &str, link: &OneTimeLink) -> impl Future<Output = StoreResult<()>> + Send;
    fn get_link(
        &self,
        ws: &WorkspaceId,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Option<OneTimeLink>>> + Send;
    fn sign_in_failures(
        &self,
        ws: &WorkspaceId,
        subjects: &[String],
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Vec<i64>>> + Send;
    fn count_sign_in_failure(
        &self,
        ws: &WorkspaceId,
        subjects: &[String],
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Who asks: their role (a key counts as the highest role its scopes cover), their name
/// for the record, and who they are when a person.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub role: Role,
    pub name: &'a str,
    pub user: Option<&'a UserId>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("{0}")]
    Forbidden(String),
    #[error("there is no such person in this workspace")]
    NotFound,
    #[error("`{field}` {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("someone in this workspace already has that email")]
    EmailTaken,
    #[error("this link was used already or has expired; ask for a new one")]
    LinkGone,
    #[error("the workspace needs at least one owner: make someone else owner first")]
    LastOwner,
    #[error("the current password is not right")]
    WrongPassword,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a sign-in failed. Wrong email and wrong password are one answer, so the form does
/// not tell who has an account.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the email or password is not right")]
    Wrong,
    #[error("too many failed sign-ins; try again in {} minutes", (retry_after_seconds + 59) / 60)]
    Throttled { retry_after_seconds: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks an email and password; failures count against the account and the address,
/// and either over its limit refuses every attempt until its window ends.
pub async fn sign_in(
    store: &impl PeopleStore,
    ws: &WorkspaceId,
    typed_email: &str,
    password: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<User, SignInError> {
    let email = Email::parse(typed_email).ok();
    let account = email.as_ref().map_or_else(|| typed_email.trim().to_lowercase(), Email::key);
    let subjects = [format!("account:{account}"), format!("address:{address}")];
    let failures = store.sign_in_failures(ws, &subjects, now).await?;
    let over = failures[0] >= SignInThrottle::PER_ACCOUNT || failures[1] >= SignInThrottle::PER_ADDRESS;
    if over {
        return Err(SignInError::Throttled { retry_after_seconds: SignInThrottle::retry_after(now) });
    }
    let user = match &email {
        Some(e) => store.user_by_email(ws, e).await?,
        None => None,
    };
    // The same work whether or not the account exists.
    let phc = user.as_ref().map_or(decoy_hash(), |u| u.password_hash.as_str());
    match user {
        Some(user) if password_matches(password, phc) => {
            store.record_sign_in(ws, &user.id, now).await?;
            Ok(user)
        }
        _ => {
            store.count_sign_in_failure(ws, &subjects, now).await?;
            Err(SignInError::Wrong)
        }
    }
}

/// Everyone in the workspace (admins and owners see the list).
pub async fn list(store: &impl PeopleStore, ws: &WorkspaceId, actor: Actor<'_>) -> Result<Vec<User>, PeopleError> {
    if actor.role < Role::Admin {
        return Err(PeopleError::Forbidden("seeing the workspace's people needs the admin or owner role".into()));
    }
    Ok(store.list_users(ws).await?)
}

/// An invitation for `email` with `role`: the link's token (shown once) and the link.
pub async fn invite(
    store: &impl PeopleStore,
    ws: &WorkspaceId,
    actor: Actor<'_>,
    email: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<(String, OneTimeLink), PeopleError> {
    let email = Email::parse(email).map_err(|e| PeopleError::Invalid { field: "email", reason: e.0 })?;
    let role = role.parse::<Role>().map_err(|e| PeopleError::Invalid { field: "role", reason: e.0 })?;
    if !actor.role.may_grant(role) {
        return Err(PeopleError::Forbidden(format!("inviting someone as {role} needs {}", needed_to_grant(role))));
    }
    if store.user_by_email(ws, &email).await?.is_some() {
        return Err(PeopleError::EmailTaken);
    }
    let token = OneTimeLink::new_token();
    let link = OneTimeLink::invite(ws, email, role, actor.name, now);
    store.put_link(&OneTimeLink::token_hash(&token), &link).await?;
    Ok((token, link))
}

fn needed_to_grant(role: Role) -> &'static str {
    if role <= Role::Agent {
        "the admin or owner role"
    } else {
        "the owner role"
    }
}

/// The invitation behind a token, while it is open.
pub async fn open_link(
    store: &impl PeopleStore,
    ws: &WorkspaceId,
    token: &str,
    now: DateTime<Utc>,
) -> Result<OneTimeLink, PeopleError> {
    store.get_link(ws, &OneTimeLink::token_hash(token), now).await?.ok_or(PeopleError::LinkGone)
}

/// Joins the workspace through an invitation: the person, with their name and password.
pub async fn accept_invitation(
    store: &impl PeopleStore,
    ws: &WorkspaceId,
    token: &str,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<User, PeopleError> {
    let link = open_link(store, ws, token, now).await?;
    let LinkPurpose::Invite { email, role } = link.purpose else {
        return Err(PeopleError::LinkGone);
    };
    let password = Password::new(password).map_err(|e| PeopleError::Invalid { field: "password", reason: e.0 })?;
    let name = if name.trim().is_empty() { email.to_string() } else { name.to_string() };
    let name = person_name(&name).map_err(|e| PeopleError::Invalid { field: "name", reason: e.0 })?;
    let user = User {
        id: UserId::generate(),
        workspace_id: ws.clone(),
        email,
        name,
        role,
        password_hash: password.hash(),
        session_epoch: 0,
        created_at: now,
        last_sign_in_at: None,
    };
    match store.add_user(&user, Some(&OneTimeLink::token_hash(token))).await? {
        Ok(()) => Ok(user),
        Err(AddRefused::EmailTaken) => Err(PeopleError::EmailTaken),
        Err(AddRefused::LinkGone) => Err(PeopleError::LinkGone),
    }
}

/// A password reset link for a person: admins for agents and viewers, owners for anyone.
pub async fn issue_reset(
    store: &impl PeopleStore,
    ws: &WorkspaceId,
    actor: Actor<'_>,
    id: &UserId,
    now: DateTime<Utc>,
) -> Result<(String, OneTimeLink), PeopleError> {
    let user = store.get_user(ws, id).await?.ok_or(PeopleError::NotFound)?;
    if !actor.role.may_grant(user.role) {
        return Err(PeopleError::Forbidden(format!(
            "resetting the password of someone who is {} needs {}",
            user.role,
            needed_to_grant(user.role)
        )));
    }
    let token = OneTimeLink::new_token();
    let link = OneTimeLink::reset(ws, user.id, actor.name, now);
    store.put_link(&OneTimeLink::token_hash(&token), &link).await?;
    Ok((token, link))
}

/// Sets a new password through a reset link; every session of the person ends.
pub async fn reset_password(
    store: &impl PeopleStore,
    ws: &WorkspaceId,
    token: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<UserId, PeopleError> {
    let link = open_link(store, ws, token, now).await?;
    let LinkPurpose::ResetPassword { user } = link.purpose else {
        return Err(PeopleError::LinkGone);
    };
    let password = Password::new(password).map_err(|e| PeopleError::Invalid { field: "password", reason: e.0 })?;
    if store.reset_password(&OneTimeLink::token_hash(token), ws, &user, &password.hash()).await? {
        Ok(user)
    } else {
        Err(PeopleError::LinkGone)
    }
}

/// A person changes their own password, knowing the current one; their other sessions end.
pub async fn change_password(
    store: &impl PeopleStore,
    ws: &WorkspaceId,
    id: &UserId,
    current: &str,
    new: &str,
) -> Result<(), PeopleError> {
    let user = store.get_user(ws, id).await?.ok_or(PeopleError::NotFound)?;
    if !password_matches(current, &user.password_hash) {
        return Err(PeopleError::WrongPassword);
    }
    let new = Password::new(new).map_err(|e| PeopleError::Invalid { field: "password", reason: e.0 })?;
    if !store.set_user_password(ws, id, &new.hash()).await? {
        return Err(PeopleError::NotFound);
    }
    Ok(())
}

/// Gives a person another role (owners only); their sessions end. The last owner stays.
pub async fn change_role(
    store: &impl PeopleStore,
    ws: &WorkspaceId,
    actor: Actor<'_>,
    id: &UserId,
    role: &str,
) -> Result<User, PeopleError> {
    let role = role.parse::<Role>().map_err(|e| PeopleError::Invalid { field: "role", reason: e.0 })?;
    if actor.role < Role::Owner {
        return Err(PeopleError::Forbidden("changing roles needs the owner role".into()));
    }
    let mut user = store.get_user(ws, id).await?.ok_or(PeopleError::NotFound)?;
    if user.role == role {
        return Ok(user);
    }
    if user.role == Role::Owner {
        keep_an_owner(store, ws, &user.id).await?;
    }
    if !store.set_user_role(ws, id, role).await? {
        return Err(PeopleError::NotFound);
    }
    user.role = role;
    user.session_epoch += 1;
    Ok(user)
}

/// Removes a person (owners only); their sessions end. The last owner stays.
pub async fn remove(
    store: &impl PeopleStore,
    ws: &WorkspaceId,
    actor: Actor<'_>,
    id: &UserId,
) -> Result<User, PeopleError> {
    if actor.role < Role::Owner {
        return Err(PeopleError::Forbidden("removing people needs the owner role".into()));
    }
    let user = store.get_user(ws, id).await?.ok_or(PeopleError::NotFound)?;
    if user.role == Role::Owner {
        keep_an_owner(store, ws, &user.id).await?;
    }
    if !store.remove_user(ws, &user).await? {
        return Err(PeopleError::NotFound);
    }
    Ok(user)
}

/// Refuses to take the owner role from `leaving` when nobody else has it. (Two owners
/// demoting each other at the same instant could both pass: owners are few and this is a
/// guard against mistakes, not a race-proof invariant; `provision` adds an owner back.)
async fn keep_an_owner(store: &impl PeopleStore, ws: &WorkspaceId, leaving: &UserId) -> Result<(), PeopleError> {
    let others = store.list_users(ws).await?.into_iter().filter(|u| u.role == Role::Owner && &u.id != leaving);
    if others.count() == 0 {
        return Err(PeopleError::LastOwner);
    }
    Ok(())
}
