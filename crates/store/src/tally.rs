//! Counters kept from the table's stream: each workspace's totals by channel, status and
//! score, its tag counts, its open conversations and each day's activity. The writes of
//! contacts, conversations and messages do not touch these items, so no item is written by
//! every capture or create of a workspace; the stream consumer (`stream-counters`) folds a
//! batch of changes into one transaction per workspace, seconds later. Every figure comes
//! from an item's old and new image, so a change counts what it changed and nothing else.
//!
//! Exactly once: Lambda hands a shard's records over in order and, when a batch fails,
//! hands the same batch over again. A workspace's part of a batch is applied in one
//! transaction with a checkpoint keyed by its first record (`STREAM#<sequence>`) that holds
//! the last record applied; a batch seen again finds the checkpoint and applies only the
//! records after it (none, or those a longer redelivery added).

use super::contacts::contact_from;
use super::keys;
use super::table::{get_s, key, n, s, Condition, Item, TxFailure, TxOp, MAX_TRANSACTION_ITEMS};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use model::channels::MessageRole;
use model::contact::Contact;
use model::conversation::{Conversation, ConversationStatus, Message};
use model::domain::WorkspaceId;
use model::usecases::capture::CaptureStore;
use std::collections::{BTreeMap, BTreeSet};

/// Marks a profile put back by an undone merge: not a new contact of its day.
pub(crate) const RESTORED_ATTR: &str = "restored";
/// How long a checkpoint is kept: longer than a stream keeps records (24 hours).
const CHECKPOINT_TTL_DAYS: i64 = 2;
/// Items one transaction may touch for counters, leaving room for the checkpoint.
const MAX_COUNTER_ITEMS: usize = MAX_TRANSACTION_ITEMS - 1;

/// One change of an item, as the table's stream tells it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The stream's sequence number: increasing within a shard.
    pub sequence: String,
    pub old: Option<Item>,
    pub new: Option<Item>,
}

impl Change {
    /// The workspace whose key the item has; `None` for items outside every workspace.
    pub fn workspace(&self) -> Option<WorkspaceId> {
        let item = self.new.as_ref().or(self.old.as_ref())?;
        keys::workspace_of(get_s(item, keys::PK)?)
    }

    /// Sequence numbers are decimal strings of varying length: padded, they sort as numbers.
    pub(crate) fn order(&self) -> String {
        format!("{:0>48}", self.sequence)
    }
}

/// What changes add to one workspace's counter items.
#[derive(Debug, PartialEq)]
pub struct Tally {
    /// The workspace's time zone: its days are its own.
    zone: Tz,
    /// Attributes of the `COUNTERS` item.
    pub counters: BTreeMap<String, i64>,
    /// Tag counts, by tag.
    pub tags: BTreeMap<String, i64>,
    /// Daily activity, by the workspace's day (`YYYY-MM-DD`) and attribute.
    pub days: BTreeMap<String, BTreeMap<String, i64>>,
}

impl Tally {
    /// What the changes add, their days counted in `zone`.
    pub fn of(changes: &[&Change], zone: Tz) -> StoreResult<Tally> {
        let mut tally = Tally { zone, counters: BTreeMap::new(), tags: BTreeMap::new(), days: BTreeMap::new() };
        for change in changes {
            tally.add(change)?;
        }
        tally.drop_zeros();
        Ok(tally)
    }

    fn add(&mut self, change: &Change) -> StoreResult<()> {
        let entity = change.new.as_ref().or(change.old.as_ref()).and_then(|i| get_s(i, "entity"));
        match entity {
            Some("contact") => self.add_contact(change),
            Some("conversation") => self.add_conversation(change),
            Some("message") => self.add_message(change),
            _ => Ok(()),
        }
    }

