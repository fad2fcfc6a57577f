//! Bot settings cached per execution environment: webhooks and the worker read a bot on
//! every event, and settings change rarely (changes show within the cache's minute).
//!
//! The cache is bounded: at most [`CAPACITY`] bot ids, the least recently used going first,
//! so that calls for random bot ids cannot grow it, nor push out the bots in use. That no bot
//! has an id is cached too, for [`ABSENT_TTL`] only: random ids then cost one read each at
//! most every few seconds, and a bot just created starts receiving soon.

use lru::LruCache;
use model::bot::{Bot, BotId};
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use store::{Store, StoreResult};

/// How long a bot's settings are reused.
const TTL: Duration = Duration::from_secs(60);
/// How long "no such bot" is reused.
const ABSENT_TTL: Duration = Duration::from_secs(10);
/// Bot ids held at most (a bot's settings are a few KB at most).
pub const CAPACITY: usize = 1024;

#[derive(Debug)]
pub struct BotCache {
    store: Store,
    entries: Mutex<Entries<Bot>>,
}

impl BotCache {
    pub fn new(store: Store) -> Self {
        BotCache { store, entries: Mutex::new(Entries::new(CAPACITY)) }
    }

    /// The bot, or `None` when there is no such bot.
    pub async fn get(&self, id: &BotId) -> StoreResult<Option<Bot>> {
        let key = id.to_string();
        if let Some(bot) = self.entries.lock().expect("bot cache lock").get(&key, Instant::now()) {
            return Ok(bot);
        }
        let bot = self.store.get_bot(id).await?;
        self.entries.lock().expect("bot cache lock").put(key, bot.clone(), Instant::now());
        Ok(bot)
    }
}

/// Values and absences by key, each for its time to live, the least recently used dropped
/// beyond the capacity.
#[derive(Debug)]
struct Entries<V>(LruCache<String, (Instant, Option<V>)>);

impl<V: Clone> Entries<V> {
    fn new(capacity: usize) -> Self {
        Entries(LruCache::new(NonZeroUsize::new(capacity).expect("a cache holds something")))
    }

    /// `Some(answer)` while it is fresh; `None` when the store must be asked.
    fn get(&mut self, key: &str, now: Instant) -> Option<Option<V>> {
        let (at, value) = self.0.get(key)?;
        let ttl = if value.is_some() { TTL } else { ABSENT_TTL };
        (now.duration_since(*at) < ttl).then(|| value.clone())
    }

    fn put(&mut self, key: String, value: Option<V>, now: Instant) {
        self.0.put(key, (now, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_neither_grow_the_cache_nor_push_out_a_bot_in_use() {
        let mut entries = Entries::new(8);
        let now = Instant::now();
        entries.put("acme.inuse00001".into(), Some("bot"), now);
        for i in 0..100 {
            entries.put(format!("acme.random{i:05}"), None, now);
            assert_eq!(entries.get("acme.inuse00001", now), Some(Some("bot")), "the bot in use stays");
        }
        assert_eq!(entries.0.len(), 8);
    }

    #[test]
    fn absence_is_remembered_briefly_and_a_bot_for_a_minute() {
        let mut entries = Entries::new(8);
        let now = Instant::now();
        entries.put("acme.absent0001".into(), None::<&str>, now);
        entries.put("acme.present001".into(), Some("bot"), now);
        assert_eq!(entries.get("acme.absent0001", now + ABSENT_TTL / 2), Some(None));
        assert_eq!(entries.get("acme.absent0001", now + ABSENT_TTL), None);
        assert_eq!(entries.get("acme.present001", now + ABSENT_TTL), Some(Some("bot")));
        assert_eq!(entries.get("acme.present001", now + TTL), None);
    }
}
