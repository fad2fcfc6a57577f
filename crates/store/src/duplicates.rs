//! Possible duplicates: recorded by capture (same email or phone offered by another
//! identity) and found by name (the same full name on another channel); the workspace's
//! review of the recorded pairs, and their dismissal.
//!
//! A recorded pair is two records, `DUP#<other>` in each contact's partition, so a
//! contact's own duplicates are one Query of its partition and the purge finds both. The
//! record in the partition of the lower id is also the pair's entry in the workspace's
//! review, on gsi1 (`WS#<ws>#DUPS`, newest first). A dismissal keeps both records, with
//! `dismissed_at` and without the review's keys: capture writes a pair only on condition
//! that it is not dismissed, and the per-contact route skips it.

use super::contacts::Part;
use super::keys::{self, GSI1, PROFILE};
use super::table::{get_n, get_s, key, s, Item, QuerySpec, TxFailure, TxOp};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::listing::{api_time, Position};
use model::search::SearchTerm;
use model::usecases::duplicates::{DuplicatePair, PairState};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The condition of every write of a pair's records but its dismissal.
const NOT_DISMISSED: &str = "attribute_not_exists(dismissed_at)";

/// One `DUP#` record, as read.
struct Record {
    contact: ContactId,
    other: ContactId,
    reasons: Vec<String>,
    recorded_at: Option<DateTime<Utc>>,
    dismissed_at: Option<DateTime<Utc>>,
}

impl Record {
    fn from(item: &Item) -> StoreResult<Self> {
        let id = |name: &str| {
            get_n(item, name)
                .map(|n| ContactId(n as u64))
                .ok_or_else(|| StoreError::Corrupt(format!("duplicate record without {name}")))
        };
        let time = |name: &str| {
            get_s(item, name).and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
        };
        // `reason` is how records written before the review kept their one reason.
        let mut reasons: BTreeSet<String> = get_s(item, "reason").map(str::to_string).into_iter().collect();
        if let Some(AttributeValue::Ss(set)) = item.get("reasons") {
            reasons.extend(set.iter().cloned());
        }
        Ok(Record {
            contact: id("contact_id")?,
            other: id("other_id")?,
            reasons: reasons.into_iter().collect(),
            recorded_at: time("recorded_at"),
            dismissed_at: time("dismissed_at"),
        })
    }
}

impl Store {
    /// Capture's two writes of a pair, for its transaction: each contact's record, the
    /// reasons added to those already recorded; the lower id's is the review's entry, at the
    /// time the pair was first recorded. Either fails when the pair was dismissed.
    pub(crate) fn record_duplicate_ops(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
        reasons: Vec<String>,
    ) -> [TxOp<Part>; 2] {
        let now = Utc::now();
        let (low, high) = (contact.min(other), contact.max(other));
        [(contact, other), (other, contact)].map(|(this, that)| {
            let mut expression = "SET entity = :entity, contact_id = :this, other_id = :that, \
                                  recorded_at = if_not_exists(recorded_at, :now)"
                .to_string();
            let mut values = Item::from([
                (":entity".to_string(), s("duplicate_candidate")),
                (":this".to_string(), super::table::n(this.0)),
                (":that".to_string(), super::table::n(that.0)),
                (":now".to_string(), s(api_time(now))),
                (":reasons".to_string(), AttributeValue::Ss(reasons.clone())),
            ]);
            if this == low {
                expression.push_str(", #review_pk = :review_pk, #review_sk = if_not_exists(#review_sk, :review_sk)");
                values.insert(":review_pk".into(), s(keys::duplicate_pairs_pk(ws)));
                values.insert(":review_sk".into(), s(keys::duplicate_pair_sk(now, low, high)));
            }
            expression.push_str(" ADD reasons :reasons");
            let names = if this == low {
                HashMap::from([
                    ("#review_pk".to_string(), GSI1.pk.to_string()),
                    ("#review_sk".to_string(), GSI1.sk.to_string()),
                ])
            } else {
                HashMap::new()
            };
            let mut op = self.tx_update(
                Part::Duplicate,
                key(keys::contact_pk(ws, this), keys::duplicate_sk(that)),
                &expression,
                names,
                values,
            );
            if let Some(update) = op.item.update.as_mut() {
                update.condition_expression = Some(NOT_DISMISSED.into());
            }
            op
        })
    }

    /// A contact's `DUP#` records (at most 100).
    async fn records_of(&self, ws: &WorkspaceId, contact: ContactId) -> StoreResult<Vec<Record>> {
        let query = QuerySpec::partition(keys::contact_pk(ws, contact), "DUP#");
        self.query_page(&query, None, 100).await?.0.iter().map(Record::from).collect()
    }

