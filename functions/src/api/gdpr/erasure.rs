//! `POST /api/v1/gdpr/erasure` (admin): erases a person named by email, phone, channel
//! identity or contact id. The contact is purged at once (no grace period), every export
//! whose file may hold it is cancelled and deleted with its file, and what remains is a
//! receipt without personal data plus salted hashes of the person's identities, which
//! keep them opted out if they come back through a channel.

use crate::api::exports::ExportSettings;
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use chrono::{SubsecRound, Utc};
use lambda_http::Request;
use model::auth::Scope;
use model::contact::Contact;
use model::domain::{Channel, ContactId, Email, Phone, WorkspaceId};
use model::gdpr::identities_of;
use model::gdpr::ErasureReceipt;
use model::gdpr::Subject;
use serde::Deserialize;
use store::{Store, StoreError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErasureBody {
    email: Option<String>,
    phone: Option<String>,
    channel: Option<String>,
    external_id: Option<String>,
    contact_id: Option<u64>,
}

impl ErasureBody {
    fn subject(self, region: Option<model::domain::Region>) -> Result<Subject, Problem> {
        fn invalid(field: &'static str) -> impl Fn(model::domain::InvalidValue) -> Problem {
            move |e| Problem::invalid_field(field, e.0)
        }
        match (self.email, self.phone, self.channel, self.external_id, self.contact_id) {
            (Some(e), None, None, None, None) => Ok(Subject::Email(Email::parse(&e).map_err(invalid("email"))?)),
            (None, Some(p), None, None, None) => {
                Ok(Subject::Phone(Phone::parse(&p, region).map_err(invalid("phone"))?))
            }
            (None, None, Some(c), Some(id), None) if !id.trim().is_empty() => {
                let channel: Channel = c
                    .parse()
                    .map_err(|e: model::domain::UnknownChannel| Problem::invalid_field("channel", e.to_string()))?;
                Ok(Subject::Identity(channel, id.trim().to_string()))
            }
            (None, None, None, None, Some(id)) => {
                Ok(Subject::Contact(id.to_string().parse::<ContactId>().map_err(invalid("contact_id"))?))
            }
            _ => Err(Problem::bad_request(
                "name the person by exactly one of: email, phone, channel with external_id, or contact_id",
            )),
        }
    }
}

pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let settings = ExportSettings::from(api)?;
    let ws = &caller.workspace.id;
    let subject = request::json_body::<ErasureBody>(&req)?.subject(caller.workspace.default_region)?;
    let receipt = erase(&api.store, settings, ws, &subject, &caller.key.name).await?;
    Ok(json(200, &receipt_view(&receipt)))
}

/// Erases a person (the dashboard's erase button comes here too): exports that may hold
/// them, then the purge, then the receipt and the salted identities.
pub async fn erase(
    store: &Store,
    settings: &ExportSettings,
    ws: &WorkspaceId,
    subject: &Subject,
    requested_by: &str,
) -> Result<ErasureReceipt, Problem> {
    let contact = store.find_subject(ws, subject).await?;
    let now = Utc::now().trunc_subsecs(0);
    let mut receipt = ErasureReceipt {
        id: format!("er{}", &model::export::new_export_id(now)[2..]),
        erased_at: now,
        requested_by_kind: subject.kind().to_string(),
        contact_id: contact.as_ref().map(|c| c.id.0),
        conversations_removed: 0,
        items_removed: 0,
        exports_deleted: 0,
        identities_suppressed: 0,
        requested_by: requested_by.to_string(),
    };
    let mut identities: Vec<String> = contact.as_ref().map(identities_of).unwrap_or_default();
    if let Some(contact) = &contact {
        // Exports first: the contact's snapshot decides which files may hold it.
        receipt.exports_deleted = delete_exports_holding(store, settings, ws, contact).await?;
        match store.purge_contact(ws, contact.id).await {
            Ok(report) => {
                receipt.conversations_removed = report.conversations;
                receipt.items_removed = report.items;
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The named identity is suppressed even when no contact holds it (yet).
    identities.extend(subject_identity(subject));
    identities.sort();
    identities.dedup();
    receipt.identities_suppressed = identities.len() as u32;
    store.record_erasure(ws, &receipt, &identities).await?;
    tracing::info!(workspace = %ws, receipt = %receipt.id, contact = ?receipt.contact_id, exports = receipt.exports_deleted, requested_by, "erasure done");
    Ok(receipt)
}

fn subject_identity(subject: &Subject) -> Option<String> {
    let contact = match subject {
        Subject::Contact(_) => return None,
        Subject::Email(e) => Contact { email: Some(e.clone()), ..placeholder() },
        Subject::Phone(p) => Contact { phone: Some(p.clone()), ..placeholder() },
        Subject::Identity(c, id) => {
            Contact { identities: vec![model::contact::Identity::new(*c, id.clone())], ..placeholder() }
        }
    };
    identities_of(&contact).pop()
}

/// A contact holding nothing, to name a single identity the way contacts name theirs.
fn placeholder() -> Contact {
    model::new_contact::NewContact::on(Channel::Frame).into_contact(ContactId(1), Utc::now())
}

/// Deletes every export (record and file) that may hold the contact; returns how many.
async fn delete_exports_holding(
    store: &Store,
    settings: &ExportSettings,
    ws: &WorkspaceId,
    contact: &Contact,
) -> Result<u32, Problem> {
    let mut deleted = 0;
    for export in store.all_exports(ws).await?.iter().filter(|e| e.may_contain(contact)) {
        // The record goes first: a worker still writing sees it gone and drops its upload.
        store.delete_export(ws, &export.id).await?;
        let file = settings.bucket.delete(&export.object_key).await;
        let parts = match &export.upload_id {
            Some(upload) => settings.bucket.abort_upload(&export.object_key, upload).await,
            None => Ok(()),
        };
        if let Err(e) = file.and(parts) {
            tracing::error!(error = %e, export = %export.id, "export file of an erased contact not deleted");
            return Err(Problem::internal());
        }
        deleted += 1;
    }
    Ok(deleted)
}

pub fn receipt_view(r: &ErasureReceipt) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "erased_at": model::listing::api_time(r.erased_at),
        "subject": r.requested_by_kind,
        "contact_id": r.contact_id,
        "conversations_removed": r.conversations_removed,
        "items_removed": r.items_removed,
        "exports_deleted": r.exports_deleted,
        "identities_suppressed": r.identities_suppressed,
    })
}
