//! Reading conversations and transcripts, and closing idle conversations.

use super::capture::HeaderUpdate;
use super::keys::{self, GSI1};
use super::live::{LiveState, LIVE_SK};
use super::table::{get_s, key, n, Condition, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use model::conversation::{Conversation, ConversationStatus, Message};
use model::domain::{ContactId, WorkspaceId};
use model::listing::Position;
use std::collections::hash_map::{Entry, HashMap};

impl Store {
    /// A contact's conversations, newest first.
    pub async fn list_conversations(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<Conversation>, Option<Position>)> {
        let query = QuerySpec::index(GSI1, keys::contact_conversations_pk(ws, contact));
        let start = after.map(|p| keys::start_key(ws, &p, &["pk", "sk", GSI1.pk, GSI1.sk])).transpose()?;
        let (items, next) = self.query_page(&query, start, limit as i32).await?;
        let mut conversations: Vec<Conversation> = items.iter().map(conversation_from).collect::<StoreResult<_>>()?;
        self.with_live_figures(ws, &mut conversations).await?;
        Ok((conversations, next.map(|k| keys::position_of(&k))))
    }

    pub async fn get_conversation(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<Conversation>> {
        let item = self.get_item(key(keys::conversation_pk(ws, id), keys::CONVERSATION_SK), false).await?;
        let Some(conversation) = item.map(|i| conversation_from(&i)).transpose()? else { return Ok(None) };
        let mut one = vec![conversation];
        self.with_live_figures(ws, &mut one).await?;
        Ok(one.pop())
    }

    /// An open conversation's header holds the figures of its start; its message count and
    /// last message so far are in its contact's live state (one read per contact).
    async fn with_live_figures(&self, ws: &WorkspaceId, conversations: &mut [Conversation]) -> StoreResult<()> {
        let mut states: HashMap<ContactId, Option<LiveState>> = HashMap::new();
        for c in conversations.iter_mut().filter(|c| c.status == ConversationStatus::Open) {
            if let Entry::Vacant(state) = states.entry(c.contact_id) {
                let item = self.get_item(key(keys::contact_pk(ws, c.contact_id), LIVE_SK), false).await?;
                state.insert(item.map(|i| LiveState::from_item(&i)).transpose()?);
            }
            let live = states[&c.contact_id].as_ref().and_then(|s| s.open_conversations.iter().find(|o| o.id == c.id));
            if let Some(open) = live {
                c.message_count = c.message_count.max(open.message_count);
                c.responses = c.responses.max(open.responses);
                c.response_seconds = c.response_seconds.max(open.response_seconds);
                c.last_message_at = c.last_message_at.max(open.last_message_at);
            }
        }
        Ok(())
    }

    /// A conversation's messages in the order they were written.
    pub async fn list_messages(
        &self,
        ws: &WorkspaceId,
        conversation: &str,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<Message>, Option<Position>)> {
        let query = QuerySpec::partition(keys::conversation_pk(ws, conversation), "MSG#");
        let start = after.map(|p| keys::start_key(ws, &p, &["pk", "sk"])).transpose()?;
        let (items, next) = self.query_page(&query, start, limit as i32).await?;
        let messages = items
            .into_iter()
            .map(|i| serde_dynamo::from_item(i).map_err(|e| StoreError::Corrupt(format!("message: {e}"))))
            .collect::<StoreResult<_>>()?;
        Ok((messages, next.map(|k| keys::position_of(&k))))
    }

    /// Closes a live state's conversations that went idle, at their last message, with plain
    /// conditional writes: each header first, then the live state if it is still the version
    /// read. No transaction: a crash between the two leaves a header closed that the live
    /// state still lists, and the next sweep writes both again. When the live state moved
    /// meanwhile it is read again: a conversation that got a message is opened again (its
    /// header), and those still idle are closed on the fresh state.
    pub async fn close_idle_of(&self, item: &Item, cutoff: DateTime<Utc>) -> StoreResult<u32> {
        let pk = get_s(item, "pk").unwrap_or_default();
        if get_s(item, "sk") != Some(super::live::LIVE_SK) {
            // Not a live state (an index entry of an older layout): one odd item must not stop the sweep.
            tracing::warn!(pk, "open-conversation entry that is not a live state: left alone");
            return Ok(0);
        }
        let (ws, contact) = keys::contact_of(pk)
            .ok_or_else(|| StoreError::Corrupt(format!("open-conversation entry {pk} names no contact")))?;
        let mut state = LiveState::from_item(item)?;
        for _ in 0..CLOSE_ATTEMPTS {
            let (idle, active): (Vec<_>, Vec<_>) =
                state.open_conversations.iter().cloned().partition(|o| o.last_message_at < cutoff);
            if idle.is_empty() {
                return Ok(0);
            }
            for o in &idle {
                let HeaderUpdate { key, expression, names, values } = HeaderUpdate::closing(&ws, o, o.last_message_at);
                self.update_existing(key, expression, names, values).await?;
            }
            let next = LiveState { open_conversations: active, live_version: state.live_version + 1, ..state.clone() };
            let as_read = Condition::equals("live_version", n(state.live_version));
            if self.put_if(next.item(&ws, contact)?, Some(as_read)).await? {
                return Ok(idle.len() as u32);
            }
            let Some(fresh) = self.get_item(key(pk, LIVE_SK), true).await? else { return Ok(0) };
            state = LiveState::from_item(&fresh)?;
            let resumed = idle
                .iter()
                .filter(|o| state.open_conversations.iter().any(|f| f.id == o.id && f.last_message_at >= cutoff));
            for o in resumed {
                let HeaderUpdate { key, expression, names, values } = HeaderUpdate::reopening(&ws, &o.id);
                self.update_existing(key, expression, names, values).await?;
            }
        }
        Ok(0)
    }
}

/// Tries at closing one live state's idle conversations while messages keep moving it.
const CLOSE_ATTEMPTS: usize = 3;

fn conversation_from(item: &Item) -> StoreResult<Conversation> {
    serde_dynamo::from_item(item.clone()).map_err(|e| StoreError::Corrupt(format!("conversation: {e}")))
}
