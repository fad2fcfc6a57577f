//! Contacts: creation, reads, edits, deletion and the filtered, paginated list.
//!
//! A contact is one transaction of items: its profile, uniqueness guards for its email,
//! phone and channel identities, tag links and search words. Either all of them are
//! written or none. The workspace's counters follow from the table's stream (`tally`).

use super::keys::{self, Index, GSI1, GSI2, GSI3, GSI4, GSI5, GUARD, PROFILE};
use super::table::{get_n, get_s, key, n, s, Condition, Item, QuerySpec, TxFailure, TxOp, MAX_TRANSACTION_ITEMS};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::listing::ContactPage;
use model::listing::ListRequest;
use model::search::{index_changes, index_entries};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Writes that ride along with a contact change in its transaction.
#[derive(Default)]
pub(crate) struct Extra {
    pub ops: Vec<TxOp<Part>>,
}

/// What a transaction item is, so a failed condition can be explained.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Profile,
    Guard(&'static str, String),
    /// The record that an event was captured.
    Dedup,
    Other,
}

/// Query rounds per page when a filter is applied after the key condition.
/// Enough to skip `MAX_SKIPPED_ROWS` at 500 rows a round and still fill a page.
const MAX_QUERY_ROUNDS: usize = 25;

impl Store {
    /// Writes a new contact with its guards, counters, tag links and search words, all or
    /// nothing; `Taken` when its email, phone or identity already has an owner.
    pub async fn insert_contact(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<()> {
        let id = contact.id;
        let mut ops = vec![self.tx_put(Part::Profile, profile_item(ws, contact)?, Some(Condition::absent()))];
        for (field, pk) in guard_keys(ws, contact) {
            ops.push(self.tx_put(Part::Guard(field, pk.clone()), guard_item(pk, id, field), Some(Condition::absent())));
        }
        ops.extend(self.tag_link_ops(ws, None, Some(contact)));
        let overflow = self.add_search_puts(&mut ops, ws, contact, index_entries(contact));
        if let Err(failure) = self.transact(&ops).await {
            return Err(self.explain(failure).await);
        }
        self.put_deferred(overflow).await;
        Ok(())
    }

    /// A strongly consistent read of one contact, with its live state.
    pub async fn get_contact(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Option<Contact>> {
        self.read_contact(ws, id).await
    }

    /// The error for a lost race: the version now stored, or not found.
    pub(crate) async fn current_version(&self, ws: &WorkspaceId, id: ContactId) -> StoreError {
        match self.get_contact(ws, id).await {
            Ok(Some(c)) => StoreError::VersionMismatch { current: c.version },
            Ok(None) => StoreError::NotFound,
            Err(e) => e,
        }
    }

    /// One page of contacts, newest first, each path a Query on a key built for its filter.
    pub async fn list_contacts(&self, ws: &WorkspaceId, request: &ListRequest) -> StoreResult<ContactPage> {
        let plan = Plan::for_request(ws, request);
        let mut start: Option<Item> = match &request.position {
            Some(position) => Some(keys::start_key(ws, position, &["pk", "sk", plan.index.pk, plan.index.sk])?),
            None => None,
        };
        let wanted = request.per_page as usize + 1;
        let skipped_pages = if request.position.is_some() { 0 } else { request.page.saturating_sub(1) };
        let mut to_skip = (u64::from(skipped_pages) * u64::from(request.per_page)) as usize;
        let mut found: Vec<(Contact, BTreeMap<String, String>)> = Vec::new();
        let mut last_evaluated = None;

        for _ in 0..MAX_QUERY_ROUNDS {
            let limit = (wanted + to_skip).clamp(wanted, 500) as i32 * if plan.via_links { 2 } else { 1 };
            let (items, next) = self.query_page(&plan.query, start.take(), limit).await?;
            let mut rest = items.as_slice();
            while !rest.is_empty() && found.len() < wanted {
                // Links: fetch only as many profiles as the page still needs (most pass).
                let take = if plan.via_links { (wanted - found.len() + to_skip).min(100) } else { rest.len() };
                let (chunk, tail) = rest.split_at(take.min(rest.len()));
                rest = tail;
                let candidates =
                    if plan.via_links { self.profiles_for_links(ws, chunk).await? } else { profiles_in_place(chunk)? };
                for (contact, item) in candidates {
                    if !request.filter.matches(&contact) {
                        continue;
                    }
                    // A contact with several words that begin with the term is listed once, under the first.
                    if let Some(q) = &request.filter.search {
                        if get_s(&item, "word").map(str::to_string) != q.listed_under(&contact) {
                            continue;
                        }
                    }
                    if to_skip > 0 {
                        to_skip -= 1;
                        continue;
                    }
                    found.push((contact, position_of(&item, plan.index)));
                    if found.len() == wanted {
                        break;
                    }
                }
            }
            last_evaluated = next.clone();
            if found.len() == wanted || next.is_none() {
                break;
            }
            start = next;
        }

        let next_position = if found.len() == wanted {
            found.truncate(request.per_page as usize);
            found.last().map(|(_, p)| p.clone())
        } else {
            // The rounds ran out before the page filled: continue from where the reading stopped.
            last_evaluated
                .map(|k| k.iter().filter_map(|(k, v)| v.as_s().ok().map(|v| (k.clone(), v.clone()))).collect())
        };
        let total = match request.filter.counted_total() {
            Some(counter) => Some(self.total(ws, &counter).await?),
            None => None,
        };
        Ok(ContactPage { contacts: found.into_iter().map(|(c, _)| c).collect(), total, next_position })
    }

    /// Replaces the profile while it is still at `current.version`, with everything that goes with it.
    pub async fn replace_contact(&self, ws: &WorkspaceId, current: &Contact, next: &Contact) -> StoreResult<()> {
        self.replace_contact_with(ws, current, next, Extra::default()).await
    }

    /// Replaces the profile (if still at `current.version`) with its guards, tag links and
    /// search words, and the live state (if still at `current.live_version`), plus `extra`
    /// writes, in one transaction. Each of the two is written only when it changed: a
    /// captured message usually moves the live state alone.
    pub(crate) async fn replace_contact_with(
        &self,
        ws: &WorkspaceId,
        current: &Contact,
        next: &Contact,
        extra: Extra,
    ) -> StoreResult<()> {
        let id = current.id;
        let mut ops = Vec::new();
        if next.version != current.version || !next.same_profile(current) {
            ops.push(self.tx_put(Part::Profile, profile_item(ws, next)?, Some(version_is(current.version))));
        }
        ops.extend(self.live_op(ws, current, next)?);

        let before: BTreeMap<String, &'static str> =
            guard_keys(ws, current).into_iter().map(|(f, pk)| (pk, f)).collect();
        let after: BTreeMap<String, &'static str> = guard_keys(ws, next).into_iter().map(|(f, pk)| (pk, f)).collect();
        for pk in before.keys().filter(|pk| !after.contains_key(*pk)) {
            ops.push(self.tx_delete(Part::Other, key(pk.clone(), GUARD), Some(owned_by(id))));
        }
        for (pk, field) in &after {
            if !before.contains_key(pk) {
                ops.push(self.tx_put(
                    Part::Guard(field, pk.clone()),
                    guard_item(pk.clone(), id, field),
                    Some(Condition::absent()),
                ));
            }
        }
        ops.extend(self.tag_link_ops(ws, Some(current), Some(next)));
        ops.extend(extra.ops);
        let (changed, removed) = index_changes(Some(current), Some(next));
        let overflow = self.add_search_puts(&mut ops, ws, next, changed);
        if let Err(failure) = self.transact(&ops).await {
            return Err(self.explain(failure).await);
        }
        self.put_deferred(overflow).await;
        self.delete_search_words(ws, id, &removed).await;
        Ok(())
    }

    /// Removes search words a change left stale: they only produce candidates that fail the
    /// profile check, so a failure here is logged, not returned.
    pub(crate) async fn delete_search_words(&self, ws: &WorkspaceId, id: ContactId, words: &BTreeSet<String>) {
        let stale = words.iter().map(|w| key(keys::contact_pk(ws, id), keys::search_sk(w))).collect();
        if let Err(e) = self.batch_delete(stale).await {
            tracing::warn!(error = %e, contact = %id, "stale search words not removed");
        }
    }

    /// Tag link writes for a contact's tags going from `before` to `after`.
    pub(crate) fn tag_link_ops(
        &self,
        ws: &WorkspaceId,
        before: Option<&Contact>,
        after: Option<&Contact>,
    ) -> Vec<TxOp<Part>> {
        let empty = std::collections::BTreeSet::new();
        let old = before.map_or(&empty, |c| &c.tags);
        let new = after.map_or(&empty, |c| &c.tags);
        let mut ops = Vec::new();
        if let Some(next) = after {
            for tag in new.difference(old) {
                let link_key = key(keys::contact_pk(ws, next.id), keys::tag_link_sk(tag));
                ops.push(self.tx_put(Part::Other, index_link(link_key, keys::tag_pk(ws, tag), next, "tag_link"), None));
            }
        }
        if let Some(prev) = before {
            for tag in old.difference(new) {
                ops.push(self.tx_delete(Part::Other, key(keys::contact_pk(ws, prev.id), keys::tag_link_sk(tag)), None));
            }
        }
        ops
    }

    /// Adds search word puts while the transaction has room; returns the rest.
    pub(crate) fn add_search_puts(
        &self,
        ops: &mut Vec<TxOp<Part>>,
        ws: &WorkspaceId,
        contact: &Contact,
        entries: BTreeMap<String, usize>,
    ) -> Vec<Item> {
        let mut items: Vec<Item> = entries.iter().map(|(w, shared)| search_item(ws, contact, w, *shared)).collect();
        let room = MAX_TRANSACTION_ITEMS.saturating_sub(ops.len()).min(items.len());
        let overflow = items.split_off(room);
        ops.extend(items.into_iter().map(|item| self.tx_put(Part::Other, item, None)));
        overflow
    }

    pub(crate) async fn put_deferred(&self, items: Vec<Item>) {
        if items.is_empty() {
            return;
        }
        let requests = items
            .into_iter()
            .map(|i| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(i)).build().expect("item set"))
                    .build()
            })
            .collect();
        if let Err(e) = self.batch_write(requests).await {
            tracing::warn!(error = %e, "search words beyond the transaction not written");
        }
    }

    /// Turns a cancelled transaction into the reason a caller can act on.
    pub(crate) async fn explain(&self, failure: TxFailure<Part>) -> StoreError {
        let failed = match failure {
            TxFailure::Other(e) => return e,
            TxFailure::Conditions(failed) => failed,
        };
        // An identity taken by a concurrent first message matters most: the caller re-reads it.
        let mut failed = failed;
        failed.sort_by_key(|(part, _)| !matches!(part, Part::Guard("identity", _)));
        for (part, old) in &failed {
            if let Part::Guard(field, pk) = part {
                // DynamoDB returns the guard as it was; read it when an emulator does not.
                let guard = match old {
                    Some(item) => Some(item.clone()),
                    None => self.get_item(key(pk.clone(), GUARD), true).await.ok().flatten(),
                };
                if let Some(owner) = guard.as_ref().and_then(|i| get_n(i, "contact_id")) {
                    return StoreError::Taken { field, owner: ContactId(owner as u64) };
                }
            }
        }
        if failed.iter().any(|(p, _)| *p == Part::Dedup) {
            return StoreError::AlreadyCaptured;
        }
        if failed.iter().any(|(p, _)| *p == Part::Profile) {
            return StoreError::VersionMismatch { current: 0 };
        }
        StoreError::Corrupt(format!(
            "unexpected failed conditions: {:?}",
            failed.iter().map(|(p, _)| p).collect::<Vec<_>>()
        ))
    }

    async fn profiles_for_links(&self, ws: &WorkspaceId, links: &[Item]) -> StoreResult<Vec<(Contact, Item)>> {
        let ids: Vec<ContactId> =
            links.iter().filter_map(|l| get_n(l, "contact_id")).map(|i| ContactId(i as u64)).collect();
        let unique: BTreeSet<ContactId> = ids.iter().copied().collect();
        let keys = unique.iter().map(|id| key(keys::contact_pk(ws, *id), PROFILE)).collect();
        let mut profiles: HashMap<u64, Contact> = HashMap::new();
        for item in self.batch_get(keys, false).await? {
            let c = contact_from(&item)?;
            profiles.insert(c.id.0, c);
        }
        Ok(links
            .iter()
            .filter_map(|l| {
                get_n(l, "contact_id").and_then(|id| profiles.get(&(id as u64))).map(|c| (c.clone(), l.clone()))
            })
            .collect())
    }
}

