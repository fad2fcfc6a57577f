//! A contact's entries in the lists GSI1 keeps by search word and by tag, kept from the
//! table's stream. A contact's writes carry neither: the stream consumer (`stream-counters`)
//! puts and deletes them from each profile's old and new images, seconds later, in batches
//! outside any transaction. Each entry carries the contact's list fields
//! (`model::contact::ListedContact`), so a search or tag page is one Query and no profile
//! read; when those fields change, every entry of the contact is written again.
//!
//! Lambda hands a shard's records over in order and retries a failed batch, so every
//! profile change reaches the lists; puts and deletes are idempotent, so a batch delivered
//! twice writes the same entries again. A hidden (deleted, restorable) contact has no
//! entries. A profile that is removed (purge, merge) has its whole collection deleted by
//! the remover; the entries of its removed images are deleted here too, so entries put
//! from an earlier change still in flight cannot outlive an erasure.

use super::contacts::{contact_from, index_link, search_item};
use super::keys;
use super::table::{get_s, key, Item};
use super::tally::Change;
use super::{Store, StoreResult};
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use model::contact::{Contact, ListedContact};
use model::domain::Tag;
use model::search::{index_entries, index_words};
use std::collections::{BTreeMap, BTreeSet};

/// What a contact is listed under: its search words (with what each shares with the word
/// before it) and its tags, and the row each entry carries.
#[derive(Debug, Clone, PartialEq)]
struct Entries {
    row: ListedContact,
    words: BTreeMap<String, usize>,
    tags: BTreeSet<Tag>,
}

impl Entries {
    /// `None` when the contact is absent or hidden: then it is listed nowhere.
    fn of(contact: Option<&Contact>) -> Option<Entries> {
        let c = contact.filter(|c| c.is_visible())?;
        let row = c.listed();
        Some(Entries { words: index_entries(&row), tags: c.tags.clone(), row })
    }
}

/// The entries to put and the ones to delete for one contact's changes of a batch.
#[derive(Debug, Default, PartialEq)]
pub struct LinkChanges {
    /// The row the entries carry, when there are entries to put.
    pub row: Option<ListedContact>,
    pub put_words: BTreeMap<String, usize>,
    pub put_tags: BTreeSet<Tag>,
    pub delete_words: BTreeSet<String>,
    pub delete_tags: BTreeSet<Tag>,
}

impl LinkChanges {
    /// `images`: the contact's profile changes of one batch (old, new), in stream order.
    pub fn of(images: &[(Option<Contact>, Option<Contact>)]) -> LinkChanges {
        let (Some((first, _)), Some((_, last))) = (images.first(), images.last()) else {
            return LinkChanges::default();
        };
        let (before, after) = (Entries::of(first.as_ref()), Entries::of(last.as_ref()));
        // A removal on the way wipes the collection: no entry of the earlier images is left.
        let wiped = images.iter().any(|(_, new)| new.is_none());
        let mut changes = LinkChanges::default();
        if let Some(after) = &after {
            let unchanged = before.as_ref().filter(|b| !wiped && b.row == after.row);
            changes.put_words = after
                .words
                .iter()
                .filter(|(w, shared)| unchanged.is_none_or(|b| b.words.get(*w) != Some(shared)))
                .map(|(w, s)| (w.clone(), *s))
                .collect();
            changes.put_tags =
                after.tags.iter().filter(|t| unchanged.is_none_or(|b| !b.tags.contains(*t))).cloned().collect();
            changes.row = Some(after.row.clone());
        }
        let (kept_words, kept_tags): (BTreeSet<String>, BTreeSet<Tag>) =
            after.map(|a| (a.words.into_keys().collect(), a.tags)).unwrap_or_default();
        let listed: Vec<&Contact> = if wiped {
            images.iter().flat_map(|(old, new)| [old, new]).flatten().collect()
        } else {
            first.iter().collect()
        };
        for contact in listed {
            changes.delete_words.extend(index_words(&contact.listed()).into_iter().filter(|w| !kept_words.contains(w)));
            changes.delete_tags.extend(contact.tags.iter().filter(|t| !kept_tags.contains(*t)).cloned());
        }
        changes
    }
}