    /// Contacts recorded as possible duplicates of this one, one row per reason: every
    /// record held, dismissed ones too (a person's access export shows what is held).
    pub async fn duplicate_candidates(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
    ) -> StoreResult<Vec<(ContactId, String)>> {
        Ok(self
            .records_of(ws, contact)
            .await?
            .into_iter()
            .flat_map(|r| r.reasons.into_iter().map(move |reason| (r.other, reason)))
            .collect())
    }

    /// Other visible contacts that may be the same person, with the reasons; pairs a
    /// person dismissed are left out, whatever the reason.
    pub async fn find_duplicates(
        &self,
        ws: &WorkspaceId,
        contact: &Contact,
    ) -> StoreResult<Vec<(Contact, Vec<String>)>> {
        let mut reasons: BTreeMap<ContactId, Vec<String>> = BTreeMap::new();
        let mut dismissed = BTreeSet::new();
        for record in self.records_of(ws, contact.id).await? {
            if record.dismissed_at.is_some() {
                dismissed.insert(record.other);
            } else {
                reasons.entry(record.other).or_default().extend(record.reasons);
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
                    if id != contact.id && !dismissed.contains(&id) {
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

    /// The workspace's recorded pairs, newest first: one Query of the review's key.
    pub async fn duplicate_pairs(
        &self,
        ws: &WorkspaceId,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<DuplicatePair>, Option<Position>)> {
        let query = QuerySpec::index(GSI1, keys::duplicate_pairs_pk(ws));
        let start = after.map(|p| keys::start_key(ws, &p, &["pk", "sk", GSI1.pk, GSI1.sk])).transpose()?;
        let (items, next) = self.query_page(&query, start, limit as i32).await?;
        let pairs = items
            .iter()
            .map(|item| {
                let record = Record::from(item)?;
                let recorded_at = record.recorded_at.ok_or_else(|| {
                    StoreError::Corrupt(format!("pair {} {} without a time", record.contact, record.other))
                })?;
                Ok(DuplicatePair { contact: record.contact, other: record.other, reasons: record.reasons, recorded_at })
            })
            .collect::<StoreResult<_>>()?;
        Ok((pairs, next.map(|k| keys::position_of(&k))))
    }

    /// Profiles by id, without their live state (what a list row shows), eventually
    /// consistent; missing ones are left out.
    pub async fn profiles_by_id(&self, ws: &WorkspaceId, ids: &[ContactId]) -> StoreResult<Vec<Contact>> {
        let keys = ids.iter().map(|id| key(keys::contact_pk(ws, *id), PROFILE)).collect();
        self.batch_get(keys, false).await?.iter().map(super::contacts::contact_from).collect()
    }

    /// What is recorded of a pair, from the first contact's record (strongly consistent).
    pub async fn duplicate_pair(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
    ) -> StoreResult<Option<PairState>> {
        let Some(item) = self.get_item(key(keys::contact_pk(ws, contact), keys::duplicate_sk(other)), true).await?
        else {
            return Ok(None);
        };
        Ok(Some(match Record::from(&item)?.dismissed_at {
            Some(at) => PairState::Dismissed { at },
            None => PairState::Recorded,
        }))
    }

    /// Dismisses a recorded pair: both records keep `dismissed_at` and leave the review, in
    /// one transaction; `NotFound` when either record is gone.
    pub async fn dismiss_duplicate_pair(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let ops: Vec<TxOp<()>> = [(contact, other), (other, contact)]
            .into_iter()
            .map(|(this, that)| {
                let mut op = self.tx_update(
                    (),
                    key(keys::contact_pk(ws, this), keys::duplicate_sk(that)),
                    &format!("SET dismissed_at = :at REMOVE {}, {}", GSI1.pk, GSI1.sk),
                    HashMap::new(),
                    Item::from([(":at".to_string(), s(api_time(at)))]),
                );
                if let Some(update) = op.item.update.as_mut() {
                    update.condition_expression = Some("attribute_exists(pk)".into());
                }
                op
            })
            .collect();
        match self.transact(&ops).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(_)) => Err(StoreError::NotFound),
            Err(TxFailure::Other(e)) => Err(e),
        }
    }

    /// The other contacts' records of the pairs in `own` (keys of one contact's partition):
    /// a contact that goes away takes its pairs with it.
    pub(crate) fn duplicate_mirrors(ws: &WorkspaceId, id: ContactId, own: &[Item]) -> Vec<Item> {
        own.iter()
            .filter_map(|k| get_s(k, "sk")?.strip_prefix("DUP#")?.parse::<u64>().ok())
            .map(|other| key(keys::contact_pk(ws, ContactId(other)), keys::duplicate_sk(id)))
            .collect()
    }
}
