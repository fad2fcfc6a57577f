//! A workspace's people, in one partition `WS#<ws>#PEOPLE`:
//! - `USER#<id>`: the person (email, name, role, argon2id hash, session epoch);
//! - `EMAIL#<email>`: which person has the email (unique per workspace), so a sign-in is
//!   two GetItems;
//! - `LINK#<sha256 of token>`: an invitation or password reset link, gone after its use or
//!   by TTL;
//! - `SIGNIN#<window>#<subject>`: failed sign-ins of an account or an address in a
//!   15-minute window, gone by TTL.
//!
//! Creating a person (provisioning, an accepted invitation) is one transaction over the
//! person, the email and the link, so an email never has two people and a link opens once.

use super::keys::{self, people_pk};
use super::table::{get_n, get_s, key, n, s, Condition, Item, QuerySpec, TxFailure};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use model::domain::{Email, WorkspaceId};
use model::listing::api_time;
use model::people::{LinkPurpose, OneTimeLink, Role, SignInThrottle, User, UserId};
use model::usecases::people::AddRefused;

impl Store {
    /// Adds a person (provisioning's first owner, or whom the invitation `link` — its
    /// token's hash — was for, using the link up): `EmailTaken` when the email has one.
    pub async fn add_user(&self, user: &User, link: Option<&str>) -> StoreResult<Result<(), AddRefused>> {
        let pk = people_pk(&user.workspace_id);
        let mut email = key(&pk, keys::user_email_sk(&user.email.key()));
        email.insert("user_id".into(), s(user.id.as_str()));
        let mut ops = vec![
            self.tx_put(Some(AddRefused::EmailTaken), email, Some(Condition::absent())),
            self.tx_put(None, user_item(user), Some(Condition::absent())),
        ];
        if let Some(hash) = link {
            let exists = Condition { expression: "attribute_exists(pk)", values: None };
            ops.push(self.tx_delete(Some(AddRefused::LinkGone), key(&pk, keys::link_sk(hash)), Some(exists)));
        }
        match self.transact(&ops).await {
            Ok(()) => Ok(Ok(())),
            Err(TxFailure::Conditions(failed)) => match failed.into_iter().find_map(|(why, _)| why) {
                Some(why) => Ok(Err(why)),
                None => Err(StoreError::Corrupt(format!("user id {} is taken", user.id))),
            },
            Err(TxFailure::Other(e)) => Err(e),
        }
    }

    pub async fn get_user(&self, ws: &WorkspaceId, id: &UserId) -> StoreResult<Option<User>> {
        let item = self.get_item(key(people_pk(ws), keys::user_sk(id)), true).await?;
        item.map(|i| user_of(ws, &i)).transpose()
    }

    /// The person with this email, if any (two strongly consistent GetItems).
    pub async fn user_by_email(&self, ws: &WorkspaceId, email: &Email) -> StoreResult<Option<User>> {
        let Some(item) = self.get_item(key(people_pk(ws), keys::user_email_sk(&email.key())), true).await? else {
            return Ok(None);
        };
        let id = get_s(&item, "user_id")
            .and_then(|i| UserId::parse(i).ok())
            .ok_or_else(|| StoreError::Corrupt("email item lacks its user".into()))?;
        self.get_user(ws, &id).await
    }

    /// Everyone in the workspace, in id order (one Query of the people partition).
    pub async fn list_users(&self, ws: &WorkspaceId) -> StoreResult<Vec<User>> {
        let mut query = QuerySpec::partition(people_pk(ws), keys::USER_SK_PREFIX);
        query.newest_first = false;
        self.query_all(&query, 100).await?.iter().map(|i| user_of(ws, i)).collect()
    }

    /// Changes a person's role and ends their sessions; false when they are gone.
    pub async fn set_user_role(&self, ws: &WorkspaceId, id: &UserId, role: Role) -> StoreResult<bool> {
        let values = Item::from([(":role".to_string(), s(role.as_str())), (":one".to_string(), n(1))]);
        let names = [("#role".to_string(), "role".to_string())].into();
        let user = key(people_pk(ws), keys::user_sk(id));
        self.update_existing(user, "SET #role = :role ADD session_epoch :one", names, values).await
    }

