//! Dashboard sessions: one item per signed-in browser, keyed by the workspace and the
//! SHA-256 of the session secret (the secret itself lives only in the cookie), removed
//! by DynamoDB's TTL after `expires_at` and checked on read because TTL deletion lags.

use super::keys;
use super::table::{get_n, get_s, key, n, s, After};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use chrono::{DateTime, Utc};
use model::domain::WorkspaceId;
use model::people::UserId;
use model::session::{DashboardSession, SignedIn};

impl Store {
    pub async fn put_session(&self, secret_hash: &str, session: &DashboardSession) -> StoreResult<()> {
        let mut item = key(keys::session_pk(&session.workspace_id, secret_hash), keys::SESSION_SK);
        item.insert("entity".into(), s("session"));
        item.insert("workspace_id".into(), s(session.workspace_id.as_str()));
        match &session.signed_in {
            SignedIn::Person { user, epoch } => {
                item.insert("user_id".into(), s(user.as_str()));
                item.insert("session_epoch".into(), n(epoch));
            }
            SignedIn::Key { hash } => {
                item.insert("api_key_hash".into(), s(hash));
            }
        }
        item.insert("created_at".into(), s(model::listing::api_time(session.created_at)));
        item.insert("last_seen_at".into(), n(session.last_seen_at.timestamp()));
        item.insert("expires_at".into(), n(session.expires_at.timestamp()));
        self.put_one(item, false).await.map(|_| ())
    }

    /// The session, unless it is missing or expired at `now`.
    pub async fn get_session(
        &self,
        ws: &WorkspaceId,
        secret_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DashboardSession>> {
        let Some(item) = self.get_item(key(keys::session_pk(ws, secret_hash), keys::SESSION_SK), true).await? else {
            return Ok(None);
        };
        let expires_at = get_n(&item, "expires_at").and_then(|t| DateTime::from_timestamp(t, 0));
        let created_at = get_s(&item, "created_at").and_then(|t| t.parse::<DateTime<Utc>>().ok());
        // Sessions opened before idle timeouts count as seen when they were opened.
        let last_seen_at = get_n(&item, "last_seen_at").and_then(|t| DateTime::from_timestamp(t, 0)).or(created_at);
        let person = get_s(&item, "user_id").and_then(|u| UserId::parse(u).ok()).map(|user| SignedIn::Person {
            user,
            epoch: get_n(&item, "session_epoch").unwrap_or(0).try_into().unwrap_or(u32::MAX),
        });
        let signed_in = person.or_else(|| get_s(&item, "api_key_hash").map(|h| SignedIn::Key { hash: h.to_string() }));
        let (Some(signed_in), Some(expires_at), Some(created_at), Some(last_seen_at)) =
            (signed_in, expires_at, created_at, last_seen_at)
        else {
            return Err(StoreError::Corrupt("session item lacks who signed in or times".into()));
        };
        Ok((expires_at > now).then(|| DashboardSession {
            workspace_id: ws.clone(),
            signed_in,
            created_at,
            last_seen_at,
            expires_at,
        }))
    }

    /// Records a request on a live session; a session deleted meanwhile (signed out) stays gone.
    pub async fn touch_session(&self, ws: &WorkspaceId, secret_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let session = key(keys::session_pk(ws, secret_hash), keys::SESSION_SK);
        let before = self.image(&session).await;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session.clone()))
            .update_expression("SET last_seen_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now.timestamp()))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await;
        match out {
            Ok(out) => {
                self.record_write("UpdateItem", &session, before, After::ReadBack, out.consumed_capacity.as_ref())
                    .await;
                Ok(())
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                self.record_write("UpdateItem", &session, before, After::Failed, None).await;
                Ok(())
            }
            Err(e) => Err(crate::aws_error(e)),
        }
    }

    pub async fn delete_session(&self, ws: &WorkspaceId, secret_hash: &str) -> StoreResult<()> {
        let session = key(keys::session_pk(ws, secret_hash), keys::SESSION_SK);
        let before = self.image(&session).await;
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session.clone()))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(crate::aws_error)?;
        self.record_write("DeleteItem", &session, before, After::Absent, out.consumed_capacity.as_ref()).await;
        Ok(())
    }
}
