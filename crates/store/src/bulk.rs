//! Bulk loading of contacts known to be new (demo data, benchmark workspaces): the items
//! a create writes, with BatchWriteItem instead of one transaction per contact, and the
//! counters, tag counts and daily counts summed into one update each. About 25 times
//! fewer requests than creating one by one; not atomic as a whole (each batch and each
//! counter update is), so it is for loading, never for requests.

use super::contacts::{guard_item, guard_keys, index_link, profile_item, Part};
use super::keys;
use super::table::{key, Item};
use super::{Store, StoreResult};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::search::index_prefixes;
use std::collections::{BTreeMap, HashSet};

/// Counter updates per transaction (DynamoDB's limit).
const UPDATES_PER_TRANSACTION: usize = 100;

impl Store {
    /// Hands out `count` consecutive contact ids in one call.
    pub async fn allocate_contact_ids(&self, ws: &WorkspaceId, count: u64) -> StoreResult<Vec<ContactId>> {
        let last = self.advance_contact_sequence(ws, count).await?;
        Ok((last + 1 - count..=last).map(ContactId).collect())
    }

    /// Writes contacts that have no items yet (ids from [`Store::allocate_contact_ids`]).
    /// A value already used by an earlier contact of the same call or of the workspace is
    /// dropped from the later contact, as capture does, so guards stay unique. Returns
    /// the contacts as written.
    pub async fn import_contacts(&self, ws: &WorkspaceId, contacts: Vec<Contact>) -> StoreResult<Vec<Contact>> {
        // Values some contact of the workspace already holds (one BatchGetItem per 100).
        let guards: Vec<Item> =
            contacts.iter().flat_map(|c| guard_keys(ws, c)).map(|(_, pk)| key(pk, keys::GUARD)).collect();
        let mut taken: HashSet<String> = HashSet::new();
        for item in self.batch_get(guards, false).await? {
            taken.extend(item.get("pk").and_then(|v| v.as_s().ok()).cloned());
        }
        let mut written = Vec::with_capacity(contacts.len());
        let mut puts: Vec<Item> = Vec::new();
        for mut contact in contacts {
            for (field, pk) in guard_keys(ws, &contact) {
                if taken.contains(&pk) {
                    match field {
                        "email" => contact.email = None,
                        "phone" => contact.phone = None,
                        _ => {
                            contact.identities.retain(|i| keys::identity_guard_pk(ws, i.channel, &i.external_id) != pk)
                        }
                    }
                }
            }
            for (field, pk) in guard_keys(ws, &contact) {
                taken.insert(pk.clone());
                puts.push(guard_item(pk, contact.id, field));
            }
            puts.push(profile_item(ws, &contact)?);
            for tag in &contact.tags {
                let link = key(keys::contact_pk(ws, contact.id), keys::tag_link_sk(tag));
                puts.push(index_link(link, keys::tag_pk(ws, tag), &contact, "tag_link"));
            }
            for prefix in index_prefixes(&contact) {
                let link = key(keys::contact_pk(ws, contact.id), keys::search_sk(&prefix));
                puts.push(index_link(link, keys::search_pk(ws, &prefix), &contact, "search_prefix"));
            }
            written.push(contact);
        }
        let requests = puts
            .into_iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().expect("item"))
                    .build()
            })
            .collect();
        self.batch_write(requests).await?;

        let mut days: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        for c in &written {
            let day = days.entry(keys::day_sk(c.created_at)).or_default();
            day.push(("new_contacts".to_string(), 1));
            day.push((format!("new_{}", c.channel), 1));
        }
        let changes: Vec<(Option<&Contact>, Option<&Contact>)> = written.iter().map(|c| (None, Some(c))).collect();
        let mut ops = self.count_ops_for(ws, &changes, &[]);
        for (day, counts) in days {
            let mut summed: BTreeMap<String, i64> = BTreeMap::new();
            for (name, n) in counts {
                *summed.entry(name).or_default() += n;
            }
            let summed: Vec<(String, i64)> = summed.into_iter().collect();
            ops.push(self.tx_add_counts(Part::Other, key(keys::days_pk(ws), day), &summed));
        }
        while !ops.is_empty() {
            let rest = ops.split_off(ops.len().min(UPDATES_PER_TRANSACTION));
            if let Err(failure) = self.transact(&ops).await {
                return Err(self.explain(failure).await);
            }
            ops = rest;
        }
        Ok(written)
    }
}
