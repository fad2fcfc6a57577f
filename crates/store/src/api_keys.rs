//! API keys: each under the hash of its secret (`APIKEY#<hash>`, found before the workspace
//! is known), and on gsi1 under its workspace (`WS#<ws>#KEYS`), so a workspace's keys can
//! be listed and revoked by their public id. The secret itself is never stored.

use super::keys::{self, API_KEY_SK, GSI1};
use super::table::{get_s, key, s, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use model::auth::{ApiKey, ApiKeyRecord, Scope};
use model::domain::WorkspaceId;
use model::listing::api_time;

/// What a workspace sees of one of its keys.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    /// The public id (`key_` and 12 hex digits), for revoking.
    pub id: String,
    pub name: String,
    /// The secret's first characters, to tell keys apart (`abc_1a2b`).
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Within the hour: a use is recorded when the last one is older than that.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl KeyInfo {
    /// How a new key is listed: a new public id and the secret's first characters.
    pub fn new(key: &ApiKey, record: &ApiKeyRecord, now: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> Self {
        KeyInfo {
            id: format!("key_{}", model::hex::random(6)),
            name: record.name.clone(),
            prefix: key.expose_secret().chars().take(8).collect(),
            scopes: record.scopes.clone(),
            created_at: now,
            expires_at,
            last_used_at: None,
        }
    }
}

/// How stale `last_used_at` may get before a use writes it again.
const LAST_USE_RESOLUTION: chrono::Duration = chrono::Duration::hours(1);

impl Store {
    /// Stores a key's hash (`ApiKey::hash`, under the pepper), what it may do and how it is
    /// listed. The secret itself is never stored.
    pub async fn put_api_key(&self, hash: &str, record: &ApiKeyRecord, info: &KeyInfo) -> StoreResult<()> {
        let mut item = key(keys::api_key_pk(hash), API_KEY_SK);
        item.extend([
            ("entity".to_string(), s("api_key")),
            ("workspace_id".to_string(), s(record.workspace_id.as_str())),
            ("name".to_string(), s(&record.name)),
            ("scopes".to_string(), scopes(&record.scopes)),
            ("id".to_string(), s(&info.id)),
            ("prefix".to_string(), s(&info.prefix)),
            ("created_at".to_string(), s(api_time(info.created_at))),
            (GSI1.pk.to_string(), s(keys::api_keys_pk(&record.workspace_id))),
            (GSI1.sk.to_string(), s(format!("{}#{}", api_time(info.created_at), info.id))),
        ]);
        if let Some(expires) = info.expires_at {
            item.insert("expires_at".into(), s(api_time(expires)));
        }
        self.put_one(item, false).await.map(|_| ())
    }

    /// The key with this hash, unless it expired by `now`. A use is recorded (`last_used_at`)
    /// when the last one recorded is more than an hour old.
    pub async fn find_api_key(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<ApiKeyRecord>> {
        let Some(item) = self.get_item(key(keys::api_key_pk(hash), API_KEY_SK), false).await? else {
            return Ok(None);
        };
        let info = info_of(&item)?;
        if info.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        if info.last_used_at.is_none_or(|at| now - at > LAST_USE_RESOLUTION) {
            let values = Item::from([(":now".to_string(), s(api_time(now)))]);
            // The key may be revoked meanwhile: then nothing is written. A failed write only
            // leaves the time older: it never fails the request.
            let key_item = key(keys::api_key_pk(hash), API_KEY_SK);
            if let Err(e) = self.update_existing(key_item, "SET last_used_at = :now", Default::default(), values).await
            {
                tracing::warn!(key = %info.id, error = %e, "the key's last use was not recorded");
            }
        }
        Ok(Some(ApiKeyRecord { workspace_id: workspace_of(&item)?, name: info.name, scopes: info.scopes }))
    }

    /// A workspace's keys, oldest first.
    pub async fn list_api_keys(&self, ws: &WorkspaceId) -> StoreResult<Vec<KeyInfo>> {
        let mut query = QuerySpec::index(GSI1, keys::api_keys_pk(ws));
        query.newest_first = false;
        self.query_all(&query, 200).await?.iter().map(info_of).collect()
    }

    /// Revokes a workspace's key by its public id, if `allowed` accepts it; the key as it was.
    /// `None` when the workspace has no such key.
    pub async fn revoke_api_key(
        &self,
        ws: &WorkspaceId,
        id: &str,
        allowed: impl Fn(&KeyInfo) -> Result<(), String>,
    ) -> StoreResult<Option<Result<KeyInfo, String>>> {
        let mut query = QuerySpec::index(GSI1, keys::api_keys_pk(ws));
        query.filter = Some("#id = :id".into());
        query.names.insert("#id".into(), "id".into());
        query.values.insert(":id".into(), s(id));
        let Some(item) = self.query_all(&query, 200).await?.into_iter().next() else { return Ok(None) };
        let info = info_of(&item)?;
        if let Err(why) = allowed(&info) {
            return Ok(Some(Err(why)));
        }
        let pk = get_s(&item, "pk").ok_or_else(|| StoreError::Corrupt("api key item without pk".into()))?;
        self.batch_delete(vec![key(pk, API_KEY_SK)]).await?;
        Ok(Some(Ok(info)))
    }
}

fn scopes(list: &[Scope]) -> AttributeValue {
    AttributeValue::Ss(list.iter().map(|s| s.as_str().to_string()).collect())
}

fn workspace_of(item: &Item) -> StoreResult<WorkspaceId> {
    get_s(item, "workspace_id")
        .and_then(|w| WorkspaceId::parse(w).ok())
        .ok_or_else(|| StoreError::Corrupt("api key item lacks its workspace".into()))
}

fn info_of(item: &Item) -> StoreResult<KeyInfo> {
    let time = |name: &str| get_s(item, name).and_then(|t| t.parse::<DateTime<Utc>>().ok());
    let scopes = item
        .get("scopes")
        .and_then(|v| v.as_ss().ok())
        .map(|v| v.iter().filter_map(|s| s.parse::<Scope>().ok()).collect())
        .ok_or_else(|| StoreError::Corrupt("api key item lacks its scopes".into()))?;
    Ok(KeyInfo {
        // Keys stored before ids existed are listed under their hash's start.
        id: get_s(item, "id").map(str::to_string).unwrap_or_else(|| {
            let pk = get_s(item, "pk").unwrap_or_default();
            format!("key_{}", pk.trim_start_matches("APIKEY#").chars().take(12).collect::<String>())
        }),
        name: get_s(item, "name").unwrap_or("api key").to_string(),
        prefix: get_s(item, "prefix").unwrap_or("").to_string(),
        scopes,
        created_at: time("created_at").unwrap_or(DateTime::UNIX_EPOCH),
        expires_at: time("expires_at"),
        last_used_at: time("last_used_at"),
    })
}