    /// Sets a person's password (an argon2id PHC string) and ends their sessions; false
    /// when they are gone.
    pub async fn set_user_password(&self, ws: &WorkspaceId, id: &UserId, phc: &str) -> StoreResult<bool> {
        let values = Item::from([(":hash".to_string(), s(phc)), (":one".to_string(), n(1))]);
        let user = key(people_pk(ws), keys::user_sk(id));
        self.update_existing(user, "SET password_hash = :hash ADD session_epoch :one", Default::default(), values).await
    }

    /// Sets a password through a reset link, using the link up in the same transaction;
    /// false when the link was used or the person removed meanwhile.
    pub async fn reset_password(
        &self,
        token_hash: &str,
        ws: &WorkspaceId,
        id: &UserId,
        phc: &str,
    ) -> StoreResult<bool> {
        let pk = people_pk(ws);
        let exists = || Condition { expression: "attribute_exists(pk)", values: None };
        let values = Item::from([(":hash".to_string(), s(phc)), (":one".to_string(), n(1))]);
        let user = key(&pk, keys::user_sk(id));
        let update = self.tx_update_existing((), user, "SET password_hash = :hash ADD session_epoch :one", values);
        let ops = [self.tx_delete((), key(&pk, keys::link_sk(token_hash)), Some(exists())), update];
        match self.transact(&ops).await {
            Ok(()) => Ok(true),
            Err(TxFailure::Conditions(_)) => Ok(false),
            Err(TxFailure::Other(e)) => Err(e),
        }
    }

    /// Records a successful sign-in's time.
    pub async fn record_sign_in(&self, ws: &WorkspaceId, id: &UserId, now: DateTime<Utc>) -> StoreResult<()> {
        let values = Item::from([(":now".to_string(), s(api_time(now)))]);
        let user = key(people_pk(ws), keys::user_sk(id));
        self.update_existing(user, "SET last_sign_in_at = :now", Default::default(), values).await.map(|_| ())
    }

    /// Removes a person (their sessions end with them); false when they were gone.
    pub async fn remove_user(&self, ws: &WorkspaceId, user: &User) -> StoreResult<bool> {
        let pk = people_pk(ws);
        let exists = || Some(Condition { expression: "attribute_exists(pk)", values: None });
        let ops = [
            self.tx_delete((), key(&pk, keys::user_sk(&user.id)), exists()),
            self.tx_delete((), key(&pk, keys::user_email_sk(&user.email.key())), None),
        ];
        match self.transact(&ops).await {
            Ok(()) => Ok(true),
            Err(TxFailure::Conditions(_)) => Ok(false),
            Err(TxFailure::Other(e)) => Err(e),
        }
    }

    /// Stores a one-time link under its token's hash, removed by TTL once it expires.
    pub async fn put_link(&self, token_hash: &str, link: &OneTimeLink) -> StoreResult<()> {
        let mut item = key(people_pk(&link.workspace_id), keys::link_sk(token_hash));
        item.insert("entity".into(), s("link"));
        match &link.purpose {
            LinkPurpose::Invite { email, role } => {
                item.insert("purpose".into(), s("invite"));
                item.insert("email".into(), s(email.as_str()));
                item.insert("role".into(), s(role.as_str()));
            }
            LinkPurpose::ResetPassword { user } => {
                item.insert("purpose".into(), s("reset"));
                item.insert("user_id".into(), s(user.as_str()));
            }
        }
        item.insert("created_by".into(), s(&link.created_by));
        item.insert("created_at".into(), s(api_time(link.created_at)));
        item.insert("expires_at".into(), n(link.expires_at.timestamp()));
        self.put_one(item, true).await.and_then(|put| {
            put.then_some(()).ok_or_else(|| StoreError::Corrupt("a link token was issued twice".into()))
        })
    }

