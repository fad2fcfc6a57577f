//! Secrets sealed at rest: bots' channel settings and integrations' credentials.
//!
//! Envelope encryption under a KMS key of the stack (`SECRETS_KMS_KEY_ID`). Each workspace
//! has its own data key (AES-256): KMS makes it (`GenerateDataKey`, with the encryption
//! context `{"workspace": <ws>}`) and the table keeps only KMS's ciphertext of it, in one
//! item per workspace (`WS#<ws>#DATAKEY` / `DATAKEY`, every version it has had). A value is
//! sealed with AES-256-GCM under the workspace's current data key, with a fresh nonce and
//! what it is for (the bot id, `integration:<ws>:<id>`) as associated data, and names the
//! version that sealed it: `v2.<version>.<base64 of nonce, ciphertext and tag>`.
//!
//! A function asks KMS to unwrap a data key (`Decrypt`, under the same context: a
//! workspace's wrapped key unwraps for that workspace only) once, and keeps it for the life
//! of its instance in a bounded cache; the key is never logged. A copy of the table, a
//! backup or a stream image holds neither a secret nor a usable key.
//!
//! Values sealed before KMS (`v1.`, AES-256-GCM under the 64-hex `SECRETS_KEY`) open while
//! that key is given, and are sealed under KMS when next written.

use super::keys;
use super::table::{get_n, key, n, s, Condition, Item};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::Engine;
use lru::LruCache;
use model::domain::WorkspaceId;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sealed under a workspace's data key: `v2.<version>.<base64>`.
const ENVELOPE: &str = "v2.";
/// Sealed under `SECRETS_KEY`, before KMS: `v1.<base64>`.
const LEGACY: &str = "v1.";

/// Workspaces whose data keys an instance keeps; the least recently used goes first.
const CACHED_WORKSPACES: usize = 1024;
/// How long a sealing instance trusts the current version it read: a rotation made
/// elsewhere is taken up within this time (values sealed meanwhile still open).
const CURRENT_FOR: Duration = Duration::from_secs(15 * 60);

/// The data key item's attributes: the current version and every version's wrapped key.
const CURRENT: &str = "current_version";
const WRAPPED: &str = "wrapped";
const KMS_KEY: &str = "kms_key";

/// How secrets are sealed: the stack's KMS key, the data keys unwrapped so far, and the
/// key of values sealed before KMS, if it is still given. Cheap to clone; clones share
/// the cache.
#[derive(Clone)]
pub struct Secrets {
    kms: aws_sdk_kms::Client,
    kms_key: String,
    legacy: Option<SecretsKey>,
    data_keys: Arc<DataKeys>,
}

impl Secrets {
    /// Seals under `kms_key` (a key id, ARN or alias of the stack's KMS key).
    pub fn new(kms: aws_sdk_kms::Client, kms_key: impl Into<String>) -> Self {
        Secrets { kms, kms_key: kms_key.into(), legacy: None, data_keys: Arc::new(DataKeys::new()) }
    }

    /// Also opens values sealed under `key` before KMS (`v1.`).
    pub fn opening_legacy(mut self, key: SecretsKey) -> Self {
        self.legacy = Some(key);
        self
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets").field("kms_key", &self.kms_key).field("legacy", &self.legacy.is_some()).finish()
    }
}

/// The data keys an instance has unwrapped, per workspace and version.
struct DataKeys {
    workspaces: Mutex<LruCache<WorkspaceId, WorkspaceKeys>>,
    /// Held while a missing key is fetched, so concurrent first uses ask KMS once.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct WorkspaceKeys {
    /// The version new values are sealed with, and when it was read.
    current: Option<(u32, Instant)>,
    keys: HashMap<u32, Arc<LessSafeKey>>,
}

impl DataKeys {
    fn new() -> Self {
        let capacity = NonZeroUsize::new(CACHED_WORKSPACES).expect("not zero");
        DataKeys { workspaces: Mutex::new(LruCache::new(capacity)), fetching: tokio::sync::Mutex::new(()) }
    }

    fn version(&self, ws: &WorkspaceId, version: u32) -> Option<Arc<LessSafeKey>> {
        self.workspaces.lock().expect("data keys").get(ws)?.keys.get(&version).cloned()
    }

    fn current(&self, ws: &WorkspaceId) -> Option<(u32, Arc<LessSafeKey>)> {
        let mut cache = self.workspaces.lock().expect("data keys");
        let keys = cache.get(ws)?;
        let (version, _) = keys.current.filter(|(_, at)| at.elapsed() < CURRENT_FOR)?;
        Some((version, keys.keys.get(&version)?.clone()))
    }

