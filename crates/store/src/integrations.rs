//! Integrations (CRM sync, outbound webhooks) and each contact's sync state.
//!
//! - An integration: `WS#<ws>#INTEG` / `INTEG#<id>`, its settings as JSON, its credentials
//!   sealed (AES-256-GCM under the workspace's data key, `sealed.rs`, bound to the
//!   workspace and id) and its delivery
//!   counters. A workspace's integrations are one Query of one small partition.
//! - A contact's state in each integration: `WS#<ws>#C#<id>#SYNC` / `<integration id>`
//!   (beside its change-feed item, `changes.rs`),
//!   the vendor's id, when it last arrived, its last refusal. Its own partition per contact
//!   (no hot item in a backfill), outside the contact's collection: the purge of an erased
//!   contact leaves the vendor's id for the sync worker, which deletes the vendor's record
//!   and then the state. States of a deleted integration stay behind (no personal data,
//!   a few bytes) and are not shown.

use super::table::{get_n, get_s, key, n, s, Condition, Item, QuerySpec};
use super::{Store, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use chrono::{DateTime, Utc};
use model::domain::{ContactId, WorkspaceId};
use model::integration::{ContactSync, Credentials, Health, Integration, SyncError};
use model::listing::api_time;
use std::collections::HashMap;

fn integrations_pk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}#INTEG")
}

fn integration_key(ws: &WorkspaceId, id: &str) -> Item {
    key(integrations_pk(ws), format!("INTEG#{id}"))
}

fn sync_key(ws: &WorkspaceId, contact: ContactId, integration: &str) -> Item {
    key(format!("WS#{ws}#C#{}#SYNC", contact.padded()), integration)
}

/// What credentials are sealed for: they open for this integration only.
fn owner(ws: &WorkspaceId, id: &str) -> String {
    format!("integration:{ws}:{id}")
}

const SEALED: &str = "sealed";

/// An integration with what the sync worker needs to send.
#[derive(Debug, Clone)]
pub struct StoredIntegration {
    pub integration: Integration,
    pub health: Health,
    pub credentials: Credentials,
}

impl Store {
    /// Writes an integration's settings and credentials; `create` refuses an existing id,
    /// otherwise it must exist (its counters are kept).
    pub async fn put_integration(
        &self,
        ws: &WorkspaceId,
        integration: &Integration,
        credentials: &Credentials,
        create: bool,
    ) -> StoreResult<()> {
        let sealed = self.seal_credentials(ws, &integration.id, credentials).await?;
        let settings = serde_json::to_string(integration).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if create {
            let mut item = integration_key(ws, &integration.id);
            item.extend([
                ("entity".to_string(), s("integration")),
                ("settings".to_string(), s(settings)),
                (SEALED.to_string(), s(sealed)),
            ]);
            return match self.put_if(item, Some(Condition::absent())).await? {
                true => Ok(()),
                false => Err(StoreError::Corrupt("integration id collision".into())),
            };
        }
        let values = Item::from([(":settings".to_string(), s(settings)), (":sealed".to_string(), s(sealed))]);
        let updated = self
            .update_existing(
                integration_key(ws, &integration.id),
                "SET settings = :settings, sealed = :sealed",
                HashMap::new(),
                values,
            )
            .await?;
        updated.then_some(()).ok_or(StoreError::NotFound)
    }

