//! Creating workspaces and their API keys.

use model::auth::{ApiKey, ApiKeyRecord, KeyPepper};
use model::domain::{Region, WorkspaceId};
use model::workspace::Workspace;
use model::workspace::DEFAULT_DELETION_GRACE_DAYS;
use store::{Store, StoreResult};

/// A new bot's secrets, each channel's (and each of Meta's) its own: shown once, only the
/// bot item keeps them (sealed).
pub struct BotSecrets(pub Vec<(&'static str, String)>);

impl BotSecrets {
    /// The secret shown as `what` (e.g. `telegram secret_token`).
    pub fn of(&self, what: &str) -> Option<&str> {
        self.0.iter().find(|(w, _)| *w == what).map(|(_, s)| s.as_str())
    }
}

/// Creates a bot with every channel set up, each with its own new random secret; returns
/// the bot and the secrets.
pub async fn bot_with_secrets(
    store: &Store,
    ws: &WorkspaceId,
    name: &str,
) -> StoreResult<(model::bot::BotId, BotSecrets)> {
    use model::bot::{Bot, BotId, ChannelSettings, MetaSettings, Secret, TelegramSettings, WidgetSettings};
    let mut shown = Vec::new();
    let mut s = |what: &'static str| {
        let secret = model::hex::random(24);
        shown.push((what, secret.clone()));
        Secret::parse(&secret).expect("48 hex digits are a valid secret")
    };
    let mut meta = |channel: &'static str, verify: &'static str| MetaSettings {
        app_secret: s(channel),
        verify_token: s(verify),
        page_access_token: None,
        app_id: None,
    };
    let (messenger, whatsapp) =
        (meta("messenger app secret", "messenger verify token"), meta("whatsapp app secret", "whatsapp verify token"));
    let bot = Bot {
        id: BotId::generate(ws),
        name: name.to_string(),
        email_collect: true,
        contact_form: true,
        channels: ChannelSettings {
            telegram: Some(TelegramSettings { secret_token: s("telegram secret_token") }),
            messenger: Some(messenger),
            whatsapp: Some(whatsapp),
            frame: Some(WidgetSettings { signing_secret: s("frame signing secret") }),
            livechat: Some(WidgetSettings { signing_secret: s("livechat signing secret") }),
        },
        created_at: chrono::Utc::now(),
        version: 1,
    };
    store.create_bot(&bot).await?;
    Ok((bot.id, BotSecrets(shown)))
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
    let time_zone = existing.as_ref().map_or(model::workspace::Tz::UTC, |w| w.time_zone);
    let lead_rules = existing.map(|w| w.lead_rules).unwrap_or_default();
    store
        .put_workspace(&Workspace {
            id: id.clone(),
            name: name.to_string(),
            default_region,
            deletion_grace_days,
            lead_rules,
            time_zone,
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
    let info = store::KeyInfo::new(&key, record, chrono::Utc::now(), None);
    store.put_api_key(&key.hash(pepper), record, &info).await?;
    Ok(key)
}

/// Makes `email` an owner of the workspace with `password`, unless someone has that email
/// already (then nothing changes: a restarted `make dev` keeps the demo owner's password).
/// Answers whether the owner was added.
pub async fn owner(store: &Store, ws: &WorkspaceId, email: &str, password: &str) -> Result<bool, String> {
    use model::people::{Password, Role, User, UserId};
    let email = model::domain::Email::parse(email).map_err(|e| format!("owner email: {}", e.0))?;
    let password = Password::new(password).map_err(|e| format!("owner password: {}", e.0))?;
    let user = User {
        id: UserId::generate(),
        workspace_id: ws.clone(),
        name: email.to_string(),
        email,
        role: Role::Owner,
        password_hash: password.hash(),
        session_epoch: 0,
        created_at: chrono::Utc::now(),
        last_sign_in_at: None,
    };
    // Refused (EmailTaken): the person is there already.
    store.add_user(&user, None).await.map(|added| added.is_ok()).map_err(|e| e.to_string())
}

/// Seals every bot's channel secrets and every integration's credentials in `workspaces`
/// again, under each workspace's current data key: the move to KMS (`store` then also opens
/// values sealed under `SECRETS_KEY`), or after a rotation. Answers how many bots and
/// integrations were written. A bot edited meanwhile is left as its edit wrote it.
pub async fn reseal(store: &Store, workspaces: &[WorkspaceId]) -> StoreResult<(usize, usize)> {
    let (mut bots, mut integrations) = (0, 0);
    for ws in workspaces {
        for mut bot in store.list_bots(ws).await? {
            let seen = bot.version;
            bot.version += 1;
            match store.update_bot(&bot, seen).await {
                Ok(()) => bots += 1,
                Err(store::StoreError::VersionMismatch { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        for stored in store.list_integrations(ws).await? {
            store.put_integration(ws, &stored.integration, &stored.credentials, false).await?;
            integrations += 1;
        }
    }
    Ok((bots, integrations))
}
