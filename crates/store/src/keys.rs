//! Key templates of the single table. Every key a request builds starts with the
//! workspace, so no request can name another tenant's item. The documented exceptions are
//! API keys (found by hash before the workspace is known) and three system keys that only
//! scheduled jobs read: the open-conversation shards, the purge shards and the workspace
//! list. Entity prefixes are upper case, `#` separates.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use model::domain::{Channel, ContactId, LeadStatus, Tag, WorkspaceId};
use model::listing::{api_time, Position};
use model::search::WordKind;
use std::collections::HashMap;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const PROFILE: &str = "PROFILE";
pub const GUARD: &str = "GUARD";

/// A secondary index: its name and key attribute names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// Tag links, search words, bots, conversations, workspaces, exports, segments (overloaded, every attribute).
pub const GSI1: Index = Index { name: "gsi1", pk: "gsi1pk", sk: "gsi1sk" };
/// Contacts by channel, newest first; live states with open conversations.
pub const GSI2: Index = Index { name: "gsi2", pk: "gsi2pk", sk: "gsi2sk" };
/// Contacts by lead status, newest first.
pub const GSI3: Index = Index { name: "gsi3", pk: "gsi3pk", sk: "gsi3sk" };
/// Contacts by last activity (keys only).
pub const GSI4: Index = Index { name: "gsi4", pk: "gsi4pk", sk: "gsi4sk" };
/// Contacts by lead score, newest first.
pub const GSI5: Index = Index { name: "gsi5", pk: "gsi5pk", sk: "gsi5sk" };
/// All contacts, newest first.
pub const GSI6: Index = Index { name: "gsi6", pk: "gsi6pk", sk: "gsi6sk" };

/// What the list indexes (gsi3, gsi5, gsi6) project besides keys: a contact's list fields.
/// The purge finds hidden profiles on gsi3 by their keys alone.
pub const LIST_PROJECTION: [&str; 13] = model::contact::LISTED_ATTRIBUTES;

/// What gsi2 projects: the list fields, and the live state the idle sweep reads of the live
/// items it holds under the open-conversation shards.
pub const CHANNEL_PROJECTION: [&str; 16] = with_live_state(LIST_PROJECTION);

const fn with_live_state(list: [&'static str; 13]) -> [&'static str; 16] {
    let mut out = [""; 16];
    let mut i = 0;
    while i < list.len() {
        out[i] = list[i];
        i += 1;
    }
    out[13] = "user_messages";
    out[14] = "open_conversations";
    out[15] = "live_version";
    out
}

pub fn workspace_prefix(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#")
}

/// Workspace settings, counters, the id sequence and tag counts.
pub fn meta_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#META")
}
pub const WORKSPACE_SK: &str = "WORKSPACE";

/// A workspace's data keys, wrapped by KMS (`sealed.rs`): a partition of its own, which
/// the webhooks function may read beside bots.
pub fn data_key_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#DATAKEY")
}
pub const DATA_KEY_SK: &str = "DATAKEY";
pub const COUNTERS_SK: &str = "COUNTERS";
pub const CONTACT_SEQUENCE_SK: &str = "SEQ#CONTACT";

pub fn tag_count_sk(tag: &Tag) -> String {
    format!("TAG#{tag}")
}

/// A contact's item collection: its profile, live state, tag links and search words.
pub fn contact_pk(ws: &WorkspaceId, id: ContactId) -> String {
    format!("WS#{ws}#C#{}", id.padded())
}

/// The workspace a partition key starts with; `None` for the system keys.
pub fn workspace_of(pk: &str) -> Option<WorkspaceId> {
    WorkspaceId::parse(pk.strip_prefix("WS#")?.split('#').next()?).ok()
}