/// The index, key condition and filter for a list request.
struct Plan {
    index: Index,
    query: QuerySpec,
    /// Tag links and search words point at profiles that are fetched by key.
    via_links: bool,
}

impl Plan {
    fn for_request(ws: &WorkspaceId, request: &ListRequest) -> Plan {
        let f = &request.filter;
        let (index, pk, via_links) = if let Some(q) = &f.search {
            (GSI1, keys::search_pk(ws, &q.partition()), true)
        } else if let Some(tag) = &f.tag {
            (GSI1, keys::tag_pk(ws, tag), true)
        } else if let Some(status) = f.status {
            (GSI3, keys::status_pk(ws, status), false)
        } else if let Some(score) = f.score {
            (GSI5, keys::score_pk(ws, score), false)
        } else if let Some(channel) = f.channel {
            (GSI2, keys::channel_pk(ws, channel), false)
        } else {
            (GSI1, keys::all_contacts_pk(ws), false)
        };
        let mut names = HashMap::from([("#pk".to_string(), index.pk.to_string())]);
        let mut values = Item::from([(":pk".to_string(), s(pk))]);
        let mut key_condition = "#pk = :pk".to_string();
        let after = f.created.after.map(model::listing::api_time);
        // `~` sorts after the `#id` suffix, so `before` includes its whole second.
        let before = f.created.before.map(|b| format!("{}#~", model::listing::api_time(b)));
        // Search words sort by the word: the term is the key condition, a date window is checked in code.
        let window = match &f.search {
            Some(q) => {
                key_condition.push_str(" AND begins_with(#sk, :start)");
                values.insert(":start".into(), s(q.indexed_start()));
                (None, None)
            }
            None => (after, before),
        };
        match window {
            (Some(a), Some(b)) => {
                key_condition.push_str(" AND #sk BETWEEN :after AND :before");
                values.insert(":after".into(), s(a));
                values.insert(":before".into(), s(b));
            }
            (Some(a), None) => {
                key_condition.push_str(" AND #sk >= :after");
                values.insert(":after".into(), s(a));
            }
            (None, Some(b)) => {
                key_condition.push_str(" AND #sk <= :before");
                values.insert(":before".into(), s(b));
            }
            (None, None) => {}
        }
        // DynamoDB refuses names an expression does not use.
        if key_condition.contains("#sk") {
            names.insert("#sk".to_string(), index.sk.to_string());
        }
        // Channel never changes, so links carry it too: it is filtered server-side on every path but its own index.
        let mut filters = Vec::new();
        if let Some(channel) = f.channel.filter(|_| index != GSI2) {
            names.insert("#channel".into(), "channel".into());
            values.insert(":channel".into(), s(channel.as_str()));
            filters.push("#channel = :channel");
        }
        // Of a contact's words that begin with the term, only the first lists it.
        if let Some(q) = &f.search {
            names.insert("#shared".into(), "shared".into());
            values.insert(":len".into(), n(q.indexed_len()));
            filters.push("#shared < :len");
        }
        let filter = (!filters.is_empty()).then(|| filters.join(" AND "));
        let query = QuerySpec {
            index: Some(index.name),
            key_condition,
            names,
            values,
            filter,
            // Search reads words in order (A to Z); every other list newest first.
            newest_first: f.search.is_none(),
            consistent: false,
        };
        Plan { index, query, via_links }
    }
}