impl Store {
    /// Brings the search words and tag links of every contact whose profile a batch changed up to date.
    pub async fn update_list_links(&self, changes: &[Change]) -> StoreResult<()> {
        let mut by_contact: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
        for change in changes.iter().filter(|c| is_profile(c)) {
            let pk = change.new.as_ref().or(change.old.as_ref()).and_then(|i| get_s(i, keys::PK));
            if let Some(pk) = pk {
                by_contact.entry(pk.to_string()).or_default().push(change);
            }
        }
        let mut requests = Vec::new();
        for (pk, mut run) in by_contact {
            let Some((ws, id)) = keys::contact_of(&pk) else { continue };
            run.sort_by_key(|c| c.order());
            let images = run
                .iter()
                .map(|c| {
                    Ok((c.old.as_ref().map(contact_from).transpose()?, c.new.as_ref().map(contact_from).transpose()?))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let links = LinkChanges::of(&images);
            if let Some(row) = &links.row {
                requests.extend(links.put_words.iter().map(|(word, shared)| put(search_item(&ws, row, word, *shared))));
                for tag in &links.put_tags {
                    let link = key(keys::contact_pk(&ws, id), keys::tag_link_sk(tag));
                    requests.push(put(index_link(link, keys::tag_pk(&ws, tag), row)));
                }
            }
            requests
                .extend(links.delete_words.iter().map(|w| delete(key(keys::contact_pk(&ws, id), keys::search_sk(w)))));
            requests
                .extend(links.delete_tags.iter().map(|t| delete(key(keys::contact_pk(&ws, id), keys::tag_link_sk(t)))));
        }
        self.batch_write(requests).await
    }
}

fn is_profile(change: &Change) -> bool {
    let item = change.new.as_ref().or(change.old.as_ref());
    item.and_then(|i| get_s(i, keys::SK)) == Some(keys::PROFILE)
}

fn put(item: Item) -> WriteRequest {
    WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().expect("item set")).build()
}

fn delete(key: Item) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(DeleteRequest::builder().set_key(Some(key)).build().expect("key set"))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use model::domain::{Channel, ContactId, LeadStatus, Name};
    use model::new_contact::NewContact;

    fn named(name: &str) -> Contact {
        let mut n = NewContact::on(Channel::Frame);
        n.name = Some(Name::parse(name).unwrap());
        n.tags = [Tag::parse("vip").unwrap()].into();
        n.into_contact(ContactId(7), Utc::now())
    }

    fn set(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    fn tags(list: &[&str]) -> BTreeSet<Tag> {
        list.iter().map(|t| Tag::parse(t).unwrap()).collect()
    }

    #[test]
    fn a_new_contact_gets_every_entry() {
        let changes = LinkChanges::of(&[(None, Some(named("Ada Lovelace")))]);
        assert_eq!(
            changes.put_words.keys().cloned().collect::<BTreeSet<_>>(),
            set(&["ada", "ada lovelace", "lovelace"])
        );
        assert_eq!(changes.put_tags, tags(&["vip"]));
        assert!(changes.delete_words.is_empty() && changes.delete_tags.is_empty());
    }

    #[test]
    fn a_changed_list_field_rewrites_every_entry_and_deletes_the_stale_ones() {
        let changes = LinkChanges::of(&[(Some(named("Ada Lovelace")), Some(named("Ada Byron")))]);
        assert_eq!(changes.delete_words, set(&["ada lovelace", "lovelace"]));
        assert_eq!(changes.put_words.keys().cloned().collect::<BTreeSet<_>>(), set(&["ada", "ada byron", "byron"]));
        assert_eq!(changes.put_tags, tags(&["vip"]), "the tag link carries the new name");
    }

    #[test]
    fn a_change_outside_the_list_fields_writes_nothing() {
        let before = named("Ada Lovelace");
        let after = Contact { notes: Some("called back".into()), version: 2, ..before.clone() };
        assert_eq!(
            LinkChanges::of(&[(Some(before), Some(after.clone()))]),
            LinkChanges { row: Some(after.listed()), ..Default::default() }
        );
    }

    #[test]
    fn changes_of_one_batch_go_from_the_first_image_to_the_last() {
        let (a, b, c) = (named("Ada Lovelace"), named("Ada Byron"), named("Ada King"));
        let changes = LinkChanges::of(&[(Some(a), Some(b.clone())), (Some(b), Some(c))]);
        assert_eq!(changes.delete_words, set(&["ada lovelace", "lovelace"]), "entries never put are not deleted");
        assert!(changes.put_words.contains_key("king") && !changes.put_words.contains_key("byron"));
    }

    #[test]
    fn a_hidden_or_removed_contact_is_listed_nowhere() {
        let a = named("Ada Lovelace");
        let hidden = Contact { deleted_at: Some(Utc::now()), purge_after: Some(Utc::now()), ..a.clone() };
        let changes = LinkChanges::of(&[(Some(a.clone()), Some(hidden.clone()))]);
        assert_eq!((changes.delete_words.len(), changes.delete_tags.len(), changes.put_words.len()), (3, 1, 0));
        let removed = LinkChanges::of(&[
            (Some(a.clone()), Some(Contact { status: LeadStatus::Archived, ..a.clone() })),
            (Some(a), None),
        ]);
        assert_eq!((removed.delete_words.len(), removed.delete_tags.len(), removed.row), (3, 1, None));
    }

    #[test]
    fn a_profile_put_back_after_a_removal_gets_all_its_entries() {
        let a = named("Ada Lovelace");
        let changes = LinkChanges::of(&[(Some(a.clone()), None), (None, Some(a))]);
        assert_eq!((changes.put_words.len(), changes.put_tags.len()), (3, 1));
        assert!(changes.delete_words.is_empty());
    }
}
