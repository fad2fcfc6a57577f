//! A contact's live state: `last_activity_at`, `activity.user_messages` and
//! `open_conversations`, which every captured message moves. It has its own item in the
//! contact's collection (`sk = PROFILE#LIVE`, with its own `live_version`), so a message
//! writes that small item and not the profile with its index copies. The profile keeps a
//! copy as of its last write (what lists, searches and exports show: current at least when
//! a conversation opens, which rewrites the profile); a single contact is read with both
//! items, the live one winning. No live item: the profile's copy is current.
//!
//! A live state with open conversations is on `gsi2` under one of the open-conversation
//! shards, so the idle sweep finds it across workspaces.

use super::contacts::{contact_from, Part};
use super::keys::{self, GSI2, PROFILE};
use super::table::{get_s, key, n, Condition, Item, QuerySpec, TxOp};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use model::contact::Contact;
use model::conversation::OpenConversation;
use model::domain::{ContactId, WorkspaceId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub(crate) const LIVE_SK: &str = "PROFILE#LIVE";

/// The live item's attributes (besides its keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LiveState {
    pub last_activity_at: DateTime<Utc>,
    pub user_messages: u32,
    #[serde(default)]
    pub open_conversations: Vec<OpenConversation>,
    pub live_version: u64,
}

impl LiveState {
    pub fn of(c: &Contact) -> Self {
        LiveState {
            last_activity_at: c.last_activity_at,
            user_messages: c.activity.user_messages,
            open_conversations: c.open_conversations.clone(),
            live_version: c.live_version,
        }
    }

    fn apply_to(self, c: &mut Contact) {
        c.last_activity_at = self.last_activity_at;
        c.activity.user_messages = self.user_messages;
        c.open_conversations = self.open_conversations;
        c.live_version = self.live_version;
    }

    pub fn from_item(item: &Item) -> StoreResult<Self> {
        serde_dynamo::from_item(item.clone()).map_err(|e| StoreError::Corrupt(format!("live state: {e}")))
    }

    pub fn item(&self, ws: &WorkspaceId, contact: ContactId) -> StoreResult<Item> {
        let mut item: Item = serde_dynamo::to_item(self).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend(key(keys::contact_pk(ws, contact), LIVE_SK));
        item.insert("entity".into(), super::table::s("contact_live"));
        if !self.open_conversations.is_empty() {
            item.insert(GSI2.pk.into(), super::table::s(keys::open_conversations_pk(keys::open_shard(ws, contact))));
            item.insert(GSI2.sk.into(), super::table::s(keys::open_conversation_sk(ws, contact)));
        }
        Ok(item)
    }
}

/// The live state is still as `contact` was read: absent when it had none.
fn live_as_read(contact: &Contact) -> Condition {
    match contact.live_version {
        0 => Condition::absent(),
        v => Condition::equals("live_version", n(v)),
    }
}

/// A contact from its profile item and, when present, its live item.
pub(crate) fn contact_with_live(profile: &Item, live: Option<&Item>) -> StoreResult<Contact> {
    let mut contact = contact_from(profile)?;
    match live {
        Some(item) => LiveState::from_item(item)?.apply_to(&mut contact),
        // The profile's copy is current; no live item to guard yet.
        None => contact.live_version = 0,
    }
    Ok(contact)
}

impl Store {
    /// The live item's write when the live state changed: conditional on the version read.
    pub(crate) fn live_op(
        &self,
        ws: &WorkspaceId,
        current: &Contact,
        next: &Contact,
    ) -> StoreResult<Option<TxOp<Part>>> {
        if next.same_live_state(current) {
            return Ok(None);
        }
        let state = LiveState { live_version: current.live_version + 1, ..LiveState::of(next) };
        Ok(Some(self.tx_put(Part::Profile, state.item(ws, current.id)?, Some(live_as_read(current)))))
    }

    /// A check that a contact's live state is still at the version read (a merge removes
    /// the other contact with it: a message counted meanwhile must fail the merge, not vanish).
    pub(crate) fn live_unchanged(&self, ws: &WorkspaceId, contact: &Contact) -> TxOp<Part> {
        self.tx_condition_check(Part::Profile, key(keys::contact_pk(ws, contact.id), LIVE_SK), live_as_read(contact))
    }

    /// A strongly consistent read of one contact: its profile and live items, one Query.
    pub(crate) async fn read_contact(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Option<Contact>> {
        let mut query = QuerySpec::partition(keys::contact_pk(ws, id), PROFILE);
        query.consistent = true;
        let (items, _) = self.query_page(&query, None, 2).await?;
        let by_sk = |sk: &str| items.iter().find(|i| get_s(i, "sk") == Some(sk));
        by_sk(PROFILE).map(|profile| contact_with_live(profile, by_sk(LIVE_SK))).transpose()
    }

    /// Contacts by id with their live state (BatchGetItem of both items); missing ones are left out.
    pub(crate) async fn contacts_by_id(
        &self,
        ws: &WorkspaceId,
        ids: &[ContactId],
        consistent: bool,
    ) -> StoreResult<Vec<Contact>> {
        let keys = ids
            .iter()
            .flat_map(|id| [key(keys::contact_pk(ws, *id), PROFILE), key(keys::contact_pk(ws, *id), LIVE_SK)])
            .collect();
        let mut profiles: HashMap<String, Item> = HashMap::new();
        let mut lives: HashMap<String, Item> = HashMap::new();
        for item in self.batch_get(keys, consistent).await? {
            let pk = get_s(&item, "pk").unwrap_or_default().to_string();
            match get_s(&item, "sk") {
                Some(LIVE_SK) => lives.insert(pk, item),
                _ => profiles.insert(pk, item),
            };
        }
        ids.iter()
            .filter_map(|id| {
                let pk = keys::contact_pk(ws, *id);
                profiles.get(&pk).map(|p| contact_with_live(p, lives.get(&pk)))
            })
            .collect()
    }
}
