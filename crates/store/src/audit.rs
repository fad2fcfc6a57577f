//! The audit log: one partition per workspace, `WS#<ws>#AUDIT`, sorted by time
//! (`<RFC 3339 ms>#<id>`), each entry removed by TTL after the retention period. Reading
//! is one Query over a time range, newest first; an actor or action filter is a
//! FilterExpression, billed on the items read before it.

use super::keys;
use super::table::{get_n, get_s, key, n, s, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use model::audit::{AuditActor, AuditEntry, AuditFilter};
use model::domain::WorkspaceId;
use model::listing::Position;

/// Queries one page of the log may make to fill it when a filter skips items.
const MAX_QUERIES_PER_PAGE: usize = 5;

fn sort_key(at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

impl Store {
    /// Records a change, kept until `expires_at`.
    pub async fn put_audit_entry(&self, entry: &AuditEntry, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let mut item = key(keys::audit_pk(&entry.workspace_id), sort_key(entry.at, &entry.id));
        item.extend([
            ("entity".to_string(), s("audit")),
            ("id".to_string(), s(&entry.id)),
            ("actor_id".to_string(), s(entry.actor.id())),
            ("actor_name".to_string(), s(entry.actor.name())),
            ("action".to_string(), s(&entry.action)),
            ("status".to_string(), n(entry.status)),
            ("expires_at".to_string(), n(expires_at.timestamp())),
        ]);
        for (name, list) in [("targets", &entry.targets), ("fields", &entry.fields)] {
            if !list.is_empty() {
                item.insert(name.to_string(), AttributeValue::L(list.iter().map(s).collect()));
            }
        }
        self.put_one(item, false).await.map(|_| ())
    }

    /// Up to `limit` entries matching `filter`, newest first, after `after`; and where the
    /// next page starts, if anything may follow.
    pub async fn list_audit(
        &self,
        ws: &WorkspaceId,
        filter: &AuditFilter,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<AuditEntry>, Option<Position>)> {
        let mut query = QuerySpec::partition(keys::audit_pk(ws), "");
        query.newest_first = true;
        let from = filter.from.map_or_else(|| "0".to_string(), |t| sort_key(t, ""));
        // `~` sorts after every digit and `#`: the whole last millisecond is inside.
        let to = filter.to.map_or_else(|| "9".to_string(), |t| format!("{}~", sort_key(t, "")));
        query.key_condition.push_str(" AND sk BETWEEN :from AND :to");
        query.values.insert(":from".into(), s(from));
        query.values.insert(":to".into(), s(to));
        let mut conditions = Vec::new();
        if let Some(actor) = &filter.actor {
            conditions.push("actor_id = :actor");
            query.values.insert(":actor".into(), s(actor));
        }
        if let Some(action) = &filter.action {
            conditions.push("contains(#action, :action)");
            query.names.insert("#action".into(), "action".into());
            query.values.insert(":action".into(), s(action));
        }
        query.filter = (!conditions.is_empty()).then(|| conditions.join(" AND "));
        let mut start = after.map(|p| keys::start_key(ws, &p, &["pk", "sk"])).transpose()?;
        let mut entries = Vec::new();
        for _ in 0..MAX_QUERIES_PER_PAGE {
            let (items, next) = self.query_page(&query, start, limit as i32).await?;
            for (i, item) in items.iter().enumerate() {
                entries.push(entry_of(ws, item)?);
                if entries.len() == limit as usize {
                    if i + 1 == items.len() && next.is_none() {
                        return Ok((entries, None));
                    }
                    // Cut here: the next page starts after this very item.
                    let position = keys::position_of(&key(keys::audit_pk(ws), get_s(item, "sk").unwrap_or_default()));
                    return Ok((entries, Some(position)));
                }
            }
            match next {
                Some(k) => start = Some(k),
                None => return Ok((entries, None)),
            }
        }
        Ok((entries, start.map(|k| keys::position_of(&k))))
    }
}

fn entry_of(ws: &WorkspaceId, item: &Item) -> StoreResult<AuditEntry> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("audit item lacks {what}"));
    let sk = get_s(item, "sk").ok_or_else(|| corrupt("sk"))?;
    let at = sk.split('#').next().and_then(|t| t.parse::<DateTime<Utc>>().ok()).ok_or_else(|| corrupt("time"))?;
    let list = |name: &str| -> Vec<String> {
        item.get(name)
            .and_then(|v| v.as_l().ok())
            .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
            .unwrap_or_default()
    };
    let actor_id = get_s(item, "actor_id").ok_or_else(|| corrupt("actor"))?;
    let name = get_s(item, "actor_name").unwrap_or_default().to_string();
    let actor = AuditActor::from_id(actor_id, name);
    Ok(AuditEntry {
        id: get_s(item, "id").unwrap_or_default().to_string(),
        workspace_id: ws.clone(),
        at,
        actor,
        action: get_s(item, "action").ok_or_else(|| corrupt("action"))?.to_string(),
        targets: list("targets"),
        fields: list("fields"),
        status: get_n(item, "status").unwrap_or(0).try_into().unwrap_or(0),
    })
}
