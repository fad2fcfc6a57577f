//! A contact's conversation history (conversation headers and their messages), which
//! lives outside the contact's own partition and so outlives `delete_contact`.

use super::keys::{self, GSI1};
use super::table::{get_s, key, Item, QuerySpec};
use super::{Store, StoreResult};
use crate::domain::{ContactId, WorkspaceId};

impl Store {
    /// Deletes every conversation of a contact with its transcript; returns how many
    /// conversations went. Meant for after the contact itself is deleted.
    pub async fn delete_conversation_history(&self, ws: &WorkspaceId, contact: ContactId) -> StoreResult<u32> {
        let mut deleted = 0;
        let mut after = None;
        loop {
            let (conversations, more) = self.query_page(&QuerySpec::index(GSI1, keys::contact_conversations_pk(ws, contact)), after, 25).await?;
            for header in &conversations {
                let Some(pk) = get_s(header, "pk") else { continue };
                let mut doomed = Vec::new();
                let mut start = None;
                loop {
                    let (items, next) = self.query_page(&QuerySpec::partition(pk, ""), start, 500).await?;
                    doomed.extend(items.iter().map(item_key));
                    match next {
                        Some(k) => start = Some(k),
                        None => break,
                    }
                }
                self.batch_delete(doomed).await?;
                deleted += 1;
            }
            match more {
                Some(k) => after = Some(k),
                None => return Ok(deleted),
            }
        }
    }
}

fn item_key(item: &Item) -> Item {
    key(get_s(item, "pk").unwrap_or_default(), get_s(item, "sk").unwrap_or_default())
}
