//! A person's GDPR requests from their contact page: download everything held about them
//! (the API's data-subject export) and erase them (the API's erasure, admin keys only).

use super::contact::{contact_id, load};
use super::contacts::display_name;
use super::format::Form;
use super::layout::{html, page, redirect};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::api::gdpr::access;
use crate::erasure_job;
use crate::http::Problem;
use lambda_http::Request;
use maud::html as markup;
use model::contact::Contact;
use model::gdpr::{ErasureStatus, Subject};
use model::usecases::gdpr;

const ERASING: &str = "erasing a person";

/// `GET /contacts/{id}/gdpr-export`: the JSON document, as a download.
pub async fn download(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_admin("downloading a person's data")?;
    let id = contact_id(&req)?;
    let held = gdpr::access(&d.store, &v.caller.workspace.id, id).await?;
    let integrations = d.store.contact_integrations(&v.caller.workspace.id, id).await?;
    let doc = access::document(&v.caller.workspace.id, &held, integrations);
    tracing::info!(workspace = %v.caller.workspace.id, contact = %id, key = %v.caller.log_name(), "data-subject export from the dashboard");
    let settings = d.exports.as_ref().ok_or_else(|| {
        tracing::error!("exports are not configured for the dashboard; large documents are downloaded from them");
        Problem::internal()
    })?;
    let body = serde_json::to_string_pretty(&doc).expect("documents serialize");
    access::deliver(settings, &v.caller.workspace.id, id, body, "attachment").await
}

fn confirm_page(v: &Visitor, c: &Contact) -> maud::Markup {
    let name = display_name(c);
    page(
        &format!("Erase {name}"),
        Some(v),
        markup! {
            section.card.danger-zone aria-labelledby="erase-heading" {
                h1 #erase-heading { "Erase " (name) "?" }
                p { "This erases contact " (c.id) ", " strong { (name) } ", at once and for good: the profile, notes, "
                    strong { "all conversations and transcripts" } ", and every export that may contain them. There is no grace period and no undo." }
                p { "A receipt without personal data is kept, and their identities stay opted out if they come back." }
                form method="post" action={ "/contacts/" (c.id) "/erase" } {
                    input type="hidden" name="csrf" value=(v.csrf);
                    div.actions {
                        button.danger type="submit" { "Erase " (name) }
                        a href={ "/contacts/" (c.id) } { "Cancel" }
                    }
                }
            }
        },
    )
}

/// `GET /contacts/{id}/erase`: asks first.
pub async fn confirm(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_admin(ERASING)?;
    let c = load(d, &v, contact_id(&req)?).await?;
    Ok(html(200, confirm_page(&v, &c)))
}

/// `POST /contacts/{id}/erase`.
pub async fn erase(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_admin(ERASING)?;
    v.check_csrf(&Form::body(&req)?)?;
    let id = contact_id(&req)?;
    let (Some(settings), Some(erasures)) = (d.exports.as_ref(), d.erasures.as_ref()) else {
        tracing::error!("exports or the jobs queue are not configured for the dashboard; erasure needs both");
        return Err(Problem::internal());
    };
    let ws = &v.caller.workspace.id;
    let receipt =
        erasure_job::erase(&d.store, &settings.bucket, erasures, ws, &Subject::Contact(id), &v.caller.key.name).await?;
    let pending = if receipt.status == ErasureStatus::Pending { "&pending=1" } else { "" };
    Ok(redirect(&format!("/contacts?erased={id}&receipt={}{pending}", receipt.id)))
}
