//! Creating workspaces and their API keys.

use model::auth::{ApiKey, ApiKeyRecord, KeyPepper};
use model::domain::{Region, WorkspaceId};
use model::workspace::Workspace;
use model::workspace::DEFAULT_DELETION_GRACE_DAYS;
use store::{Store, StoreResult};

/// Creates a bot with every channel set up, each with a new random secret; returns the
/// bot and the secrets (shown once: only the bot item keeps them).
pub async fn bot_with_secrets(store: &Store, ws: &WorkspaceId, name: &str) -> StoreResult<(model::bot::BotId, String)> {
    use model::bot::{Bot, BotId, ChannelSettings, MetaSettings, Secret, TelegramSettings, WidgetSettings};
    let secret = model::hex::random(24);
    let s = || Secret::parse(&secret).expect("48 hex digits are a valid secret");
    let meta = || MetaSettings { app_secret: s(), verify_token: s(), page_access_token: None };
    let bot = Bot {
        id: BotId::generate(ws),
        name: name.to_string(),
        email_collect: true,
        contact_form: true,
        channels: ChannelSettings {
            telegram: Some(TelegramSettings { secret_token: s() }),
            messenger: Some(meta()),
            whatsapp: Some(meta()),
            frame: Some(WidgetSettings { signing_secret: s() }),
            livechat: Some(WidgetSettings { signing_secret: s() }),
        },
        created_at: chrono::Utc::now(),
        version: 1,
    };
    store.create_bot(&bot).await?;
    Ok((bot.id, secret))
}

/// Creates (or updates) the key's workspace and stores the key (see `api_key`).
pub async fn workspace_with_key(
    store: &Store,
    pepper: &KeyPepper,
    name: &str,
    default_region: Option<Region>,
    record: &ApiKeyRecord,
    key: Option<ApiKey>,
) -> StoreResult<ApiKey> {
    let id = &record.workspace_id;
    let existing = store.get_workspace(id).await?;
    let deletion_grace_days = existing.as_ref().map_or(DEFAULT_DELETION_GRACE_DAYS, |w| w.deletion_grace_days);
    let lead_rules = existing.map(|w| w.lead_rules).unwrap_or_default();
    store
        .put_workspace(&Workspace {
            id: id.clone(),
            name: name.to_string(),
            default_region,
            deletion_grace_days,
            lead_rules,
        })
        .await?;
    api_key(store, pepper, record, key).await
}

/// Stores an API key (`key`, or a new random one) hashed under the pepper the service
/// authenticates with; returns the key, which exists nowhere else afterwards.
pub async fn api_key(
    store: &Store,
    pepper: &KeyPepper,
    record: &ApiKeyRecord,
    key: Option<ApiKey>,
) -> StoreResult<ApiKey> {
    let key = key.unwrap_or_else(ApiKey::generate);
    store.put_api_key(&key.hash(pepper), record).await?;
    Ok(key)
}
