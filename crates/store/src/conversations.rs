//! Reading conversations and transcripts, and closing idle conversations.

use super::keys::{self, GSI1, GSI2, OPEN_CONVERSATION_SHARDS};
use super::table::{get_s, key, s, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use model::conversation::{Conversation, Message};
use model::domain::{ContactId, WorkspaceId};
use model::listing::{api_time, Position};

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
        let conversations = items.iter().map(conversation_from).collect::<StoreResult<_>>()?;
        Ok((conversations, next.map(|k| keys::position_of(&k))))
    }

    pub async fn get_conversation(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<Conversation>> {
        self.get_item(key(keys::conversation_pk(ws, id), keys::CONVERSATION_SK), false)
            .await?
            .map(|i| conversation_from(&i))
            .transpose()
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

    /// Closes every conversation whose last message is older than `idle`; returns how many.
    /// A scheduled job: it reads the sharded open-conversation index, never the table.
    pub async fn close_idle_conversations(&self, now: DateTime<Utc>, idle: Duration) -> StoreResult<u32> {
        let cutoff = api_time(now - idle);
        let mut closed = 0;
        for shard in 0..OPEN_CONVERSATION_SHARDS {
            let mut query = QuerySpec::index(GSI2, keys::open_conversations_pk(shard));
            query.key_condition.push_str(" AND #sk < :cutoff");
            query.names.insert("#sk".into(), GSI2.sk.into());
            query.values.insert(":cutoff".into(), s(&cutoff));
            query.newest_first = false;
            for item in &self.query_all(&query, 100).await? {
                if self.close_if_unchanged(item).await? {
                    closed += 1;
                }
            }
        }
        Ok(closed)
    }

    /// Sets each workspace's open-conversation count from the open-conversation index: the
    /// counter moves with every open and close, and this puts right any drift (a close seen
    /// twice, a late message to a swept conversation) at every sweep.
    pub async fn recount_open_conversations(&self) -> StoreResult<u32> {
        let mut counts: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for shard in 0..OPEN_CONVERSATION_SHARDS {
            for item in &self.query_all(&QuerySpec::index(GSI2, keys::open_conversations_pk(shard)), 500).await? {
                // gsi2sk = `{last message}#{workspace}#{conversation}`
                if let Some(ws) = get_s(item, GSI2.sk).and_then(|sk| sk.split('#').nth(1)) {
                    *counts.entry(ws.to_string()).or_default() += 1;
                }
            }
        }
        let workspaces = self.list_workspaces().await?;
        for ws in &workspaces {
            let open = counts.get(ws.as_str()).copied().unwrap_or(0);
            let set = self.tx_update(
                (),
                key(keys::meta_pk(ws), keys::COUNTERS_SK),
                "SET #open = :n",
                [("#open".to_string(), keys::OPEN_CONVERSATIONS_ATTR.to_string())].into(),
                Item::from([(":n".to_string(), super::table::n(open))]),
            );
            if let Err(super::table::TxFailure::Other(e)) = self.transact(&[set]).await {
                return Err(e);
            }
        }
        Ok(workspaces.len() as u32)
    }

    /// Closes a conversation at its last message, unless a message arrived since it was read.
    async fn close_if_unchanged(&self, item: &Item) -> StoreResult<bool> {
        let (Some(pk), Some(open_sk), Some(last)) =
            (get_s(item, "pk"), get_s(item, GSI2.sk), get_s(item, "last_message_at"))
        else {
            return Err(StoreError::Corrupt("open conversation without keys".into()));
        };
        let ws =
            pk.strip_prefix("WS#").and_then(|r| r.split_once("#CONV#")).and_then(|(w, _)| WorkspaceId::parse(w).ok());
        let ws = ws.ok_or_else(|| StoreError::Corrupt(format!("conversation key {pk} names no workspace")))?;
        let close = self.tx_update(
            (),
            key(pk, keys::CONVERSATION_SK),
            "SET #status = :closed, ended_at = :ended REMOVE gsi2pk, gsi2sk",
            [("#status".to_string(), "status".to_string())].into(),
            Item::from([
                (":closed".to_string(), s("closed")),
                (":ended".to_string(), s(last)),
                (":seen".to_string(), s(open_sk)),
            ]),
        );
        let close = super::table::with_condition(close, "gsi2sk = :seen");
        let count = self.tx_add_counts(
            (),
            key(keys::meta_pk(&ws), keys::COUNTERS_SK),
            &[(keys::OPEN_CONVERSATIONS_ATTR.to_string(), -1)],
        );
        match self.transact(&[close, count]).await {
            Ok(()) => Ok(true),
            Err(super::table::TxFailure::Conditions(_)) => Ok(false),
            Err(super::table::TxFailure::Other(e)) => Err(e),
        }
    }
}

fn conversation_from(item: &Item) -> StoreResult<Conversation> {
    serde_dynamo::from_item(item.clone()).map_err(|e| StoreError::Corrupt(format!("conversation: {e}")))
}