    fn keep(&self, ws: &WorkspaceId, version: u32, key: Arc<LessSafeKey>, current: bool) {
        let mut cache = self.workspaces.lock().expect("data keys");
        let keys = cache.get_or_insert_mut(ws.clone(), WorkspaceKeys::default);
        keys.keys.insert(version, key);
        if current {
            keys.current = Some((version, Instant::now()));
        }
    }
}

/// A workspace's data key item, as read.
struct DataKeyItem {
    current: u32,
    kms_key: String,
    wrapped: HashMap<u32, Vec<u8>>,
}

impl Store {
    /// `plain` sealed for `owner` (what it may be opened for) under `ws`'s current data key,
    /// which is made on the workspace's first secret.
    pub(crate) async fn seal(&self, ws: &WorkspaceId, plain: &[u8], owner: &str) -> StoreResult<String> {
        let secrets = self.secrets()?;
        let (version, key) = match secrets.data_keys.current(ws) {
            Some(found) => found,
            None => self.fetch_current(secrets, ws).await?,
        };
        Ok(format!("{ENVELOPE}{version}.{}", seal_with(&key, plain, owner)?))
    }

    /// What [`Store::seal`] sealed for `owner` in `ws` (or, before KMS, `SECRETS_KEY`); an
    /// error for anything else.
    pub(crate) async fn open(&self, ws: &WorkspaceId, sealed: &str, owner: &str) -> StoreResult<Vec<u8>> {
        let secrets = self.secrets()?;
        let refuse = || StoreError::Corrupt(format!("sealed secrets of {owner} do not open in workspace {ws}"));
        if let Some(rest) = sealed.strip_prefix(LEGACY) {
            let legacy = secrets.legacy.as_ref().ok_or_else(|| {
                StoreError::Refused(format!(
                    "secrets of {owner} were sealed before KMS: set SECRETS_KEY to open them (docs/security.md)"
                ))
            })?;
            return open_with(&legacy.key, rest, owner).ok_or_else(refuse);
        }
        let (version, body) = sealed
            .strip_prefix(ENVELOPE)
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(v, body)| Some((v.parse::<u32>().ok()?, body)))
            .ok_or_else(refuse)?;
        let key = match secrets.data_keys.version(ws, version) {
            Some(key) => key,
            None => self.fetch_version(secrets, ws, version).await?.ok_or_else(refuse)?,
        };
        open_with(&key, body, owner).ok_or_else(refuse)
    }

    /// Gives `ws` a new data key: values sealed from now on use it (other instances take it
    /// up within 15 minutes), those sealed before still open with theirs. Answers its version.
    pub async fn rotate_data_key(&self, ws: &WorkspaceId) -> StoreResult<u32> {
        let secrets = self.secrets()?;
        let _fetching = secrets.data_keys.fetching.lock().await;
        let Some(mut item) = self.read_data_keys(ws).await? else {
            return Ok(self.new_data_key(secrets, ws).await?.0);
        };
        let seen = item.current;
        let (plain, wrapped, _) = self.generate(secrets, ws).await?;
        item.current = seen + 1;
        item.wrapped.insert(item.current, wrapped);
        if !self.put_data_keys(ws, &item, Some(seen)).await? {
            return Err(StoreError::Unavailable(format!("the data key of {ws} was rotated meanwhile: try again")));
        }
        secrets.data_keys.keep(ws, item.current, Arc::new(aead_key(&plain)?), true);
        Ok(item.current)
    }

    fn secrets(&self) -> StoreResult<&Secrets> {
        self.secrets.as_ref().ok_or_else(|| {
            StoreError::Refused("secrets are sealed under the stack's KMS key: set SECRETS_KMS_KEY_ID".into())
        })
    }

    async fn fetch_current(&self, secrets: &Secrets, ws: &WorkspaceId) -> StoreResult<(u32, Arc<LessSafeKey>)> {
        let _fetching = secrets.data_keys.fetching.lock().await;
        if let Some(found) = secrets.data_keys.current(ws) {
            return Ok(found);
        }
        let Some(item) = self.read_data_keys(ws).await? else {
            return self.new_data_key(secrets, ws).await;
        };
        let key = match secrets.data_keys.version(ws, item.current) {
            Some(key) => key,
            None => Arc::new(self.unwrap_version(secrets, ws, &item, item.current).await?),
        };
        secrets.data_keys.keep(ws, item.current, key.clone(), true);
        Ok((item.current, key))
    }

    async fn fetch_version(
        &self,
        secrets: &Secrets,
        ws: &WorkspaceId,
        version: u32,
    ) -> StoreResult<Option<Arc<LessSafeKey>>> {
        let _fetching = secrets.data_keys.fetching.lock().await;
        if let Some(key) = secrets.data_keys.version(ws, version) {
            return Ok(Some(key));
        }
        let Some(item) = self.read_data_keys(ws).await? else { return Ok(None) };
        if !item.wrapped.contains_key(&version) {
            return Ok(None);
        }
        let key = Arc::new(self.unwrap_version(secrets, ws, &item, version).await?);
        secrets.data_keys.keep(ws, version, key.clone(), false);
        Ok(Some(key))
    }

    /// The workspace's first data key; when another instance made one meanwhile, that one.
    async fn new_data_key(&self, secrets: &Secrets, ws: &WorkspaceId) -> StoreResult<(u32, Arc<LessSafeKey>)> {
        let (plain, wrapped, kms_key) = self.generate(secrets, ws).await?;
        let item = DataKeyItem { current: 1, kms_key, wrapped: HashMap::from([(1, wrapped)]) };
        if !self.put_data_keys(ws, &item, None).await? {
            let theirs = self.read_data_keys(ws).await?.ok_or(StoreError::NotFound)?;
            let key = Arc::new(self.unwrap_version(secrets, ws, &theirs, theirs.current).await?);
            secrets.data_keys.keep(ws, theirs.current, key.clone(), true);
            return Ok((theirs.current, key));
        }
        let key = Arc::new(aead_key(&plain)?);
        secrets.data_keys.keep(ws, 1, key.clone(), true);
        Ok((1, key))
    }

    /// A new data key from KMS: the key, its wrapped form and the ARN of the KMS key.
    async fn generate(&self, secrets: &Secrets, ws: &WorkspaceId) -> StoreResult<(Vec<u8>, Vec<u8>, String)> {
        let out = secrets
            .kms
            .generate_data_key()
            .key_id(&secrets.kms_key)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context("workspace", ws.as_str())
            .send()
            .await
            .map_err(crate::aws_error)?;
        let missing = || StoreError::Corrupt("KMS answered GenerateDataKey without a key".into());
        let plain = out.plaintext.ok_or_else(missing)?.into_inner();
        let wrapped = out.ciphertext_blob.ok_or_else(missing)?.into_inner();
        Ok((plain, wrapped, out.key_id.unwrap_or_else(|| secrets.kms_key.clone())))
    }

    /// Asks KMS to unwrap one version of the workspace's data key.
    async fn unwrap_version(
        &self,
        secrets: &Secrets,
        ws: &WorkspaceId,
        item: &DataKeyItem,
        version: u32,
    ) -> StoreResult<LessSafeKey> {
        let wrapped = item
            .wrapped
            .get(&version)
            .ok_or_else(|| StoreError::Corrupt(format!("workspace {ws} has no data key version {version}")))?;
        let out = secrets
            .kms
            .decrypt()
            .key_id(&item.kms_key)
            .ciphertext_blob(Blob::new(wrapped.clone()))
            .encryption_context("workspace", ws.as_str())
            .send()
            .await
            .map_err(crate::aws_error)?;
        let plain = out.plaintext.ok_or_else(|| StoreError::Corrupt("KMS answered Decrypt without a key".into()))?;
        aead_key(plain.as_ref())
    }

    async fn read_data_keys(&self, ws: &WorkspaceId) -> StoreResult<Option<DataKeyItem>> {
        let Some(item) = self.get_item(data_key_key(ws), true).await? else { return Ok(None) };
        let corrupt = |what: &str| StoreError::Corrupt(format!("data key of {ws}: {what}"));
        let current = get_n(&item, CURRENT).and_then(|v| u32::try_from(v).ok()).ok_or_else(|| corrupt("no version"))?;
        let kms_key = super::table::get_s(&item, KMS_KEY).ok_or_else(|| corrupt("no KMS key"))?.to_string();
        let wrapped = item
            .get(WRAPPED)
            .and_then(|w| w.as_m().ok())
            .ok_or_else(|| corrupt("no wrapped keys"))?
            .iter()
            .filter_map(|(v, b)| Some((v.parse::<u32>().ok()?, b.as_b().ok()?.as_ref().to_vec())))
            .collect();
        Ok(Some(DataKeyItem { current, kms_key, wrapped }))
    }

    /// Writes the item if it is absent (`seen` none) or still at version `seen`.
    async fn put_data_keys(&self, ws: &WorkspaceId, item: &DataKeyItem, seen: Option<u32>) -> StoreResult<bool> {
        let wrapped = item
            .wrapped
            .iter()
            .map(|(v, w)| (v.to_string(), AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(w.clone()))))
            .collect();
        let mut row = data_key_key(ws);
        row.extend([
            ("entity".to_string(), s("data_key")),
            (CURRENT.to_string(), n(item.current)),
            (KMS_KEY.to_string(), s(&item.kms_key)),
            (WRAPPED.to_string(), AttributeValue::M(wrapped)),
            ("updated_at".to_string(), s(model::listing::api_time(chrono::Utc::now()))),
        ]);
        let condition = match seen {
            None => Condition::absent(),
            Some(version) => Condition::equals(CURRENT, n(version)),
        };
        self.put_if(row, Some(condition)).await
    }
}

