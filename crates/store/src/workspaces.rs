//! Workspaces, their API keys, counters and the contact id sequence.

use super::keys::{self, CONTACT_SEQUENCE_SK, COUNTERS_SK, WORKSPACE_SK};
use super::table::{get_n, get_s, key, n, s, After, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, ReturnValue};
use model::domain::{Channel, ContactId, LeadStatus, Tag, WorkspaceId};
use model::listing::TotalCounter;
use model::workspace::{Counters, Workspace, DEFAULT_DELETION_GRACE_DAYS};

impl Store {
    pub async fn put_workspace(&self, workspace: &Workspace) -> StoreResult<()> {
        let mut item = key(keys::meta_pk(&workspace.id), WORKSPACE_SK);
        item.insert("entity".into(), s("workspace"));
        item.insert("workspace_id".into(), s(workspace.id.as_str()));
        item.insert("name".into(), s(&workspace.name));
        if let Some(region) = workspace.default_region {
            item.insert("default_region".into(), s(region.code()));
        }
        item.insert("deletion_grace_days".into(), n(workspace.deletion_grace_days));
        item.insert("time_zone".into(), s(workspace.time_zone.name()));
        let rules = &workspace.lead_rules;
        item.insert("follow_up_after_days".into(), n(rules.policy.follow_up_after_days));
        item.insert("archive_after_days".into(), n(rules.policy.archive_after_days));
        if rules.phrases != model::lead::default_phrases() {
            item.insert("intent_phrases".into(), s(serde_json::to_string(&rules.phrases).expect("phrases serialize")));
        }
        // Listed for the scheduled jobs that go through every workspace.
        item.insert(keys::GSI1.pk.into(), s(keys::WORKSPACES_PK));
        item.insert(keys::GSI1.sk.into(), s(workspace.id.as_str()));
        self.put_plain(item).await
    }

    pub async fn get_workspace(&self, id: &WorkspaceId) -> StoreResult<Option<Workspace>> {
        let Some(item) = self.get_item(key(keys::meta_pk(id), WORKSPACE_SK), false).await? else {
            return Ok(None);
        };
        Ok(Some(Workspace {
            id: id.clone(),
            name: get_s(&item, "name").unwrap_or_default().to_string(),
            default_region: get_s(&item, "default_region").and_then(|r| r.parse().ok()),
            deletion_grace_days: get_n(&item, "deletion_grace_days")
                .map_or(DEFAULT_DELETION_GRACE_DAYS, |d| d.clamp(0, 3650) as u32),
            lead_rules: model::lead::LeadRules {
                policy: model::lead::LeadPolicy {
                    follow_up_after_days: get_n(&item, "follow_up_after_days")
                        .unwrap_or(model::lead::LeadPolicy::default().follow_up_after_days),
                    archive_after_days: get_n(&item, "archive_after_days")
                        .unwrap_or(model::lead::LeadPolicy::default().archive_after_days),
                },
                phrases: get_s(&item, "intent_phrases")
                    .and_then(|p| serde_json::from_str(p).ok())
                    .unwrap_or_else(model::lead::default_phrases),
            },
            // Workspaces written before the setting existed, or with a name a newer database
            // renamed away, count in UTC.
            time_zone: get_s(&item, "time_zone")
                .and_then(|z| model::workspace::parse_time_zone(z).ok())
                .unwrap_or(model::workspace::Tz::UTC),
        }))
    }

    /// The next contact id, from a block of ids this execution environment reserved with one
    /// atomic increment of the workspace's sequence: ids are never handed out twice, and
    /// the sequence item is written once per block, not once per contact. A block is twice
    /// the last (up to 64), so a quiet workspace's ids stay consecutive and a busy one's
    /// sequence is written rarely; ids left in a block when the environment ends are gaps.
    pub async fn allocate_contact_id(&self, ws: &WorkspaceId) -> StoreResult<ContactId> {
        let size = match self.id_blocks.take(ws) {
            Ok(id) => return Ok(id),
            Err(next_size) => next_size,
        };
        let last = self.advance_contact_sequence(ws, size).await?;
        Ok(self.id_blocks.keep(ws, last + 1 - size..=last))
    }

