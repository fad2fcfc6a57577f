//! One integration's share of a batch, for a CRM: the latest change of each contact decides
//! what is sent. Contacts created or updated are upserted as they are now (several changes
//! of one contact make one record); contacts deleted, merged away or erased leave the CRM.
//! Opted-out contacts are never pushed; one the CRM already holds gets its opt-out flag.

use super::http::CallError;
use super::message::SyncMessage;
use super::session::{Outbound, Session};
use super::{hubspot, salesforce, zoho, Outcome};
use chrono::Utc;
use model::contact::{Contact, ARCHIVED_MOVED_TO_CRM};
use model::domain::{ContactId, LeadStatus};
use model::integration::event::ContactEvent;
use model::integration::fields::{self, Field};
use model::integration::{ContactSync, Kind, SyncError};
use std::collections::BTreeMap;
use store::StoreError;

/// What each contact of the group came to, by contact.
pub async fn sync(
    session: &mut Session<'_>,
    messages: &[SyncMessage],
) -> Result<BTreeMap<ContactId, Outcome>, StoreError> {
    let mut latest: BTreeMap<ContactId, &SyncMessage> = BTreeMap::new();
    for m in messages {
        let keep = latest.get(&m.contact).is_none_or(|seen| seen.occurred_at <= m.occurred_at);
        if keep {
            latest.insert(m.contact, m);
        }
    }
    let ids: Vec<ContactId> = latest.keys().copied().collect();
    let states = session.store.syncs_in(session.workspace, &session.integration.id, &ids).await?;
    let (removed, upserted): (Vec<ContactId>, Vec<ContactId>) = ids.iter().partition(|id| latest[*id].event.removes());
    let mut outcomes = BTreeMap::new();
    upsert(session, &upserted, &states, &mut outcomes).await?;
    remove(session, &removed, &latest, &states, &mut outcomes).await?;
    Ok(outcomes)
}

async fn upsert(
    session: &mut Session<'_>,
    ids: &[ContactId],
    states: &std::collections::HashMap<ContactId, ContactSync>,
    outcomes: &mut BTreeMap<ContactId, Outcome>,
) -> Result<(), StoreError> {
    let kind = session.integration.target.kind();
    let mut sending = Vec::new();
    let mut records = Vec::new();
    for id in ids {
        let contact = session.store.get_contact(session.workspace, *id).await?;
        // Gone or hidden since: its removal is (or was) a message of its own.
        let Some(contact) = contact.filter(|c| c.is_visible()) else {
            outcomes.insert(*id, Outcome::Skipped);
            continue;
        };
        let synced_before = states.get(id).and_then(|s| s.remote_id.as_ref()).is_some();
        if !session.takes(&contact) || (contact.consent.opted_out() && !synced_before) {
            outcomes.insert(*id, Outcome::Skipped);
            continue;
        }
        let fields = fields::record(&contact, &session.integration.field_map, kind, !synced_before);
        let email = session.integration.field_map.get(&Field::Email).and_then(|name| fields.get(name));
        records.push(Outbound {
            email: email.and_then(|e| e.as_str()).map(str::to_string),
            contact_id: contact.id.0.to_string(),
            fields,
            synced_before,
        });
        sending.push(contact);
    }
    if records.is_empty() {
        return Ok(());
    }
    let answer = match kind {
        Kind::Hubspot => hubspot::upsert(session, &records).await,
        Kind::Salesforce => salesforce::upsert(session, &records).await,
        Kind::Zoho => zoho::upsert(session, &records).await,
        Kind::Webhook => unreachable!("webhooks are delivered one by one"),
    };
    let now = Utc::now();
    let mut written = Vec::new();
    let mut arrived = Vec::new();
    match answer {
        Ok(results) => {
            for (contact, result) in sending.iter().zip(results) {
                let id = &contact.id;
                // Moved to the CRM on its first arrival; a person's later status change sticks.
                if result.is_ok() && states.get(id).and_then(|s| s.remote_id.as_ref()).is_none() {
                    arrived.push(contact);
                }
                let previous = states.get(id);
                let state = match &result {
                    Ok(remote) => ContactSync {
                        integration: session.integration.id.clone(),
                        remote_id: Some(remote.clone()),
                        synced_at: Some(now),
                        last_error: None,
                    },
                    Err(error) => with_error(&session.integration.id, previous, error.clone()),
                };
                written.push((*id, state));
                outcomes.insert(*id, result.map(|_| Outcome::Done).unwrap_or_else(Outcome::Rejected));
            }
        }
        Err(e) => {
            for id in sending.iter().map(|c| &c.id) {
                if let CallError::Refused(error) = &e {
                    written.push((*id, with_error(&session.integration.id, states.get(id), error.clone())));
                }
                outcomes.insert(*id, Outcome::from_call(e.clone()));
            }
        }
    }
    session.store.put_syncs(session.workspace, &written).await?;
    if session.integration.archive_after_sync {
        archive(session, &arrived).await?;
    }
    Ok(())
}

