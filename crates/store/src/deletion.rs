//! Safe deletion: soft delete with a grace period, restore, and the purge that removes
//! every item of a contact: profile, guards, tag links, search words, notes, duplicate
//! records, captured-event records, conversations and their messages.

use super::contacts::{Extra, Part};
use super::keys::{self, GSI6, GUARD, PROFILE};
use super::table::{get_s, key, n, Condition, Item, QuerySpec, TxFailure, MAX_TRANSACTION_ITEMS};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use model::contact::PurgeReport;
use model::contact::{Contact, ListedContact};
use model::conversation::{ConversationStatus, OpenConversation};
use model::domain::{ContactId, WorkspaceId};
use model::listing::Position;

impl Store {
    /// Hides a contact for `grace` (lists, search, counts, exports), restorable until then.
    pub async fn soft_delete_contact(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
        if_match: Option<u64>,
        grace: Duration,
    ) -> StoreResult<Contact> {
        let current = self.get_contact(ws, id).await?.filter(Contact::is_visible).ok_or(StoreError::NotFound)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(StoreError::VersionMismatch { current: current.version });
        }
        let now = Utc::now().trunc_subsecs(0);
        let mut next = current.clone();
        next.deleted_at = Some(now);
        next.purge_after = Some(now + grace);
        next.version += 1;
        match self.replace_contact_with(ws, &current, &next, Extra::default()).await {
            Err(StoreError::VersionMismatch { .. }) => Err(self.current_version(ws, id).await),
            other => other.map(|()| next),
        }
    }

    /// Brings a soft-deleted contact back, with its counts.
    pub async fn restore_contact(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Contact> {
        let current = self.get_contact(ws, id).await?.ok_or(StoreError::NotFound)?;
        if current.is_visible() {
            return Ok(current);
        }
        let mut next = current.clone();
        next.deleted_at = None;
        next.purge_after = None;
        next.version += 1;
        match self.replace_contact_with(ws, &current, &next, Extra::default()).await {
            Err(StoreError::VersionMismatch { .. }) => Err(self.current_version(ws, id).await),
            other => other.map(|()| next),
        }
    }

    /// The workspace's hidden contacts, soonest purge first, with when each is purged: one
    /// Query of gsi6 `WS#<ws>#DELETED` (its list fields projected, no profile read).
    pub async fn list_deleted(
        &self,
        ws: &WorkspaceId,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<(ListedContact, DateTime<Utc>)>, Option<Position>)> {
        let mut query = QuerySpec::index(GSI6, keys::deleted_pk(ws));
        query.newest_first = false;
        let start = after.map(|p| keys::start_key(ws, &p, &["pk", "sk", GSI6.pk, GSI6.sk])).transpose()?;
        let (items, next) = self.query_page(&query, start, limit as i32).await?;
        let rows = super::contacts::rows_in_place(&items)?
            .into_iter()
            .map(|(row, item)| {
                // The sort key starts with the purge time (`keys::deleted_sk`).
                let purge_after = get_s(&item, GSI6.sk)
                    .and_then(|sk| sk.split('#').next())
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("trash entry of contact {} without a purge time", row.id))
                    })?;
                Ok((row, purge_after.with_timezone(&Utc)))
            })
            .collect::<StoreResult<_>>()?;
        Ok((rows, next.map(|k| keys::position_of(&k))))
    }

    /// Removes every item of a contact. Hides it first (one transaction, counters with it),
    /// then deletes what hangs off it, the profile last: a purge cut short is simply run again.
    pub async fn purge_contact(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<PurgeReport> {
        self.purge_contact_until(ws, id, None).await
    }

    /// [`Store::purge_contact`], stopping between conversations once `stop_at` has passed
    /// (the report says it was cut short): what is left goes in another call.
    pub async fn purge_contact_until(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
        stop_at: Option<DateTime<Utc>>,
    ) -> StoreResult<PurgeReport> {
        let mut contact = self.get_contact(ws, id).await?.ok_or(StoreError::NotFound)?;
        if contact.is_visible() {
            contact = self.soft_delete_contact(ws, id, None, Duration::zero()).await?;
        }
        let mut report = PurgeReport::default();
        loop {
            let (conversations, more) = self.list_conversations(ws, id, 100, None).await?;
            for c in &conversations {
                if stop_at.is_some_and(|t| Utc::now() >= t) {
                    report.cut_short = true;
                    return Ok(report);
                }
                let partition = self.partition_keys(&keys::conversation_pk(ws, &c.id), "").await?;
                report.items += partition.len() as u32;
                self.batch_delete(partition).await?;
                report.conversations += 1;
            }
            if more.is_none() || conversations.is_empty() {
                break;
            }
        }
        let own = self.partition_keys(&keys::contact_pk(ws, id), "").await?;
        let mut reverse = self.merged_away_items(ws, id).await?;
        for item_key in &own {
            // A duplicate record names the other contact, which holds the mirror record.
            if let Some(other) =
                get_s(item_key, "sk").and_then(|sk| sk.strip_prefix("DUP#")).and_then(|o| o.parse::<u64>().ok())
            {
                reverse.push(key(keys::contact_pk(ws, ContactId(other)), keys::duplicate_sk(id)));
            }
        }
        let rest: Vec<Item> = own.into_iter().filter(|k| get_s(k, "sk") != Some(PROFILE)).chain(reverse).collect();
        report.items += rest.len() as u32;
        self.batch_delete(rest).await?;
        report.items += self.delete_profile_and_guards(ws, &contact).await?;
        tracing::info!(workspace = %ws, contact = %id, conversations = report.conversations, items = report.items, "contact purged");
        Ok(report)
    }

    /// Open conversations of a contact (read from their headers: the sweep may have closed some).
    pub async fn active_conversations(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<Vec<String>> {
        let mut active = Vec::new();
        for open in &contact.open_conversations {
            if let Some(c) = self.get_conversation(ws, &open.id).await? {
                if c.status == ConversationStatus::Open {
                    active.push(c.id);
                }
            }
        }
        Ok(active)
    }

    /// Closes a conversation now (a person ended it) and drops it from the contact's open ones.
    pub async fn close_conversation(
        &self,
        ws: &WorkspaceId,
        id: &str,
    ) -> StoreResult<model::conversation::Conversation> {
        let conversation = self.get_conversation(ws, id).await?.ok_or(StoreError::NotFound)?;
        if conversation.status == ConversationStatus::Closed {
            return Ok(conversation);
        }
        let now = Utc::now().trunc_subsecs(0);
        for _ in 0..3 {
            let contact = self.get_contact(ws, conversation.contact_id).await?.ok_or(StoreError::NotFound)?;
            // Its figures so far are in the contact's live state (the header has those of its start).
            let open =
                contact.open_conversations.iter().find(|o| o.id == id).cloned().unwrap_or_else(|| OpenConversation {
                    channel: conversation.channel,
                    id: conversation.id.clone(),
                    reference: conversation.reference.clone(),
                    started_at: conversation.started_at,
                    last_message_at: conversation.last_message_at,
                    awaiting_reply_since: None,
                    message_count: conversation.message_count,
                    responses: conversation.responses,
                    response_seconds: conversation.response_seconds,
                });
            let close = self.close_conversation_op(Part::Other, ws, &open, now.max(open.last_message_at));
            let mut next = contact.clone();
            next.open_conversations.retain(|o| o.id != id);
            let extra = Extra { ops: vec![close] };
            match self.replace_contact_with(ws, &contact, &next, extra).await {
                Err(StoreError::VersionMismatch { .. }) => continue,
                other => other?,
            }
            return self.get_conversation(ws, id).await?.ok_or(StoreError::NotFound);
        }
        Err(StoreError::Contended)
    }

    /// The tombstones and merge records of contacts merged into this one: they hold its data too.
    async fn merged_away_items(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        for prefix in ["MERGED_FROM#", "MERGE_RECORD#"] {
            for m in &self.query_all(&QuerySpec::partition(keys::contact_pk(ws, id), prefix), 100).await? {
                let other =
                    get_s(m, "sk").and_then(|sk| sk.strip_prefix("MERGED_FROM#")).and_then(|o| o.parse::<u64>().ok());
                if let Some(other) = other {
                    items.push(key(keys::contact_pk(ws, ContactId(other)), "MERGED"));
                }
                if let Some(merge) = get_s(m, "merge_id") {
                    items.push(key(format!("WS#{ws}#MERGE#{merge}"), "MERGE"));
                }
            }
        }
        Ok(items)
    }

    /// Keys of one partition's items whose sort key starts with `prefix`.
    pub(crate) async fn partition_keys(&self, pk: &str, prefix: &str) -> StoreResult<Vec<Item>> {
        let items = self.query_all(&QuerySpec::partition(pk, prefix), 500).await?;
        Ok(items.iter().map(|i| key(get_s(i, "pk").unwrap_or_default(), get_s(i, "sk").unwrap_or_default())).collect())
    }

    /// Deletes the profile and the uniqueness guards it still owns in one transaction: until
    /// it succeeds both stay, so an erasure asked again finds the person by the email, phone
    /// or identity they named and runs the purge again. The number of items deleted.
    async fn delete_profile_and_guards(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<u32> {
        let mut guards: Vec<String> = super::contacts::guard_keys(ws, contact).into_iter().map(|(_, pk)| pk).collect();
        // The profile takes one place in the transaction; guards beyond the rest go first.
        let first = guards.len().saturating_sub(MAX_TRANSACTION_ITEMS - 1);
        let early: Vec<String> = guards.drain(..first).collect();
        let mut deleted = 0;
        for pk in &early {
            deleted += self.delete_owned_guards(ws, contact.id, std::slice::from_ref(pk), false).await?;
        }
        Ok(deleted + self.delete_owned_guards(ws, contact.id, &guards, true).await?)
    }

    /// Deletes the guards still owned by `owner` (and its profile with them when asked), in
    /// one transaction; a guard another contact holds now stays. The number of items deleted.
    async fn delete_owned_guards(
        &self,
        ws: &WorkspaceId,
        owner: ContactId,
        guards: &[String],
        with_profile: bool,
    ) -> StoreResult<u32> {
        let mut guards = guards.to_vec();
        loop {
            let owned = || Some(Condition::equals("contact_id", n(owner.0)));
            let mut ops: Vec<_> =
                guards.iter().map(|pk| self.tx_delete(Some(pk.clone()), key(pk, GUARD), owned())).collect();
            if with_profile {
                ops.push(self.tx_delete(None, key(keys::contact_pk(ws, owner), PROFILE), None));
            }
            if ops.is_empty() {
                return Ok(0);
            }
            match self.transact(&ops).await {
                Ok(()) => return Ok(ops.len() as u32),
                Err(TxFailure::Conditions(failed)) => {
                    let lost: Vec<String> = failed.into_iter().filter_map(|(pk, _)| pk).collect();
                    if lost.is_empty() {
                        return Err(StoreError::Corrupt(
                            "a purge's unconditional delete reported a failed condition".into(),
                        ));
                    }
                    guards.retain(|pk| !lost.contains(pk));
                }
                Err(TxFailure::Other(e)) => return Err(e),
            }
        }
    }
}