/// The workspace and contact of a contact's partition key ([`contact_pk`]).
pub fn contact_of(pk: &str) -> Option<(WorkspaceId, ContactId)> {
    let (ws, id) = pk.strip_prefix("WS#")?.split_once("#C#")?;
    Some((WorkspaceId::parse(ws).ok()?, ContactId(id.parse().ok()?)))
}

pub fn tag_link_sk(tag: &Tag) -> String {
    format!("TAG#{tag}")
}

pub fn search_sk(word: &str) -> String {
    format!("Q#{word}")
}

/// The word of a search word's sort key ([`search_sk`]).
pub fn search_word_of(sk: &str) -> Option<&str> {
    sk.strip_prefix("Q#")
}

/// A search word's place on GSI1: the word, then newest first (the creation second
/// counted down from the year 2286), then the id.
pub fn search_word_sk(word: &str, created_at: DateTime<Utc>, id: ContactId) -> String {
    format!("{word}#{:010}#{}", 9_999_999_999 - created_at.timestamp().clamp(0, 9_999_999_999), id.padded())
}

/// Sort key of every newest-first listing: creation second, then id.
pub fn list_sk(created_at: DateTime<Utc>, id: ContactId) -> String {
    format!("{}#{}", api_time(created_at), id.padded())
}

pub fn all_contacts_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#CONTACTS")
}

/// Hidden (deleted, restorable) contacts of a workspace on gsi6, by the end of their grace
/// period: the dashboard's trash. The purge finds them across workspaces on gsi3 instead.
pub fn deleted_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#DELETED")
}

/// A hidden contact's place in [`deleted_pk`]: purge time, then id (soonest purge first).
pub fn deleted_sk(purge_after: DateTime<Utc>, id: ContactId) -> String {
    list_sk(purge_after, id)
}

pub fn channel_pk(ws: &WorkspaceId, channel: Channel) -> String {
    format!("WS#{ws}#CH#{channel}")
}

pub fn status_pk(ws: &WorkspaceId, status: LeadStatus) -> String {
    format!("WS#{ws}#ST#{status}")
}

pub fn tag_pk(ws: &WorkspaceId, tag: &Tag) -> String {
    format!("WS#{ws}#TAG#{tag}")
}

/// The collection of search words that begin with `prefix`: phrases (whole names) and phones' reversed
/// digits have their own.
pub fn search_pk(ws: &WorkspaceId, prefix: &str, kind: WordKind) -> String {
    let kind = match kind {
        WordKind::Word => "Q",
        WordKind::Phrase => "QP",
        WordKind::PhoneEnd => "QE",
    };
    format!("WS#{ws}#{kind}#{prefix}")
}

/// Uniqueness guards: one item per email, phone and channel identity in a workspace.
pub fn email_guard_pk(ws: &WorkspaceId, email_key: &str) -> String {
    format!("WS#{ws}#EMAIL#{email_key}")
}

pub fn phone_guard_pk(ws: &WorkspaceId, phone_key: &str) -> String {
    format!("WS#{ws}#PHONE#{phone_key}")
}

pub fn identity_guard_pk(ws: &WorkspaceId, channel: Channel, external_id: &str) -> String {
    format!("WS#{ws}#ID#{channel}#{external_id}")
}

/// API keys are found by the hash of the presented secret, before the workspace is known.
pub fn api_key_pk(hash: &str) -> String {
    format!("APIKEY#{hash}")
}
pub const API_KEY_SK: &str = "APIKEY";

/// A workspace's keys on gsi1, by creation.
pub fn api_keys_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#KEYS")
}

/// Counter attribute names on the workspace's counters item.
pub const TOTAL_ATTR: &str = "contacts";

pub fn channel_count_attr(channel: Channel) -> String {
    format!("channel_{channel}")
}

pub fn status_count_attr(status: LeadStatus) -> String {
    format!("status_{status}")
}

pub fn score_count_attr(score: model::lead::Score) -> String {
    format!("score_{score}")
}