    fn add_contact(&mut self, change: &Change) -> StoreResult<()> {
        let old = change.old.as_ref().map(contact_from).transpose()?;
        let new = change.new.as_ref().map(contact_from).transpose()?;
        for (contact, sign) in [(&old, -1), (&new, 1)] {
            let Some(c) = contact.as_ref().filter(|c| c.is_visible()) else { continue };
            for (attr, weight) in counted(c) {
                *self.counters.entry(attr).or_default() += sign * weight;
            }
            for tag in &c.tags {
                *self.tags.entry(tag.to_string()).or_default() += sign;
            }
        }
        let restored = change.new.as_ref().is_some_and(|i| i.contains_key(RESTORED_ATTR));
        if let (None, Some(c), false) = (&old, &new, restored) {
            self.count_day(c.created_at, "new_contacts", 1);
            self.count_day(c.created_at, &format!("new_{}", c.channel), 1);
        }
        Ok(())
    }

    fn add_conversation(&mut self, change: &Change) -> StoreResult<()> {
        let read = |item: &Option<Item>| -> StoreResult<Option<Conversation>> {
            item.as_ref()
                .map(|i| serde_dynamo::from_item(i.clone()))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("conversation item: {e}")))
        };
        let (old, new) = (read(&change.old)?, read(&change.new)?);
        let open =
            |c: &Option<Conversation>| i64::from(c.as_ref().is_some_and(|c| c.status == ConversationStatus::Open));
        *self.counters.entry(keys::OPEN_CONVERSATIONS_ATTR.to_string()).or_default() += open(&new) - open(&old);
        if let (None, Some(c)) = (&old, &new) {
            self.count_day(c.started_at, "conversations", 1);
        }
        Ok(())
    }

    /// A message counts once, when written; removing it later (a purge) leaves its day as it was.
    fn add_message(&mut self, change: &Change) -> StoreResult<()> {
        let (None, Some(item)) = (&change.old, &change.new) else { return Ok(()) };
        let m: Message =
            serde_dynamo::from_item(item.clone()).map_err(|e| StoreError::Corrupt(format!("message item: {e}")))?;
        self.count_day(m.occurred_at, "messages", 1);
        self.count_day(m.occurred_at, if m.role == MessageRole::User { "user_messages" } else { "replies" }, 1);
        if let Some(waited) = m.response_seconds {
            self.count_day(m.occurred_at, "response_seconds", waited);
            self.count_day(m.occurred_at, "response_count", 1);
            if let Some(channel) = m.channel {
                self.count_day(m.occurred_at, &format!("response_seconds_{channel}"), waited);
                self.count_day(m.occurred_at, &format!("response_count_{channel}"), 1);
            }
        }
        Ok(())
    }

    fn count_day(&mut self, at: DateTime<Utc>, attr: &str, delta: i64) {
        *self.days.entry(keys::day_sk(at, self.zone)).or_default().entry(attr.to_string()).or_default() += delta;
    }

    fn drop_zeros(&mut self) {
        self.counters.retain(|_, d| *d != 0);
        self.tags.retain(|_, d| *d != 0);
        for day in self.days.values_mut() {
            day.retain(|_, d| *d != 0);
        }
        self.days.retain(|_, d| !d.is_empty());
    }

    /// The counter items this tally writes, by sort key (days by date).
    fn touched(&self) -> BTreeSet<String> {
        let counters = (!self.counters.is_empty()).then(|| keys::COUNTERS_SK.to_string());
        counters
            .into_iter()
            .chain(self.tags.keys().map(|t| format!("TAG#{t}")))
            .chain(self.days.keys().cloned())
            .collect()
    }
}

/// What one visible contact adds to the workspace's counters.
fn counted(c: &Contact) -> Vec<(String, i64)> {
    let mut out = vec![
        (keys::TOTAL_ATTR.to_string(), 1),
        (keys::channel_count_attr(c.channel), 1),
        (keys::status_count_attr(c.status), 1),
        (keys::score_count_attr(c.score), 1),
        (keys::CONTACT_CONVERSATIONS_ATTR.to_string(), i64::from(c.activity.conversations)),
    ];
    if c.email.is_some() || c.phone.is_some() {
        out.push((keys::REACHABLE_ATTR.to_string(), 1));
    }
    if c.activity.conversations >= 2 {
        out.push((keys::REPEAT_ATTR.to_string(), 1));
    }
    out
}