    /// The link with this token hash, unless it was used or has expired by `now`.
    pub async fn get_link(
        &self,
        ws: &WorkspaceId,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<OneTimeLink>> {
        let Some(item) = self.get_item(key(people_pk(ws), keys::link_sk(token_hash)), true).await? else {
            return Ok(None);
        };
        let corrupt = |what: &str| StoreError::Corrupt(format!("link item lacks {what}"));
        let expires_at =
            get_n(&item, "expires_at").and_then(|t| DateTime::from_timestamp(t, 0)).ok_or_else(|| corrupt("expiry"))?;
        if expires_at <= now {
            return Ok(None);
        }
        let purpose = match get_s(&item, "purpose") {
            Some("invite") => LinkPurpose::Invite {
                email: get_s(&item, "email").and_then(|e| Email::parse(e).ok()).ok_or_else(|| corrupt("email"))?,
                role: get_s(&item, "role").and_then(|r| r.parse().ok()).ok_or_else(|| corrupt("role"))?,
            },
            Some("reset") => LinkPurpose::ResetPassword {
                user: get_s(&item, "user_id").and_then(|u| UserId::parse(u).ok()).ok_or_else(|| corrupt("user"))?,
            },
            _ => return Err(corrupt("purpose")),
        };
        Ok(Some(OneTimeLink {
            workspace_id: ws.clone(),
            purpose,
            created_by: get_s(&item, "created_by").unwrap_or_default().to_string(),
            created_at: get_s(&item, "created_at").and_then(|t| t.parse().ok()).unwrap_or(expires_at),
            expires_at,
        }))
    }

    /// Failed sign-ins in `now`'s window for each subject (an account's email key, an
    /// address), in their order; one BatchGetItem.
    pub async fn sign_in_failures(
        &self,
        ws: &WorkspaceId,
        subjects: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        let window = SignInThrottle::window(now);
        let sk = |subject: &String| keys::sign_in_failures_sk(subject, window);
        let keys: Vec<Item> = subjects.iter().map(|subject| key(people_pk(ws), sk(subject))).collect();
        let items = self.batch_get(keys, true).await?;
        Ok(subjects
            .iter()
            .map(|subject| {
                let sk = sk(subject);
                items
                    .iter()
                    .find(|i| get_s(i, "sk") == Some(sk.as_str()))
                    .and_then(|i| get_n(i, "failures"))
                    .unwrap_or(0)
            })
            .collect())
    }

    /// Counts one failed sign-in against each subject in `now`'s window.
    pub async fn count_sign_in_failure(
        &self,
        ws: &WorkspaceId,
        subjects: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let window = SignInThrottle::window(now);
        let expires = window + 2 * SignInThrottle::WINDOW_SECONDS;
        for subject in subjects {
            let counter = key(people_pk(ws), keys::sign_in_failures_sk(subject, window));
            let values = Item::from([(":one".to_string(), n(1)), (":expires".to_string(), n(expires))]);
            self.update_or_create(counter, "ADD failures :one SET expires_at = :expires", values).await?;
        }
        Ok(())
    }
}

fn user_item(user: &User) -> Item {
    let mut item = key(people_pk(&user.workspace_id), keys::user_sk(&user.id));
    item.extend([
        ("entity".to_string(), s("user")),
        ("id".to_string(), s(user.id.as_str())),
        ("email".to_string(), s(user.email.as_str())),
        ("name".to_string(), s(&user.name)),
        ("role".to_string(), s(user.role.as_str())),
        ("password_hash".to_string(), s(&user.password_hash)),
        ("session_epoch".to_string(), n(user.session_epoch)),
        ("created_at".to_string(), s(api_time(user.created_at))),
    ]);
    if let Some(at) = user.last_sign_in_at {
        item.insert("last_sign_in_at".into(), s(api_time(at)));
    }
    item
}

fn user_of(ws: &WorkspaceId, item: &Item) -> StoreResult<User> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("user item lacks {what}"));
    let time = |name: &str| get_s(item, name).and_then(|t| t.parse::<DateTime<Utc>>().ok());
    Ok(User {
        id: get_s(item, "id").and_then(|i| UserId::parse(i).ok()).ok_or_else(|| corrupt("id"))?,
        workspace_id: ws.clone(),
        email: get_s(item, "email").and_then(|e| Email::parse(e).ok()).ok_or_else(|| corrupt("email"))?,
        name: get_s(item, "name").unwrap_or_default().to_string(),
        role: get_s(item, "role").and_then(|r| r.parse().ok()).ok_or_else(|| corrupt("role"))?,
        password_hash: get_s(item, "password_hash").ok_or_else(|| corrupt("password hash"))?.to_string(),
        session_epoch: get_n(item, "session_epoch").unwrap_or(0).try_into().unwrap_or(u32::MAX),
        created_at: time("created_at").ok_or_else(|| corrupt("created_at"))?,
        last_sign_in_at: time("last_sign_in_at"),
    })
}