/// Contacts with an email or a phone (the conversion rate's numerator).
pub const REACHABLE_ATTR: &str = "reachable";
/// Contacts with 2+ conversations.
pub const REPEAT_ATTR: &str = "repeat_visitors";
/// Conversations of the contacts counted in `contacts`.
pub const CONTACT_CONVERSATIONS_ATTR: &str = "contact_conversations";
/// Conversations open right now.
pub const OPEN_CONVERSATIONS_ATTR: &str = "open_conversations";

/// Daily activity: one item per workspace and day, with atomic counters.
pub fn snapshots_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#SNAPS")
}

pub fn days_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#DAYS")
}

/// A day's item: the date `at` falls on in the workspace's time zone.
pub fn day_sk(at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d").to_string()
}

/// Contacts by last activity (GSI4, keys only), for re-aging scores and retention.
pub fn activity_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#ACTIVITY")
}

/// Contacts by lead score (GSI5), newest first.
pub fn score_pk(ws: &WorkspaceId, score: model::lead::Score) -> String {
    format!("WS#{ws}#SC#{score}")
}

/// Every workspace, for the scheduled jobs (a system key like the purge shards).
pub const WORKSPACES_PK: &str = "WORKSPACES";

/// Bots: found by id from webhook paths (the id carries the workspace).
pub fn bot_pk(bot: &model::bot::BotId) -> String {
    format!("WS#{}#BOT#{bot}", bot.workspace())
}
pub const BOT_SK: &str = "BOT";

pub fn bots_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#BOTS")
}

/// A conversation's collection: its header and its messages.
pub fn conversation_pk(ws: &WorkspaceId, conversation: &str) -> String {
    format!("WS#{ws}#CONV#{conversation}")
}
pub const CONVERSATION_SK: &str = "CONV";

/// Messages sort by time, then by their sequence (the channel's own order, else the order
/// they arrived in their FIFO group: 39 digits hold any 128-bit SQS sequence number), so
/// messages of the same second keep the order they were sent in; the event hash keeps the
/// rest apart. Lines written before sequences, `MSG#<ms>#<hash>`, still sort by time and
/// read the same.
pub fn message_sk(at: DateTime<Utc>, sequence: Option<u128>, event_hash: &str) -> String {
    format!("MSG#{:013}#{:039}#{event_hash}", at.timestamp_millis().max(0), sequence.unwrap_or(0))
}

/// A contact's conversations, newest first (GSI1).
pub fn contact_conversations_pk(ws: &WorkspaceId, contact: ContactId) -> String {
    format!("WS#{ws}#C#{}#CONVS", contact.padded())
}

pub fn conversation_list_sk(started_at: DateTime<Utc>, conversation: &str) -> String {
    format!("{}#{conversation}", api_time(started_at))
}

/// Live states with open conversations (GSI2), for the idle sweep: a cross-workspace key
/// only the scheduled sweep reads. Every message rewrites its live item's index copy, so
/// the items spread over 32 shards by contact, and sort by workspace and contact, not by
/// time: no shard and no end of a shard takes a workspace's traffic.
pub const OPEN_CONVERSATION_SHARDS: u32 = 32;

pub fn open_conversations_pk(shard: u32) -> String {
    format!("OPENCONV#{shard}")
}

pub fn open_shard(ws: &WorkspaceId, contact: ContactId) -> u32 {
    hash_of(&format!("{ws}#{}", contact.padded())) % OPEN_CONVERSATION_SHARDS
}

pub fn open_conversation_sk(ws: &WorkspaceId, contact: ContactId) -> String {
    format!("{ws}#{}", contact.padded())
}

/// Contacts due for purge are spread over this many shards.
pub const PURGE_SHARDS: u32 = 4;

/// A stable shard for the purge index.
pub fn shard_of(id: &str) -> u32 {
    hash_of(id) % PURGE_SHARDS
}

fn hash_of(id: &str) -> u32 {
    id.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32))
}