fn profiles_in_place(items: &[Item]) -> StoreResult<Vec<(Contact, Item)>> {
    items.iter().map(|i| Ok((contact_from(i)?, i.clone()))).collect()
}

fn position_of(item: &Item, index: Index) -> BTreeMap<String, String> {
    ["pk", "sk", index.pk, index.sk]
        .into_iter()
        .filter_map(|k| get_s(item, k).map(|v| (k.to_string(), v.to_string())))
        .collect()
}

pub(crate) fn profile_item(ws: &WorkspaceId, c: &Contact) -> StoreResult<Item> {
    let mut item: Item = serde_dynamo::to_item(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let list_sk = keys::list_sk(c.created_at, c.id);
    item.extend([
        ("pk".to_string(), s(keys::contact_pk(ws, c.id))),
        ("sk".to_string(), s(PROFILE)),
        ("entity".to_string(), s("contact")),
        ("workspace_id".to_string(), s(ws.as_str())),
    ]);
    match c.purge_after {
        // Hidden from every listing; found by the scheduled purge when its grace period ends.
        Some(purge_after) => item.extend([
            (GSI3.pk.to_string(), s(keys::purge_pk(keys::shard_of(&c.id.padded())))),
            (GSI3.sk.to_string(), s(keys::purge_sk(purge_after, ws, c.id))),
        ]),
        None => item.extend([
            (GSI4.pk.to_string(), s(keys::activity_pk(ws))),
            (GSI4.sk.to_string(), s(keys::list_sk(c.last_activity_at, c.id))),
            (GSI5.pk.to_string(), s(keys::score_pk(ws, c.score))),
            (GSI5.sk.to_string(), s(list_sk.clone())),
            (GSI1.pk.to_string(), s(keys::all_contacts_pk(ws))),
            (GSI1.sk.to_string(), s(list_sk.clone())),
            (GSI2.pk.to_string(), s(keys::channel_pk(ws, c.channel))),
            (GSI2.sk.to_string(), s(list_sk.clone())),
            (GSI3.pk.to_string(), s(keys::status_pk(ws, c.status))),
            (GSI3.sk.to_string(), s(list_sk)),
        ]),
    }
    Ok(item)
}

pub(crate) fn contact_from(item: &Item) -> StoreResult<Contact> {
    serde_dynamo::from_item(item.clone()).map_err(|e| StoreError::Corrupt(format!("contact item: {e}")))
}

/// One search word of a contact: in its collection, on GSI1 under the word's first characters,
/// sorted by the word, then newest first (read in ascending order). `shared`: what the word
/// shares with the contact's word before it (`model::search::index_entries`).
pub(crate) fn search_item(ws: &WorkspaceId, contact: &Contact, word: &str, shared: usize) -> Item {
    let partition: String = word.chars().take(model::search::MIN_QUERY).collect();
    let mut item = index_link(
        key(keys::contact_pk(ws, contact.id), keys::search_sk(word)),
        keys::search_pk(ws, &partition),
        contact,
        "search_word",
    );
    item.insert(GSI1.sk.to_string(), s(keys::search_word_sk(word, contact.created_at, contact.id)));
    item.insert("word".to_string(), s(word));
    item.insert("shared".to_string(), n(shared));
    item
}

/// A small item in the contact's collection that places it in another GSI1 listing.
pub(crate) fn index_link(mut item: Item, gsi1pk: String, contact: &Contact, entity: &str) -> Item {
    item.extend([
        ("entity".to_string(), s(entity)),
        (GSI1.pk.to_string(), s(gsi1pk)),
        (GSI1.sk.to_string(), s(keys::list_sk(contact.created_at, contact.id))),
        ("contact_id".to_string(), n(contact.id.0)),
        ("channel".to_string(), s(contact.channel.as_str())),
    ]);
    item
}

pub(crate) fn guard_keys(ws: &WorkspaceId, c: &Contact) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for email in c.email.iter().chain(&c.other_emails) {
        out.push(("email", keys::email_guard_pk(ws, &email.key())));
    }
    for phone in c.phone.iter().chain(&c.other_phones) {
        out.push(("phone", keys::phone_guard_pk(ws, &phone.key())));
    }
    for identity in &c.identities {
        out.push(("identity", keys::identity_guard_pk(ws, identity.channel, &identity.external_id)));
    }
    out
}

pub(crate) fn guard_item(pk: String, id: ContactId, field: &str) -> Item {
    let mut item = key(pk, GUARD);
    item.insert("entity".into(), s("guard"));
    item.insert("field".into(), s(field));
    item.insert("contact_id".into(), n(id.0));
    item
}

pub(crate) fn version_is(version: u64) -> Condition {
    Condition::equals("version", n(version))
}

pub(crate) fn owned_by(id: ContactId) -> Condition {
    Condition::equals("contact_id", n(id.0))
}
