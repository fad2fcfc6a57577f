//! Bot settings cached per execution environment: webhooks and the worker read a bot on
//! every event, and settings change rarely (changes show within the cache's minute).

use model::bot::{Bot, BotId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use store::{Store, StoreResult};

const TTL: Duration = Duration::from_secs(60);
const CAPACITY: usize = 1024;

#[derive(Debug)]
pub struct BotCache {
    store: Store,
    entries: Mutex<HashMap<String, (Instant, Option<Bot>)>>,
}

impl BotCache {
    pub fn new(store: Store) -> Self {
        BotCache { store, entries: Mutex::new(HashMap::new()) }
    }

    /// The bot, or `None` when there is no such bot (also cached, so unknown ids cost little).
    pub async fn get(&self, id: &BotId) -> StoreResult<Option<Bot>> {
        let key = id.to_string();
        if let Some((at, bot)) = self.entries.lock().expect("bot cache lock").get(&key) {
            if at.elapsed() < TTL {
                return Ok(bot.clone());
            }
        }
        let bot = self.store.get_bot(id).await?;
        let mut entries = self.entries.lock().expect("bot cache lock");
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), bot.clone()));
        Ok(bot)
    }
}
