//! Possible duplicates of a contact: recorded by capture (same email or phone offered by
//! another identity) and found by name (the same full name on another channel).

use super::keys::{self, GSI1, PROFILE};
use super::table::{get_n, get_s, key, s, QuerySpec};
use super::{Store, StoreResult};
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::search::SearchTerm;
use std::collections::BTreeMap;

impl Store {
    /// Other visible contacts that may be the same person, with the reasons.
    pub async fn find_duplicates(
        &self,
        ws: &WorkspaceId,
        contact: &Contact,
    ) -> StoreResult<Vec<(Contact, Vec<String>)>> {
        let mut reasons: BTreeMap<ContactId, Vec<String>> = BTreeMap::new();
        let recorded =
            self.query_page(&QuerySpec::partition(keys::contact_pk(ws, contact.id), "DUP#"), None, 100).await?.0;
        for item in &recorded {
            if let (Some(other), Some(reason)) = (get_n(item, "other_id"), get_s(item, "reason")) {
                reasons.entry(ContactId(other as u64)).or_default().push(reason.to_string());
            }
        }
        if let Some(name) = &contact.name {
            if let Ok(term) = SearchTerm::parse(name.as_str()) {
                let mut query = QuerySpec::index(GSI1, keys::search_pk(ws, &term.partition(), term.kind()));
                query.key_condition.push_str(" AND begins_with(#sk, :start)");
                query.names.insert("#sk".into(), GSI1.sk.into());
                query.values.insert(":start".into(), s(term.indexed_start()));
                let (links, _) = self.query_page(&query, None, 200).await?;
                for id in links.iter().filter_map(|l| get_n(l, "id")).map(|i| ContactId(i as u64)) {
                    if id != contact.id {
                        reasons.entry(id).or_default();
                    }
                }
            }
        }
        let keys = reasons.keys().map(|id| key(keys::contact_pk(ws, *id), PROFILE)).collect();
        let mut found = Vec::new();
        for item in self.batch_get(keys, false).await? {
            let other = super::contacts::contact_from(&item)?;
            let mut why = reasons.remove(&other.id).unwrap_or_default();
            let same_name = other
                .name
                .as_ref()
                .zip(contact.name.as_ref())
                .is_some_and(|(a, b)| a.as_str().to_lowercase() == b.as_str().to_lowercase());
            if same_name && other.channel != contact.channel {
                why.push(format!("same name on {}", other.channel));
            }
            if other.is_visible() && !why.is_empty() {
                found.push((other, why));
            }
        }
        found.sort_by_key(|(c, _)| c.id);
        Ok(found)
    }
}