/// The product's "Moved to CRM": contacts the CRM took for the first time are archived here,
/// by the integration (the status sticks as a person's would, until a person changes it).
async fn archive(session: &Session<'_>, contacts: &[&Contact]) -> Result<(), StoreError> {
    for current in contacts.iter().filter(|c| c.archived_reason.as_deref() != Some(ARCHIVED_MOVED_TO_CRM)) {
        let mut next = (*current).clone();
        next.status = LeadStatus::Archived;
        next.status_manual = true;
        next.archived_reason = Some(ARCHIVED_MOVED_TO_CRM.to_string());
        next.version += 1;
        match session.store.replace_contact(session.workspace, current, &next).await {
            // Changed meanwhile: its change comes back through the stream and is archived then.
            Err(StoreError::VersionMismatch { .. }) | Err(StoreError::NotFound) => {}
            other => other?,
        }
    }
    Ok(())
}

async fn remove(
    session: &mut Session<'_>,
    ids: &[ContactId],
    latest: &BTreeMap<ContactId, &SyncMessage>,
    states: &std::collections::HashMap<ContactId, ContactSync>,
    outcomes: &mut BTreeMap<ContactId, Outcome>,
) -> Result<(), StoreError> {
    let kind = session.integration.target.kind();
    let (mut erased, mut archived) = (Vec::new(), Vec::new());
    for id in ids {
        match states.get(id).and_then(|s| s.remote_id.clone()) {
            // Never arrived: nothing to take back.
            None => {
                outcomes.insert(*id, Outcome::Skipped);
            }
            Some(remote) if latest[id].event == ContactEvent::Erased => erased.push((*id, remote)),
            Some(remote) => archived.push((*id, remote)),
        }
    }
    for (group, erase) in [(erased, true), (archived, false)] {
        if group.is_empty() {
            continue;
        }
        let remote: Vec<String> = group.iter().map(|(_, r)| r.clone()).collect();
        let result: Result<(), CallError> = match (kind, erase) {
            (Kind::Hubspot, true) => hubspot::gdpr_delete(session, &remote).await,
            (Kind::Hubspot, false) => hubspot::archive(session, &remote).await,
            (Kind::Salesforce, _) => salesforce::delete(session, &remote).await,
            (Kind::Zoho, _) => zoho::delete(session, &remote).await,
            (Kind::Webhook, _) => unreachable!("webhooks are delivered one by one"),
        };
        let ids: Vec<ContactId> = group.iter().map(|(id, _)| *id).collect();
        match result {
            Ok(()) => {
                // A deleted or merged-away contact keeps the vendor's id: its erasure
                // (after the deletion it starts with) still finds the record to erase.
                if erase {
                    session.store.delete_syncs(session.workspace, &session.integration.id, &ids).await?;
                }
                outcomes.extend(ids.into_iter().map(|id| (id, Outcome::Done)));
            }
            Err(e) => outcomes.extend(ids.into_iter().map(|id| (id, Outcome::from_call(e.clone())))),
        }
    }
    Ok(())
}

/// A contact's state after a refusal: what it had, and the vendor's reason.
pub fn with_error(integration: &str, previous: Option<&ContactSync>, error: SyncError) -> ContactSync {
    ContactSync {
        integration: integration.to_string(),
        remote_id: previous.and_then(|p| p.remote_id.clone()),
        synced_at: previous.and_then(|p| p.synced_at),
        last_error: Some(error),
    }
}
