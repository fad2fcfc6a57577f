//! Contacts: creation, reads, edits, deletion and the filtered, paginated list.
//!
//! A contact is one transaction of items: its profile and uniqueness guards for its email,
//! phone and channel identities (and its live state). Either all of them are written or
//! none. Its search words and tag links, and the workspace's counters, follow from the
//! table's stream (`links`, `tally`), seconds later.

use super::keys::{self, Index, GSI1, GSI2, GSI3, GSI4, GSI5, GSI6, GUARD, PROFILE};
use super::table::{get_n, get_s, key, n, s, Condition, Item, QuerySpec, TxFailure, TxOp};
use super::{Store, StoreError, StoreResult};
use model::contact::{Contact, ListedContact};
use model::domain::{ContactId, WorkspaceId};
use model::listing::ContactPage;
use model::listing::ListRequest;
use model::search::SearchTerm;
use std::collections::BTreeMap;

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
    /// A record of possible duplicates, written only while the pair is not dismissed.
    Duplicate,
    Other,
}

/// Query rounds per page when a filter is applied after the key condition.
/// Enough to skip `MAX_SKIPPED_ROWS` at 500 rows a round and still fill a page.
const MAX_QUERY_ROUNDS: usize = 25;

impl Store {
    /// Writes a new contact with its guards, all or nothing; `Taken` when its email, phone or identity already has an owner.
    pub async fn insert_contact(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<()> {
        self.insert_contact_with(ws, contact, contact, Extra::default()).await
    }

    /// Writes a new contact as `after`, with its guards, its live state when it
    /// differs from the one `built` started with, and `extra` writes, in one transaction.
    pub(crate) async fn insert_contact_with(
        &self,
        ws: &WorkspaceId,
        built: &Contact,
        after: &Contact,
        extra: Extra,
    ) -> StoreResult<()> {
        let id = after.id;
        let mut ops = vec![self.tx_put(Part::Profile, profile_item(ws, after)?, Some(Condition::absent()))];
        for (field, pk) in guard_keys(ws, after) {
            ops.push(self.tx_put(Part::Guard(field, pk.clone()), guard_item(pk, id, field), Some(Condition::absent())));
        }
        ops.extend(self.live_op(ws, built, after)?);
        ops.extend(extra.ops);
        if let Err(failure) = self.transact(&ops).await {
            return Err(self.explain(failure).await);
        }
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

    /// One page of contacts, newest first, each path a Query on a key built for its filter
    /// (a search of digits: two, one after the other; see [`Plan::for_request`]).
    pub async fn list_contacts(&self, ws: &WorkspaceId, request: &ListRequest) -> StoreResult<ContactPage> {
        let plans = Plan::for_request(ws, request);
        // A position names its collection: it is on the plan whose partition it carries.
        let first = request
            .position
            .as_ref()
            .and_then(|p| plans.iter().position(|plan| p.get(plan.index.pk) == Some(&plan.pk)))
            .unwrap_or(0);
        let mut start: Option<Item> = match &request.position {
            Some(position) => {
                Some(keys::start_key(ws, position, &["pk", "sk", plans[first].index.pk, plans[first].index.sk])?)
            }
            None => None,
        };
        let wanted = request.per_page as usize;
        let skipped_pages = if request.position.is_some() { 0 } else { request.page.saturating_sub(1) };
        let mut to_skip = (u64::from(skipped_pages) * u64::from(request.per_page)) as usize;
        let mut found: Vec<(ListedContact, BTreeMap<String, String>)> = Vec::new();
        let mut last_evaluated = None;
        // Whether rows were read beyond the page's last: then more follow.
        let mut read_beyond = false;
        let mut rounds = 0;
        // Whether a later plan is still to be read when the page is full.
        let mut plans_left = false;

        'plans: for (i, plan) in plans.iter().enumerate().skip(first) {
            let mut round_of_plan = 0;
            loop {
                // A search's words are partly filtered out after the read: when the first round
                // (read as if none were) falls short, the next ones read more at a time.
                let sparse = if plan.sparse && round_of_plan > 0 { 2 } else { 1 };
                let limit = (wanted + to_skip).clamp(wanted, 500) as i32 * sparse;
                let (items, next) = self.query_page(&plan.query, start.take(), limit).await?;
                (rounds, round_of_plan) = (rounds + 1, round_of_plan + 1);
                // Every entry on a list path carries the contact's list fields: no profile is read.
                let mut candidates = rows_in_place(&items)?.into_iter();
                while let Some((contact, item)) = candidates.next() {
                    if !request.filter.matches(&contact) || !plan.lists(&contact, &item) {
                        continue;
                    }
                    if to_skip > 0 {
                        to_skip -= 1;
                        continue;
                    }
                    found.push((contact, position_of(&item, plan.index)));
                    if found.len() == wanted {
                        read_beyond = candidates.len() > 0;
                        break;
                    }
                }
                last_evaluated = next.clone();
                if found.len() == wanted {
                    plans_left = i + 1 < plans.len();
                    break 'plans;
                }
                match next {
                    // This plan is read to its end: the next one, if any, starts at its beginning.
                    None => break,
                    Some(_) if rounds >= MAX_QUERY_ROUNDS => break 'plans,
                    Some(next) => start = Some(next),
                }
            }
        }

        // A full page reads no row past its last one unless the Query returned more: a cursor
        // is then given when DynamoDB says more may follow, and the next page may be empty.
        let next_position = if found.len() == wanted {
            (read_beyond || last_evaluated.is_some() || plans_left)
                .then(|| found.last().map(|(_, p)| p.clone()))
                .flatten()
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

    /// Replaces the profile (if still at `current.version`) with its guards, and the live state (if still at `current.live_version`), plus `extra`
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
        ops.extend(extra.ops);
        if let Err(failure) = self.transact(&ops).await {
            return Err(self.explain(failure).await);
        }
        Ok(())
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
        // A pair dismissed since capture read it: read again, and the pair is left out.
        if failed.iter().any(|(p, _)| matches!(p, Part::Profile | Part::Duplicate)) {
            return StoreError::VersionMismatch { current: 0 };
        }
        StoreError::Corrupt(format!(
            "unexpected failed conditions: {:?}",
            failed.iter().map(|(p, _)| p).collect::<Vec<_>>()
        ))
    }
}

/// The index, key condition and filter of one Query path of a list request.
struct Plan {
    index: Index,
    /// The partition it reads.
    pk: String,
    query: QuerySpec,
    /// Search words: a share of what the key condition reads is filtered out.
    sparse: bool,
    /// For a search: the term its entries are listed under, and the terms of the plans
    /// before it, whose contacts it does not list again.
    term: Option<(SearchTerm, Vec<SearchTerm>)>,
}

impl Plan {
    /// The paths a request is read along, one after the other: one, but for a search of
    /// digits, which reads the words that begin with them and then the phones that end
    /// with them.
    fn for_request(ws: &WorkspaceId, request: &ListRequest) -> Vec<Plan> {
        match &request.filter.search {
            Some(q) => {
                let mut plans = vec![Plan::search(ws, request, q.clone(), Vec::new())];
                if let Some(end) = q.phone_end() {
                    plans.push(Plan::search(ws, request, end, vec![q.clone()]));
                }
                plans
            }
            None => vec![Plan::listing(ws, request)],
        }
    }

    /// Whether a candidate entry lists its contact on this path: a contact with several
    /// words that begin with the term is listed once, under the first, and a contact an
    /// earlier plan lists is not listed again.
    fn lists(&self, contact: &ListedContact, item: &Item) -> bool {
        let Some((term, earlier)) = &self.term else { return true };
        get_s(item, keys::SK).and_then(keys::search_word_of) == term.listed_under(contact).as_deref()
            && earlier.iter().all(|e| e.listed_under(contact).is_none())
    }

    fn search(ws: &WorkspaceId, request: &ListRequest, q: SearchTerm, earlier: Vec<SearchTerm>) -> Plan {
        let pk = keys::search_pk(ws, &q.partition(), q.kind());
        let mut query = QuerySpec::index(GSI1, pk.clone());
        // Search words sort by the word: the term is the key condition, a date window is checked in code.
        query.key_condition.push_str(" AND begins_with(#sk, :start)");
        query.names.insert("#sk".into(), GSI1.sk.into());
        query.values.insert(":start".into(), s(q.indexed_start()));
        // Of a contact's words that begin with the term, only the first lists it.
        query.names.insert("#shared".into(), "shared".into());
        query.values.insert(":len".into(), n(q.indexed_len()));
        let mut filters = vec!["#shared < :len"];
        if let Some(channel) = request.filter.channel {
            query.names.insert("#channel".into(), "channel".into());
            query.values.insert(":channel".into(), s(channel.as_str()));
            filters.push("#channel = :channel");
        }
        query.filter = Some(filters.join(" AND "));
        // Search reads words in order (A to Z).
        query.newest_first = false;
        Plan { index: GSI1, pk, query, sparse: true, term: Some((q, earlier)) }
    }

    fn listing(ws: &WorkspaceId, request: &ListRequest) -> Plan {
        let f = &request.filter;
        let (index, pk) = if let Some(tag) = &f.tag {
            (GSI1, keys::tag_pk(ws, tag))
        } else if let Some(status) = f.status {
            (GSI3, keys::status_pk(ws, status))
        } else if let Some(score) = f.score {
            (GSI5, keys::score_pk(ws, score))
        } else if let Some(channel) = f.channel {
            (GSI2, keys::channel_pk(ws, channel))
        } else {
            (GSI6, keys::all_contacts_pk(ws))
        };
        let mut query = QuerySpec::index(index, pk.clone());
        let after = f.created.after.map(model::listing::api_time);
        // `~` sorts after the `#id` suffix, so `before` includes its whole second.
        let before = f.created.before.map(|b| format!("{}#~", model::listing::api_time(b)));
        match (after, before) {
            (Some(a), Some(b)) => {
                query.key_condition.push_str(" AND #sk BETWEEN :after AND :before");
                query.values.insert(":after".into(), s(a));
                query.values.insert(":before".into(), s(b));
            }
            (Some(a), None) => {
                query.key_condition.push_str(" AND #sk >= :after");
                query.values.insert(":after".into(), s(a));
            }
            (None, Some(b)) => {
                query.key_condition.push_str(" AND #sk <= :before");
                query.values.insert(":before".into(), s(b));
            }
            (None, None) => {}
        }
        // DynamoDB refuses names an expression does not use.
        if query.key_condition.contains("#sk") {
            query.names.insert("#sk".to_string(), index.sk.to_string());
        }
        // Channel never changes, so links carry it too: it is filtered server-side on every path but its own index.
        if let Some(channel) = f.channel.filter(|_| index != GSI2) {
            query.names.insert("#channel".into(), "channel".into());
            query.values.insert(":channel".into(), s(channel.as_str()));
            query.filter = Some("#channel = :channel".into());
        }
        query.newest_first = true;
        Plan { index, pk, query, sparse: false, term: None }
    }
}

/// Rows of a list path: entries of a list index, which projects a contact's list fields
/// (`keys::LIST_PROJECTION`), or search words and tag links, which carry them (`links`).
pub(crate) fn rows_in_place(items: &[Item]) -> StoreResult<Vec<(ListedContact, Item)>> {
    let row = |i: &Item| serde_dynamo::from_item(i.clone()).map_err(|e| StoreError::Corrupt(format!("list row: {e}")));
    items.iter().map(|i| Ok((row(i)?, i.clone()))).collect()
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
        // Listed in the workspace's trash (gsi6, under its own key) until then.
        Some(purge_after) => item.extend([
            (GSI3.pk.to_string(), s(keys::purge_pk(keys::shard_of(&c.id.padded())))),
            (GSI3.sk.to_string(), s(keys::purge_sk(purge_after, ws, c.id))),
            (GSI6.pk.to_string(), s(keys::deleted_pk(ws))),
            (GSI6.sk.to_string(), s(keys::deleted_sk(purge_after, c.id))),
        ]),
        None => item.extend([
            (GSI4.pk.to_string(), s(keys::activity_pk(ws))),
            (GSI4.sk.to_string(), s(keys::list_sk(c.last_activity_at, c.id))),
            (GSI5.pk.to_string(), s(keys::score_pk(ws, c.score))),
            (GSI5.sk.to_string(), s(list_sk.clone())),
            (GSI6.pk.to_string(), s(keys::all_contacts_pk(ws))),
            (GSI6.sk.to_string(), s(list_sk.clone())),
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
pub(crate) fn search_item(ws: &WorkspaceId, row: &ListedContact, word: &str, shared: usize) -> Item {
    let collection = keys::search_pk(ws, &model::search::partition_of(word), model::search::kind_of(word));
    let mut item = index_link(key(keys::contact_pk(ws, row.id), keys::search_sk(word)), collection, row);
    item.insert(GSI1.sk.to_string(), s(keys::search_word_sk(word, row.created_at, row.id)));
    item.insert("shared".to_string(), n(shared));
    item
}

/// An item in the contact's collection that lists it in another GSI1 listing, with the
/// contact's list fields, so that a page of such entries needs no profile. Nothing else:
/// a page of 25 stays within two 4 KB read blocks (its kind is in its sort key).
pub(crate) fn index_link(link_key: Item, gsi1pk: String, row: &ListedContact) -> Item {
    let mut item: Item = serde_dynamo::to_item(row).expect("list rows serialize");
    item.extend(link_key);
    item.extend([(GSI1.pk.to_string(), s(gsi1pk)), (GSI1.sk.to_string(), s(keys::list_sk(row.created_at, row.id)))]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use model::domain::{Channel, Email, Name, Phone, Tag};
    use model::new_contact::NewContact;

    #[test]
    fn a_list_index_row_is_the_contact_as_lists_show_it() {
        let ws = WorkspaceId::parse("acme").unwrap();
        let mut n = NewContact::on(Channel::Telegram);
        n.name = Some(Name::parse("Olivia Bennett").unwrap());
        n.email = Some(Email::parse("olivia@lumoco.dev").unwrap());
        n.phone = Some(Phone::parse("+1 415 555 2671", None).unwrap());
        n.tags = [Tag::parse("vip").unwrap()].into();
        let contact = n.into_contact(ContactId(42), chrono::Utc::now());
        let profile = profile_item(&ws, &contact).unwrap();
        // What gsi6 holds of it: the keys and the projected attributes.
        let projected: Item = profile
            .iter()
            .filter(|(k, _)| {
                ["pk", "sk", GSI6.pk, GSI6.sk].contains(&k.as_str()) || keys::LIST_PROJECTION.contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let rows = rows_in_place(&[projected]).unwrap();
        assert_eq!(rows[0].0, contact.listed());
    }

    #[test]
    fn the_channel_index_holds_every_listed_attribute() {
        for attribute in keys::LIST_PROJECTION {
            assert!(keys::CHANNEL_PROJECTION.contains(&attribute), "{attribute}");
        }
    }
}
