//! Bulk loading of contacts known to be new (demo data, benchmark workspaces): the items
//! a create writes, with BatchWriteItem instead of one transaction per contact. About 25
//! times fewer requests than creating one by one; not atomic as a whole (each batch is), so
//! it is for loading, never for requests. The counters follow from the stream, as always.

use super::contacts::{guard_item, guard_keys, index_link, profile_item, search_item};
use super::keys;
use super::table::{key, Item};
use super::{Store, StoreResult};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::search::index_entries;
use std::collections::HashSet;

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
            let row = contact.listed();
            for tag in &contact.tags {
                let link = key(keys::contact_pk(ws, contact.id), keys::tag_link_sk(tag));
                puts.push(index_link(link, keys::tag_pk(ws, tag), &row));
            }
            for (word, shared) in index_entries(&row) {
                puts.push(search_item(ws, &row, &word, shared));
            }
            written.push(contact);
        }
        self.batch_put(puts).await?;
        Ok(written)
    }

    /// Writes the profiles alone of contacts known to be new: no guards, search words or tag
    /// links. Only for a benchmark workspace larger than the local emulator can hold whole
    /// (its items take about 8 KB a profile there): what reads the lists of contacts, an
    /// export for one, finds every contact, but lookups by email, phone or identity and
    /// search find none of them.
    pub async fn load_profiles_only(&self, ws: &WorkspaceId, contacts: &[Contact]) -> StoreResult<()> {
        let puts = contacts.iter().map(|c| profile_item(ws, c)).collect::<StoreResult<Vec<Item>>>()?;
        self.batch_put(puts).await
    }

    async fn batch_put(&self, items: Vec<Item>) -> StoreResult<()> {
        let requests = items
            .into_iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().expect("item"))
                    .build()
            })
            .collect();
        self.batch_write(requests).await
    }
}