/// Soft-deleted contacts by the end of their grace period (GSI3), for the scheduled purge.
/// Cross-workspace like the open-conversation shards: only the purge job reads it.
pub fn purge_pk(shard: u32) -> String {
    format!("PURGE#{shard}")
}

pub fn purge_sk(purge_after: DateTime<Utc>, ws: &WorkspaceId, id: ContactId) -> String {
    format!("{}#{ws}#{}", api_time(purge_after), id.padded())
}

/// Marks an event as captured, in the contact's collection; expires after the channels' retry horizon.
pub fn captured_event_sk(event_hash: &str) -> String {
    format!("EVT#{event_hash}")
}

/// A note on a contact, in its collection; note ids start with their time, so keys sort by it.
pub fn note_sk(id: &str) -> String {
    format!("NOTE#{id}")
}

/// How many notes a contact holds (attribute [`NOTE_COUNT_ATTR`]), kept with each note
/// added, deleted or moved by a merge.
pub const NOTE_COUNT_SK: &str = "NOTES";
pub const NOTE_COUNT_ATTR: &str = "notes";

/// A possible duplicate recorded on a contact: the other contact's id.
pub fn duplicate_sk(other: ContactId) -> String {
    format!("DUP#{}", other.padded())
}

/// The workspace's recorded pairs of possible duplicates (GSI1), for their review: one
/// entry per pair, the record in the partition of the lower id.
pub fn duplicate_pairs_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#DUPS")
}

/// A pair in the review: newest first by when it was first recorded, then by its ids.
pub fn duplicate_pair_sk(recorded_at: DateTime<Utc>, low: ContactId, high: ContactId) -> String {
    format!("{}#{}#{}", api_time(recorded_at), low.padded(), high.padded())
}

/// An export's record; listed newest first under the workspace's exports (GSI1).
pub fn export_pk(ws: &WorkspaceId, export: &str) -> String {
    format!("WS#{ws}#EXPORT#{export}")
}
pub const EXPORT_SK: &str = "EXPORT";

pub fn exports_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#EXPORTS")
}

pub fn export_list_sk(created_at: DateTime<Utc>, export: &str) -> String {
    format!("{}#{export}", api_time(created_at))
}

/// An import's record; listed newest first under the workspace's imports (GSI1). Its
/// partition also holds a marker per row that created or updated a contact and a
/// failure per row that failed (the report's lines).
pub fn import_pk(ws: &WorkspaceId, import: &str) -> String {
    format!("WS#{ws}#IMPORT#{import}")
}
pub const IMPORT_SK: &str = "IMPORT";

pub fn imports_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#IMPORTS")
}

/// A row that created or updated a contact, written in the same transaction.
pub fn import_row_sk(row: u64) -> String {
    format!("ROW#{row:09}")
}

pub const IMPORT_FAILURE_PREFIX: &str = "FAIL#";

/// A row that failed, with the reason.
pub fn import_failure_sk(row: u64) -> String {
    format!("{IMPORT_FAILURE_PREFIX}{row:09}")
}

/// The workspace's secret salt for hashing erased identities.
pub const ERASURE_SALT_SK: &str = "ERASURE_SALT";

/// A salted hash of an identity that was erased: keeps a re-appearing identity opted out.
pub fn erased_identity_pk(ws: &WorkspaceId, hash: &str) -> String {
    format!("WS#{ws}#ERASED#{hash}")
}
pub const ERASED_SK: &str = "ERASED";

/// The receipt of an erasure (no personal data).
pub fn erasure_pk(ws: &WorkspaceId, receipt: &str) -> String {
    format!("WS#{ws}#ERASURE#{receipt}")
}
pub const ERASURE_SK: &str = "RECEIPT";

/// The record of an access request (no personal data).
pub fn access_request_pk(ws: &WorkspaceId, request: &str) -> String {
    format!("WS#{ws}#ACCESS#{request}")
}
pub const ACCESS_REQUEST_SK: &str = "REQUEST";

