//! Bots and their settings.

use super::keys::{self, BOT_SK, GSI1};
use super::table::{get_s, key, n, s, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use model::bot::{Bot, BotId};
use model::domain::WorkspaceId;

impl Store {
    /// Stores a new bot; refuses an id already taken.
    pub async fn create_bot(&self, bot: &Bot) -> StoreResult<()> {
        let ops = [self.tx_put((), bot_item(bot)?, Some(super::table::Condition::absent()))];
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
        let ops = [self.tx_put((), bot_item(bot)?, Some(condition))];
        match self.transact(&ops).await {
            Ok(()) => Ok(()),
            Err(super::table::TxFailure::Conditions(_)) => {
                Err(StoreError::VersionMismatch { current: expected_version })
            }
            Err(super::table::TxFailure::Other(e)) => Err(e),
        }
    }

    pub async fn get_bot(&self, id: &BotId) -> StoreResult<Option<Bot>> {
        self.get_item(key(keys::bot_pk(id), BOT_SK), false).await?.map(|i| bot_from(&i)).transpose()
    }

    /// A workspace's bots, newest first.
    pub async fn list_bots(&self, ws: &WorkspaceId) -> StoreResult<Vec<Bot>> {
        self.query_all(&QuerySpec::index(GSI1, keys::bots_pk(ws)), 100).await?.iter().map(bot_from).collect()
    }
}

fn bot_item(bot: &Bot) -> StoreResult<Item> {
    let mut item: Item = serde_dynamo::to_item(bot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.extend([
        ("pk".to_string(), s(keys::bot_pk(&bot.id))),
        ("sk".to_string(), s(BOT_SK)),
        ("entity".to_string(), s("bot")),
        (GSI1.pk.to_string(), s(keys::bots_pk(bot.id.workspace()))),
        (GSI1.sk.to_string(), s(format!("{}#{}", model::listing::api_time(bot.created_at), bot.id))),
    ]);
    Ok(item)
}

fn bot_from(item: &Item) -> StoreResult<Bot> {
    serde_dynamo::from_item(item.clone()).map_err(|e| StoreError::Corrupt(format!("bot {:?}: {e}", get_s(item, "pk"))))
}