/// Labels of a counter transaction's writes.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Checkpoint,
    Counter,
}

impl Store {
    /// Applies one workspace's changes from a stream batch (in stream order), exactly once
    /// however often the batch is delivered.
    /// Days are the workspace's own, in its time zone as the store reads it now (cached for
    /// a while when settings are: `Store::caching_settings`).
    pub async fn apply_changes(&self, ws: &WorkspaceId, changes: &[Change]) -> StoreResult<()> {
        let zone = CaptureStore::workspace(self, ws).await?.map_or(Tz::UTC, |w| w.time_zone);
        let mut sorted: Vec<&Change> = changes.iter().collect();
        sorted.sort_by_key(|c| c.order());
        for chunk in self.chunks(&sorted, zone)? {
            self.apply_chunk(ws, &chunk, zone).await?;
        }
        Ok(())
    }

    /// Consecutive runs of changes whose counter writes fit one transaction.
    fn chunks<'a>(&self, sorted: &[&'a Change], zone: Tz) -> StoreResult<Vec<Vec<&'a Change>>> {
        let mut chunks: Vec<Vec<&Change>> = Vec::new();
        let mut current: Vec<&Change> = Vec::new();
        let mut touched: BTreeSet<String> = BTreeSet::new();
        for change in sorted {
            let items = Tally::of(&[change], zone)?.touched();
            if !current.is_empty() && touched.union(&items).count() > MAX_COUNTER_ITEMS {
                chunks.push(std::mem::take(&mut current));
                touched.clear();
            }
            current.push(change);
            touched.extend(items);
        }
        if !current.is_empty() {
            chunks.push(current);
        }
        Ok(chunks)
    }

    async fn apply_chunk(&self, ws: &WorkspaceId, chunk: &[&Change], zone: Tz) -> StoreResult<()> {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else { return Ok(()) };
        let checkpoint = key(keys::meta_pk(ws), format!("STREAM#{}", first.order()));
        let mut applied: Option<String> = None;
        for _ in 0..3 {
            let pending: Vec<&Change> =
                chunk.iter().copied().filter(|c| applied.as_ref().is_none_or(|a| c.order() > *a)).collect();
            let tally = Tally::of(&pending, zone)?;
            if tally.touched().is_empty() {
                return Ok(());
            }
            let mut ops = vec![self.checkpoint_op(checkpoint.clone(), &last.order(), applied.as_deref())];
            ops.extend(self.counter_ops(ws, &tally));
            match self.transact(&ops).await {
                Ok(()) => return Ok(()),
                Err(TxFailure::Conditions(failed)) if failed.iter().any(|(p, _)| *p == Part::Checkpoint) => {
                    // Seen before: apply only what came after the last record applied.
                    let item = self.get_item(checkpoint.clone(), true).await?;
                    applied = item.as_ref().and_then(|i| get_s(i, "applied_through")).map(str::to_string);
                }
                Err(TxFailure::Conditions(failed)) => {
                    return Err(StoreError::Corrupt(format!("unexpected failed conditions: {failed:?}")))
                }
                Err(TxFailure::Other(e)) => return Err(e),
            }
        }
        Err(StoreError::Contended)
    }

    fn checkpoint_op(&self, checkpoint: Item, through: &str, applied: Option<&str>) -> TxOp<Part> {
        let expires = (Utc::now() + Duration::days(CHECKPOINT_TTL_DAYS)).timestamp();
        let mut item = checkpoint;
        item.insert("applied_through".into(), s(through));
        item.insert("expires_at".into(), n(expires));
        let condition = match applied {
            None => Condition::absent(),
            Some(a) => Condition::equals("applied_through", s(a)),
        };
        self.tx_put(Part::Checkpoint, item, Some(condition))
    }

    fn counter_ops(&self, ws: &WorkspaceId, tally: &Tally) -> Vec<TxOp<Part>> {
        let list = |m: &BTreeMap<String, i64>| m.iter().map(|(k, v)| (k.clone(), *v)).collect::<Vec<_>>();
        let mut ops = Vec::new();
        if !tally.counters.is_empty() {
            ops.push(self.tx_add_counts(
                Part::Counter,
                key(keys::meta_pk(ws), keys::COUNTERS_SK),
                &list(&tally.counters),
            ));
        }
        for (tag, delta) in &tally.tags {
            ops.push(self.tx_add_counts(
                Part::Counter,
                key(keys::meta_pk(ws), format!("TAG#{tag}")),
                &[("count".to_string(), *delta)],
            ));
        }
        for (day, counts) in &tally.days {
            ops.push(self.tx_add_counts(Part::Counter, key(keys::days_pk(ws), day.clone()), &list(counts)));
        }
        ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::profile_item;
    use model::domain::{Channel, ContactId, LeadStatus};
    use model::new_contact::NewContact;

    fn ws() -> WorkspaceId {
        WorkspaceId::parse("acme").unwrap()
    }

    fn contact() -> Contact {
        NewContact::on(Channel::Telegram).into_contact(ContactId(7), "2025-08-22T05:02:29Z".parse().unwrap())
    }

    fn change(old: Option<Item>, new: Option<Item>) -> Change {
        Change { sequence: "100".into(), old, new }
    }

    #[test]
    fn a_profile_counts_where_it_is_and_stops_counting_when_hidden() {
        let new = contact();
        let created = Tally::of(&[&change(None, Some(profile_item(&ws(), &new).unwrap()))], Tz::UTC).unwrap();
        assert_eq!(created.counters["contacts"], 1);
        assert_eq!(created.counters["channel_telegram"], 1);
        assert_eq!(created.days["2025-08-22"]["new_contacts"], 1);

        let mut moved = new.clone();
        moved.status = LeadStatus::FollowUp;
        let edit = change(Some(profile_item(&ws(), &new).unwrap()), Some(profile_item(&ws(), &moved).unwrap()));
        let edited = Tally::of(&[&edit], Tz::UTC).unwrap();
        assert_eq!((edited.counters["status_new"], edited.counters["status_follow_up"]), (-1, 1));
        assert!(!edited.counters.contains_key("contacts") && edited.days.is_empty());

        let mut hidden = moved.clone();
        hidden.deleted_at = Some(Utc::now());
        let hide = change(Some(profile_item(&ws(), &moved).unwrap()), Some(profile_item(&ws(), &hidden).unwrap()));
        assert_eq!(Tally::of(&[&hide], Tz::UTC).unwrap().counters["contacts"], -1);
    }

    #[test]
    fn days_are_the_workspaces_own() {
        let created = change(None, Some(profile_item(&ws(), &contact()).unwrap()));
        let la = Tally::of(&[&created], chrono_tz::America::Los_Angeles).unwrap();
        assert_eq!(la.days["2025-08-21"]["new_contacts"], 1, "05:02 UTC is the evening before in Los Angeles");
        let tokyo = Tally::of(&[&created], chrono_tz::Asia::Tokyo).unwrap();
        assert_eq!(tokyo.days["2025-08-22"]["new_contacts"], 1);
    }

    #[test]
    fn a_profile_put_back_by_an_undo_is_not_a_new_contact_of_its_day() {
        let mut item = profile_item(&ws(), &contact()).unwrap();
        item.insert(RESTORED_ATTR.into(), aws_sdk_dynamodb::types::AttributeValue::Bool(true));
        let restored = Tally::of(&[&change(None, Some(item))], Tz::UTC).unwrap();
        assert_eq!(restored.counters["contacts"], 1);
        assert!(restored.days.is_empty());
    }

    #[test]
    fn the_workspace_is_read_from_the_key() {
        let c = change(None, Some(key("WS#acme#CONV#cv1", "CONV")));
        assert_eq!(c.workspace(), Some(ws()));
        assert_eq!(change(None, Some(key("APIKEY#abc", "APIKEY"))).workspace(), None);
    }
}