    /// Moves the workspace's id sequence on by `count`; returns the last id handed out.
    pub(crate) async fn advance_contact_sequence(&self, ws: &WorkspaceId, count: u64) -> StoreResult<u64> {
        let sequence = key(keys::meta_pk(ws), CONTACT_SEQUENCE_SK);
        let before = self.image(&sequence).await;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(sequence.clone()))
            .update_expression("ADD next_id :count")
            .expression_attribute_values(":count", n(count))
            .return_values(ReturnValue::UpdatedNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(crate::aws_error)?;
        self.record_write("UpdateItem", &sequence, before, After::ReadBack, out.consumed_capacity.as_ref()).await;
        let next = out.attributes.as_ref().and_then(|a| get_n(a, "next_id"));
        match next {
            Some(last) if last >= count as i64 => Ok(last as u64),
            _ => Err(StoreError::Corrupt("contact sequence returned no id".into())),
        }
    }

    pub async fn counters(&self, ws: &WorkspaceId) -> StoreResult<Counters> {
        let item = self.get_item(key(keys::meta_pk(ws), COUNTERS_SK), false).await?.unwrap_or_default();
        Ok(counters_from(&item))
    }

    /// The exact total behind a list filter that has a counter: one GetItem.
    pub async fn total(&self, ws: &WorkspaceId, counter: &TotalCounter) -> StoreResult<u64> {
        let (sk, attr) = match counter {
            TotalCounter::All => (COUNTERS_SK.to_string(), keys::TOTAL_ATTR.to_string()),
            TotalCounter::Channel(c) => (COUNTERS_SK.to_string(), keys::channel_count_attr(*c)),
            TotalCounter::Status(st) => (COUNTERS_SK.to_string(), keys::status_count_attr(*st)),
            TotalCounter::Score(sc) => (COUNTERS_SK.to_string(), keys::score_count_attr(*sc)),
            TotalCounter::Tag(t) => (keys::tag_count_sk(t), "count".to_string()),
        };
        let item = self.get_item(key(keys::meta_pk(ws), sk), false).await?.unwrap_or_default();
        Ok(get_n(&item, &attr).unwrap_or(0).max(0) as u64)
    }

    /// Tags in use, with how many contacts carry each.
    pub async fn tag_counts(&self, ws: &WorkspaceId) -> StoreResult<Vec<(Tag, u64)>> {
        let items = self.query_all(&QuerySpec::partition(keys::meta_pk(ws), "TAG#"), 500).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let count = get_n(item, "count").filter(|c| *c > 0)?;
                let tag = get_s(item, "sk").and_then(|sk| sk.strip_prefix("TAG#")).and_then(|t| Tag::parse(t).ok())?;
                Some((tag, count as u64))
            })
            .collect())
    }

    /// Every workspace (for scheduled jobs).
    pub async fn list_workspaces(&self) -> StoreResult<Vec<WorkspaceId>> {
        let items = self.query_all(&QuerySpec::index(keys::GSI1, keys::WORKSPACES_PK), 500).await?;
        // From the key: the index may project keys only.
        Ok(items.iter().filter_map(|i| keys::workspace_of(get_s(i, "pk")?)).collect())
    }

    async fn put_plain(&self, item: Item) -> StoreResult<()> {
        self.put_one(item, false).await.map(|_| ())
    }
}

fn counters_from(item: &Item) -> Counters {
    let count = |attr: &str| get_n(item, attr).unwrap_or(0).max(0) as u64;
    Counters {
        total: count(keys::TOTAL_ATTR),
        channels: Channel::ALL.into_iter().map(|c| (c, count(&keys::channel_count_attr(c)))).collect(),
        statuses: LeadStatus::ALL.into_iter().map(|st| (st.as_str(), count(&keys::status_count_attr(st)))).collect(),
        scores: model::lead::Score::ALL
            .into_iter()
            .map(|sc| (sc.as_str(), count(&keys::score_count_attr(sc))))
            .collect(),
        reachable: count(keys::REACHABLE_ATTR),
        repeat_visitors: count(keys::REPEAT_ATTR),
        contact_conversations: count(keys::CONTACT_CONVERSATIONS_ATTR),
        open_conversations: count(keys::OPEN_CONVERSATIONS_ATTR),
    }
}
