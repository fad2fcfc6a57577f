//! The change feed behind `GET /api/v1/contacts?updated_since=`: one small item per contact,
//! `WS#<ws>#C#<id>#SYNC` / `CHANGED`, put again by the stream's sync fan-out at each change
//! of its profile, and indexed on gsi4 (keys only) under `WS#<ws>#CHANGED`, sorted by the
//! time of the change. A contact changed ten times is listed once, at its latest change. A
//! deleted, merged-away or erased contact stays listed as a tombstone (its id only) for
//! [`TOMBSTONE_DAYS`], then the table's TTL removes it.
//!
//! A page reads the index (keys only) and then the profiles it names in one BatchGetItem: a
//! page of 25 costs about 0.5 RCU for the index and 0.5 RCU per profile (up to 4 KB,
//! eventually consistent). The feed trails the writes by the stream's delay (about a second).

use super::keys::{self, GSI4};
use super::table::{get_s, key, n, s, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use model::contact::{Contact, ListedContact};
use model::domain::{ContactId, WorkspaceId};
use model::listing::Position;

/// How long an id removed from the workspace stays in the feed.
pub const TOMBSTONE_DAYS: i64 = 90;

const CHANGED_SK: &str = "CHANGED";

fn feed_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#CHANGED")
}

/// Millisecond times sort as strings; the id keeps two changes in the same millisecond apart.
fn feed_sk(at: DateTime<Utc>, id: ContactId) -> String {
    format!("{}#{}", at.to_rfc3339_opts(SecondsFormat::Millis, true), id.padded())
}

/// One contact's latest change, as the fan-out saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNote {
    pub contact: ContactId,
    pub at: DateTime<Utc>,
    /// Gone from the workspace: deleted, merged away or erased.
    pub removed: bool,
}

/// One entry of a feed page: the contact as it is now, or its id when it is gone.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEntry {
    Present { contact: Box<ListedContact>, changed_at: DateTime<Utc> },
    Removed { id: ContactId, changed_at: DateTime<Utc> },
}

impl Store {
    /// Puts the contacts' feed items (BatchWriteItem, 25 a call).
    pub async fn note_changes(&self, ws: &WorkspaceId, notes: &[ChangeNote]) -> StoreResult<()> {
        let requests = notes
            .iter()
            .map(|note| {
                let mut item = key(format!("WS#{ws}#C#{}#SYNC", note.contact.padded()), CHANGED_SK);
                item.extend([
                    ("entity".to_string(), s("contact_change")),
                    (GSI4.pk.to_string(), s(feed_pk(ws))),
                    (GSI4.sk.to_string(), s(feed_sk(note.at, note.contact))),
                ]);
                if note.removed {
                    item.insert("expires_at".into(), n((note.at + Duration::days(TOMBSTONE_DAYS)).timestamp()));
                }
                let put = PutRequest::builder().set_item(Some(item)).build().expect("item set");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        self.batch_write(requests).await
    }

    /// Contacts changed at or after `since`, oldest change first, `limit` at most, from
    /// `after` (a position this answered); where the next page starts, when more may follow.
    pub async fn changed_since(
        &self,
        ws: &WorkspaceId,
        since: DateTime<Utc>,
        after: Option<&Position>,
        limit: u32,
    ) -> StoreResult<(Vec<FeedEntry>, Option<Position>)> {
        let mut query = QuerySpec::index(GSI4, feed_pk(ws));
        query.key_condition.push_str(" AND #sk >= :since");
        query.names.insert("#sk".into(), GSI4.sk.into());
        query.values.insert(":since".into(), s(since.to_rfc3339_opts(SecondsFormat::Millis, true)));
        query.newest_first = false;
        let start = after.map(|p| keys::start_key(ws, p, &["pk", "sk", GSI4.pk, GSI4.sk])).transpose()?;
        let (items, next) = self.query_page(&query, start, limit as i32).await?;
        let noted: Vec<(ContactId, DateTime<Utc>)> = items.iter().map(parse_feed_key).collect::<StoreResult<_>>()?;
        let profiles = self
            .batch_get(noted.iter().map(|(id, _)| key(keys::contact_pk(ws, *id), keys::PROFILE)).collect(), false)
            .await?;
        let mut present = std::collections::HashMap::new();
        for item in &profiles {
            let contact: Contact = super::contacts::contact_from(item)?;
            if contact.is_visible() {
                present.insert(contact.id, contact.listed());
            }
        }
        let entries = noted
            .into_iter()
            .map(|(id, changed_at)| match present.remove(&id) {
                Some(contact) => FeedEntry::Present { contact: Box::new(contact), changed_at },
                None => FeedEntry::Removed { id, changed_at },
            })
            .collect();
        Ok((entries, next.as_ref().map(keys::position_of)))
    }
}

fn parse_feed_key(item: &Item) -> StoreResult<(ContactId, DateTime<Utc>)> {
    let corrupt = || StoreError::Corrupt("change feed entry without its key".into());
    let (at, id) = get_s(item, GSI4.sk).and_then(|k| k.split_once('#')).ok_or_else(corrupt)?;
    let at = at.parse::<DateTime<Utc>>().map_err(|_| corrupt())?;
    let id = id.parse::<u64>().map_err(|_| corrupt())?;
    Ok((ContactId(id), at))
}
