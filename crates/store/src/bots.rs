//! Bots and their settings.

use super::keys::{self, BOT_SK, GSI1};
use super::table::{get_s, key, n, s, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use model::bot::{Bot, BotId};
use model::domain::WorkspaceId;

impl Store {
    /// Stores a new bot; refuses an id already taken.
    pub async fn create_bot(&self, bot: &Bot) -> StoreResult<()> {
        let ops = [self.tx_put((), self.bot_item(bot).await?, Some(super::table::Condition::absent()))];
        match self.transact(&ops).await {
            Ok(()) => Ok(()),
            Err(super::table::TxFailure::Conditions(_)) => {
                Err(StoreError::Corrupt(format!("bot id {} already exists", bot.id)))
            }
            Err(super::table::TxFailure::Other(e)) => Err(e),
        }
    }

    /// Replaces a bot's settings if it is still at `expected_version`.
    pub async fn update_bot(&self, bot: &Bot, expected_version: u64) -> StoreResult<()> {
        let condition = super::table::Condition::equals("version", n(expected_version));
        let ops = [self.tx_put((), self.bot_item(bot).await?, Some(condition))];
        match self.transact(&ops).await {
            Ok(()) => Ok(()),
            Err(super::table::TxFailure::Conditions(_)) => {
                Err(StoreError::VersionMismatch { current: expected_version })
            }
            Err(super::table::TxFailure::Other(e)) => Err(e),
        }
    }

    pub async fn get_bot(&self, id: &BotId) -> StoreResult<Option<Bot>> {
        match self.get_item(key(keys::bot_pk(id), BOT_SK), false).await? {
            Some(item) => self.bot_from(&item).await.map(Some),
            None => Ok(None),
        }
    }

    /// A workspace's bots, newest first.
    pub async fn list_bots(&self, ws: &WorkspaceId) -> StoreResult<Vec<Bot>> {
        let mut bots = Vec::new();
        for item in self.query_all(&QuerySpec::index(GSI1, keys::bots_pk(ws)), 100).await? {
            bots.push(self.bot_from(&item).await?);
        }
        Ok(bots)
    }

    /// The bot's item: its channel settings sealed (`channels_sealed`), never in the clear.
    async fn bot_item(&self, bot: &Bot) -> StoreResult<Item> {
        let mut item: Item = serde_dynamo::to_item(bot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let channels = serde_json::to_vec(&bot.channels).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.remove(CHANNELS);
        item.extend([
            (SEALED.to_string(), s(self.seal(bot.id.workspace(), &channels, &bot.id.to_string()).await?)),
            ("pk".to_string(), s(keys::bot_pk(&bot.id))),
            ("sk".to_string(), s(BOT_SK)),
            ("entity".to_string(), s("bot")),
            (GSI1.pk.to_string(), s(keys::bots_pk(bot.id.workspace()))),
            (GSI1.sk.to_string(), s(format!("{}#{}", model::listing::api_time(bot.created_at), bot.id))),
        ]);
        Ok(item)
    }

    /// A bot from its item; one written before secrets were sealed has them in the clear,
    /// and is sealed when it is next written.
    async fn bot_from(&self, item: &Item) -> StoreResult<Bot> {
        let corrupt = |e: String| StoreError::Corrupt(format!("bot {:?}: {e}", get_s(item, "pk")));
        let mut item = item.clone();
        if let Some(sealed) = item.remove(SEALED) {
            let id = get_s(&item, "id").ok_or_else(|| corrupt("no id".into()))?;
            let id = BotId::parse(id).map_err(|e| corrupt(e.to_string()))?;
            let sealed = sealed.as_s().map_err(|_| corrupt("sealed secrets not a string".into()))?;
            let plain = self.open(id.workspace(), sealed, &id.to_string()).await?;
            let channels: serde_json::Value = serde_json::from_slice(&plain).map_err(|e| corrupt(e.to_string()))?;
            item.insert(
                CHANNELS.to_string(),
                serde_dynamo::to_attribute_value(channels).map_err(|e| corrupt(e.to_string()))?,
            );
        }
        serde_dynamo::from_item(item).map_err(|e| corrupt(e.to_string()))
    }
}

/// The attribute of a bot's channel settings, and of their sealed form.
const CHANNELS: &str = "channels";
const SEALED: &str = "channels_sealed";
