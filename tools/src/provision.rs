//! Creating workspaces and their API keys.

use contacts::auth::{ApiKey, ApiKeyRecord, Scope};
use contacts::domain::{Region, WorkspaceId};
use contacts::store::{Store, StoreResult, Workspace, DEFAULT_DELETION_GRACE_DAYS};

/// Creates (or updates) a workspace and stores an API key for it; returns the key,
/// which exists nowhere else afterwards.
pub async fn workspace_with_key(
    store: &Store,
    id: &WorkspaceId,
    name: &str,
    default_region: Option<Region>,
    key_name: &str,
    scopes: &[Scope],
    key: Option<ApiKey>,
) -> StoreResult<ApiKey> {
    let existing = store.get_workspace(id).await?;
    let deletion_grace_days = existing.as_ref().map_or(DEFAULT_DELETION_GRACE_DAYS, |w| w.deletion_grace_days);
    let lead_rules = existing.map(|w| w.lead_rules).unwrap_or_default();
    store.put_workspace(&Workspace { id: id.clone(), name: name.to_string(), default_region, deletion_grace_days, lead_rules }).await?;
    let key = key.unwrap_or_else(ApiKey::generate);
    let record = ApiKeyRecord { workspace_id: id.clone(), name: key_name.to_string(), scopes: scopes.to_vec() };
    store.put_api_key(&key, &record).await?;
    Ok(key)
}