/// A workspace's audit log (`<RFC 3339 ms>#<id>` sort keys, TTL on `expires_at`).
pub fn audit_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#AUDIT")
}

/// A workspace's people, their email index, one-time links and sign-in failure counts:
/// one small partition per workspace (sign-ins are rare next to its 1,000 WCU/s).
pub fn people_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#PEOPLE")
}
pub const USER_SK_PREFIX: &str = "USER#";
pub fn user_sk(id: &model::people::UserId) -> String {
    format!("{USER_SK_PREFIX}{id}")
}
pub fn user_email_sk(email_key: &str) -> String {
    format!("EMAIL#{email_key}")
}
pub fn link_sk(token_hash: &str) -> String {
    format!("LINK#{token_hash}")
}
pub fn sign_in_failures_sk(subject: &str, window: i64) -> String {
    format!("SIGNIN#{window}#{subject}")
}

/// A dashboard session, by the SHA-256 of its secret; expires through TTL (`expires_at`).
pub fn session_pk(ws: &WorkspaceId, secret_hash: &str) -> String {
    format!("WS#{ws}#SESSION#{secret_hash}")
}
pub const SESSION_SK: &str = "SESSION";

/// A page position that came back from a client (inside a cursor) as a query's start key:
/// exactly the attributes `names`, and every partition key inside the workspace, so a
/// forged cursor can neither read another tenant's items nor upset the query.
pub fn start_key(
    ws: &WorkspaceId,
    position: &Position,
    names: &[&str],
) -> Result<HashMap<String, AttributeValue>, crate::StoreError> {
    let prefix = workspace_prefix(ws);
    let fits = position.len() == names.len()
        && names.iter().all(|n| position.get(*n).is_some_and(|v| !n.ends_with("pk") || v.starts_with(&prefix)));
    if !fits {
        return Err(crate::StoreError::BadCursor);
    }
    Ok(position.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect())
}

/// The position a client may hand back: a key's string attributes.
pub fn position_of(key: &HashMap<String, AttributeValue>) -> Position {
    key.iter().filter_map(|(n, v)| v.as_s().ok().map(|v| (n.clone(), v.clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_one_second_sort_by_sequence() {
        let at: DateTime<Utc> = "2025-08-22T05:02:29Z".parse().unwrap();
        let first = message_sk(at, Some(41), "ffffffffffff");
        let second = message_sk(at, Some(42), "000000000000");
        let sqs = message_sk(at, Some(18_874_297_537_186_166_784), "000000000000");
        assert!(first < second && second < sqs, "{first} {second} {sqs}");
        assert!(message_sk(at, Some(u128::MAX), "0").len() == first.len() - 11);
        let later = message_sk(at + chrono::Duration::milliseconds(1), None, "000000000000");
        assert!(sqs < later);
        // A line of the old layout sorts among them by its time.
        let old = format!("MSG#{:013}#{}", at.timestamp_millis() + 1, "0a0a0a0a0a0a");
        assert!(sqs < old && old > later);
    }

    #[test]
    fn positions_from_cursors_stay_inside_the_workspace_and_the_query_keys() {
        let ws = WorkspaceId::parse("acme").unwrap();
        let position = |pk: &str| Position::from([("pk".to_string(), pk.to_string()), ("sk".into(), "PROFILE".into())]);
        assert!(start_key(&ws, &position("WS#acme#C#000000000001"), &["pk", "sk"]).is_ok());
        let forged = position("WS#evil#C#000000000001");
        assert!(matches!(start_key(&ws, &forged, &["pk", "sk"]), Err(crate::StoreError::BadCursor)));
        let other_index = position("WS#acme#C#000000000001");
        assert!(start_key(&ws, &other_index, &["pk", "sk", "gsi1pk", "gsi1sk"]).is_err());
    }
}