    pub async fn get_integration(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<StoredIntegration>> {
        match self.get_item(integration_key(ws, id), true).await? {
            Some(item) => self.integration_from(ws, &item).await.map(Some),
            None => Ok(None),
        }
    }

    /// The workspace's integrations, oldest first (ids are time-ordered).
    pub async fn list_integrations(&self, ws: &WorkspaceId) -> StoreResult<Vec<StoredIntegration>> {
        let mut integrations = Vec::new();
        for item in self.query_all(&QuerySpec::partition(integrations_pk(ws), "INTEG#"), 100).await? {
            integrations.push(self.integration_from(ws, &item).await?);
        }
        Ok(integrations)
    }

    /// The workspace's integrations' settings only, without opening their credentials (the
    /// fan-out needs no secret).
    pub async fn integration_settings(&self, ws: &WorkspaceId) -> StoreResult<Vec<Integration>> {
        let items = self.query_all(&QuerySpec::partition(integrations_pk(ws), "INTEG#"), 100).await?;
        items.iter().map(settings_from).collect()
    }

    pub async fn delete_integration(&self, ws: &WorkspaceId, id: &str) -> StoreResult<()> {
        let exists = Condition { expression: "attribute_exists(pk)", values: None };
        match self.transact(&[self.tx_delete((), integration_key(ws, id), Some(exists))]).await {
            Ok(()) => Ok(()),
            Err(super::table::TxFailure::Conditions(_)) => Err(StoreError::NotFound),
            Err(super::table::TxFailure::Other(e)) => Err(e),
        }
    }

    /// Keeps the access token a vendor's token endpoint gave, sealed like the rest.
    pub async fn save_credentials(&self, ws: &WorkspaceId, id: &str, credentials: &Credentials) -> StoreResult<()> {
        let values = Item::from([(":sealed".to_string(), s(self.seal_credentials(ws, id, credentials).await?))]);
        self.update_existing(integration_key(ws, id), "SET sealed = :sealed", HashMap::new(), values).await?;
        Ok(())
    }

    /// Counts one delivery's outcome: `synced` contacts arrived, `failed` were refused;
    /// `error` is the vendor's refusal, if any. A delivery with nothing arrived and an
    /// error counts towards `failing`; one where something arrived ends such a run. The
    /// last error stays shown (with its time) until a later one replaces it.
    pub async fn record_delivery(
        &self,
        ws: &WorkspaceId,
        id: &str,
        synced: u64,
        failed: u64,
        error: Option<&SyncError>,
    ) -> StoreResult<()> {
        let mut sets = Vec::new();
        let mut values = Item::from([(":synced".to_string(), n(synced)), (":failed".to_string(), n(failed))]);
        if synced > 0 {
            sets.push("consecutive_failures = :zero");
            sets.push("last_success_at = :now");
            values.insert(":zero".into(), n(0));
            values.insert(":now".into(), s(api_time(Utc::now())));
        }
        let mut expression = "ADD synced :synced, failed :failed".to_string();
        if let Some(error) = error {
            sets.push("last_error = :error");
            values.insert(
                ":error".into(),
                s(serde_json::to_string(error).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            );
            if synced == 0 {
                expression.push_str(", consecutive_failures :one");
                values.insert(":one".into(), n(1));
            }
        }
        if !sets.is_empty() {
            expression = format!("SET {} {expression}", sets.join(", "));
        }
        self.update_existing(integration_key(ws, id), &expression, HashMap::new(), values).await?;
        Ok(())
    }

    /// A contact's state in every integration that has synced it.
    pub async fn contact_syncs(&self, ws: &WorkspaceId, contact: ContactId) -> StoreResult<Vec<ContactSync>> {
        let pk = format!("WS#{ws}#C#{}#SYNC", contact.padded());
        // Integration ids start `int_`; the partition also holds the contact's change-feed item.
        let items = self.query_all(&QuerySpec::partition(pk, "int_"), 100).await?;
        items.iter().map(sync_from).collect()
    }

    /// A contact's states in the integrations that still exist, with them (the states of a
    /// deleted integration stay behind); the integrations are read only when it has states.
    pub async fn contact_integrations(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
    ) -> StoreResult<Vec<(Integration, ContactSync)>> {
        let states = self.contact_syncs(ws, contact).await?;
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let integrations = self.integration_settings(ws).await?;
        Ok(states
            .into_iter()
            .filter_map(|s| Some((integrations.iter().find(|i| i.id == s.integration)?.clone(), s)))
            .collect())
    }

    /// Several contacts' states in one integration (BatchGetItem).
    pub async fn syncs_in(
        &self,
        ws: &WorkspaceId,
        integration: &str,
        contacts: &[ContactId],
    ) -> StoreResult<HashMap<ContactId, ContactSync>> {
        let keys = contacts.iter().map(|c| sync_key(ws, *c, integration)).collect();
        let mut found = HashMap::new();
        for item in self.batch_get(keys, false).await? {
            let contact = get_n(&item, "contact_id").map(|c| ContactId(c as u64));
            if let Some(contact) = contact {
                found.insert(contact, sync_from(&item)?);
            }
        }
        Ok(found)
    }

    /// Writes contacts' states in one integration (BatchWriteItem, 25 a call).
    pub async fn put_syncs(&self, ws: &WorkspaceId, states: &[(ContactId, ContactSync)]) -> StoreResult<()> {
        let requests = states
            .iter()
            .map(|(contact, state)| {
                let mut item = sync_key(ws, *contact, &state.integration);
                item.insert("entity".into(), s("contact_sync"));
                item.insert("contact_id".into(), n(contact.0));
                if let Some(id) = &state.remote_id {
                    item.insert("remote_id".into(), s(id));
                }
                if let Some(at) = state.synced_at {
                    item.insert("synced_at".into(), s(api_time(at)));
                }
                if let Some(error) = &state.last_error {
                    item.insert("last_error".into(), s(serde_json::to_string(error).unwrap_or_default()));
                }
                let put = PutRequest::builder().set_item(Some(item)).build().expect("item set");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        self.batch_write(requests).await
    }

    /// Forgets contacts' states in one integration (after their vendor records went).
    pub async fn delete_syncs(&self, ws: &WorkspaceId, integration: &str, contacts: &[ContactId]) -> StoreResult<()> {
        self.batch_delete(contacts.iter().map(|c| sync_key(ws, *c, integration)).collect()).await
    }

    async fn seal_credentials(&self, ws: &WorkspaceId, id: &str, credentials: &Credentials) -> StoreResult<String> {
        let plain = serde_json::to_vec(credentials).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.seal(ws, &plain, &owner(ws, id)).await
    }

    async fn integration_from(&self, ws: &WorkspaceId, item: &Item) -> StoreResult<StoredIntegration> {
        let corrupt = |what: String| StoreError::Corrupt(format!("integration: {what}"));
        let integration = settings_from(item)?;
        let sealed = get_s(item, SEALED).ok_or_else(|| corrupt("no credentials".into()))?;
        let plain = self.open(ws, sealed, &owner(ws, &integration.id)).await?;
        let credentials = serde_json::from_slice(&plain).map_err(|e| corrupt(e.to_string()))?;
        let time = |name: &str| get_s(item, name).and_then(|t| t.parse::<DateTime<Utc>>().ok());
        let health = Health {
            synced: get_n(item, "synced").unwrap_or(0) as u64,
            failed: get_n(item, "failed").unwrap_or(0) as u64,
            consecutive_failures: get_n(item, "consecutive_failures").unwrap_or(0) as u32,
            last_success_at: time("last_success_at"),
            last_error: get_s(item, "last_error").and_then(|e| serde_json::from_str(e).ok()),
        };
        Ok(StoredIntegration { integration, health, credentials })
    }
}

fn settings_from(item: &Item) -> StoreResult<Integration> {
    let settings = get_s(item, "settings").ok_or_else(|| StoreError::Corrupt("integration: no settings".into()))?;
    serde_json::from_str(settings).map_err(|e| StoreError::Corrupt(format!("integration: {e}")))
}

fn sync_from(item: &Item) -> StoreResult<ContactSync> {
    Ok(ContactSync {
        integration: get_s(item, "sk").ok_or_else(|| StoreError::Corrupt("sync state without key".into()))?.to_string(),
        remote_id: get_s(item, "remote_id").map(str::to_string),
        synced_at: get_s(item, "synced_at").and_then(|t| t.parse().ok()),
        last_error: get_s(item, "last_error").and_then(|e| serde_json::from_str(e).ok()),
    })
}