fn data_key_key(ws: &WorkspaceId) -> Item {
    key(keys::data_key_pk(ws), keys::DATA_KEY_SK)
}

fn aead_key(bytes: &[u8]) -> StoreResult<LessSafeKey> {
    let key =
        UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| StoreError::Corrupt("not an AES-256 data key".into()))?;
    Ok(LessSafeKey::new(key))
}

/// `base64(nonce | ciphertext | tag)` of `plain` under `key`, bound to `owner`.
fn seal_with(key: &LessSafeKey, plain: &[u8], owner: &str) -> StoreResult<String> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    let mut sealed = plain.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(owner.as_bytes()), &mut sealed)
        .map_err(|_| StoreError::Corrupt("sealing failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// What [`seal_with`] sealed under `key` for `owner`; none for anything else.
fn open_with(key: &LessSafeKey, body: &str, owner: &str) -> Option<Vec<u8>> {
    let raw = base64::engine::general_purpose::STANDARD.decode(body).ok().filter(|r| r.len() > NONCE_LEN)?;
    let (nonce, rest) = raw.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut rest = rest.to_vec();
    key.open_in_place(nonce, Aad::from(owner.as_bytes()), &mut rest).ok().map(|plain| plain.to_vec())
}

/// The key values were sealed with before KMS (`SECRETS_KEY`, the template's `SecretsKey`):
/// 32 bytes, written as 64 hex digits. Only opens `v1.` values now. Two are equal when
/// their SHA-256 fingerprints are.
#[derive(Clone)]
pub struct SecretsKey {
    key: Arc<LessSafeKey>,
    fingerprint: [u8; 32],
}

impl PartialEq for SecretsKey {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl Eq for SecretsKey {}

impl SecretsKey {
    pub fn from_hex(hex: &str) -> Result<Self, String> {
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .filter(|b| b.len() == 32 && hex.len() == 64)
            .ok_or("must be 64 hex digits (32 bytes), e.g. openssl rand -hex 32")?;
        let key = aead_key(&bytes).map_err(|e| e.to_string())?;
        let fingerprint = <sha2::Sha256 as sha2::Digest>::digest(&bytes).into();
        Ok(SecretsKey { key: Arc::new(key), fingerprint })
    }
}

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretsKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(digit: char) -> SecretsKey {
        SecretsKey::from_hex(&digit.to_string().repeat(64)).unwrap()
    }

    #[test]
    fn sealed_values_open_for_their_owner_with_their_key_only() {
        let sealed = seal_with(&key('a').key, b"telegram-secret", "bot-1").unwrap();
        assert!(!sealed.contains("telegram-secret"));
        assert_eq!(open_with(&key('a').key, &sealed, "bot-1").unwrap(), b"telegram-secret");
        assert!(open_with(&key('a').key, &sealed, "bot-2").is_none(), "bound to its bot");
        assert!(open_with(&key('b').key, &sealed, "bot-1").is_none(), "another key");
        assert_ne!(seal_with(&key('a').key, b"telegram-secret", "bot-1").unwrap(), sealed, "a fresh nonce each time");
    }

    #[test]
    fn a_legacy_key_is_64_hex_digits_and_never_printed() {
        assert!(SecretsKey::from_hex("abc").is_err());
        assert!(SecretsKey::from_hex(&"g".repeat(64)).is_err());
        assert!(format!("{:?}", key('c')) == "SecretsKey(redacted)");
    }
}
