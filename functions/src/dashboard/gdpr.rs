//! A person's GDPR requests from their contact page: download everything held about them
//! (the API's data-subject export, waiting on a page while the jobs worker writes a long
//! history's) and erase them (the API's erasure, admin keys only).

use super::contact::{contact_id, load};
use super::contacts::display_name;
use super::format::Form;
use super::layout::{html, page, page_refreshing, redirect};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::access_job::{self, Answer};
use crate::api::exports::ExportSettings;
use crate::erasure_job;
use crate::http::{request, Problem};
use crate::jobs::GdprJobs;
use lambda_http::{Body, Request, Response};
use maud::html as markup;
use model::contact::Contact;
use model::gdpr::{is_access_request_id, AccessStatus, ErasureStatus, Subject};

const ERASING: &str = "erasing a person";
const DOWNLOADING: &str = "downloading a person's data";

/// `GET /contacts/{id}/gdpr-export`: the JSON document, as a download; for a long history,
/// the page that waits while the jobs worker writes it.
pub async fn download(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_admin(DOWNLOADING)?;
    let id = contact_id(&req)?;
    let (settings, jobs) = gdpr_settings(d)?;
    let ws = &v.caller.workspace.id;
    tracing::info!(workspace = %ws, contact = %id, key = %v.caller.log_name(), "data-subject export from the dashboard");
    Ok(match access_job::answer(&d.store, settings, jobs, ws, id, &v.caller.key.name).await? {
        Answer::Document(body) => {
            // Indented, for the people who open the file.
            let document: serde_json::Value = serde_json::from_str(&body).expect("the document is JSON");
            let body = serde_json::to_string_pretty(&document).expect("documents serialize");
            Response::builder()
                .status(200)
                .header("cache-control", "no-store")
                .header("content-type", "application/json")
                .header("content-disposition", format!("attachment; filename=\"contact-{id}-data.json\""))
                .body(Body::Text(body))
                .expect("valid response")
        }
        Answer::Link(link) => redirect(&link),
        Answer::Pending(request) => redirect(&format!("/contacts/{id}/gdpr-export/{}", request.id)),
    })
}

/// `GET /contacts/{id}/gdpr-export/{request}`: the document once the jobs worker has stored
/// it; until then a page that looks again every few seconds.
pub async fn prepared(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_admin(DOWNLOADING)?;
    let id = contact_id(&req)?;
    let (settings, _) = gdpr_settings(d)?;
    let ws = &v.caller.workspace.id;
    let request_id = request::path_param(&req, "request", |raw| match is_access_request_id(raw) {
        true => Ok(raw.to_string()),
        false => Err(format!("`{raw}` is not an access request's id")),
    })?;
    let found = d.store.get_access_request(ws, &request_id).await?.filter(|r| r.contact_id == id.0);
    let found = found.ok_or_else(|| Problem::not_found(format!("no data download {request_id} for contact {id}")))?;
    if found.status == AccessStatus::Done && found.stored {
        return Ok(redirect(&access_job::link(settings, ws, id).await?));
    }
    let back = format!("/contacts/{id}");
    let content = markup! {
        section.card aria-labelledby="download-heading" {
            h1 #download-heading { "Data of contact " (id) }
            @match found.status {
                AccessStatus::Pending => p role="status" {
                    "Their history is long, so the document is being prepared in the background. "
                    "This page looks again every few seconds and the download starts when it is ready."
                },
                AccessStatus::Failed => p role="alert" {
                    "The document could not be prepared: " (found.reason.as_deref().unwrap_or("unknown reason")) "."
                },
                AccessStatus::Done => p { "This document was downloaded when it was asked for. Download it again from the contact's page." },
            }
            p { a href=(back) { "Back to the contact" } }
        }
    };
    let refresh = (found.status == AccessStatus::Pending).then_some(3);
    Ok(html(200, page_refreshing("Preparing a data download", Some(&v), refresh, content)))
}

fn gdpr_settings(d: &Dashboard) -> Result<(&ExportSettings, &GdprJobs), Problem> {
    match (d.exports.as_ref(), d.gdpr_jobs.as_ref()) {
        (Some(settings), Some(jobs)) => Ok((settings, jobs)),
        _ => {
            tracing::error!("exports or the jobs queue are not configured for the dashboard; GDPR requests need both");
            Err(Problem::internal())
        }
    }
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
    let (settings, jobs) = gdpr_settings(d)?;
    let ws = &v.caller.workspace.id;
    let receipt =
        erasure_job::erase(&d.store, &settings.bucket, jobs, ws, &Subject::Contact(id), &v.caller.key.name).await?;
    let pending = if receipt.status == ErasureStatus::Pending { "&pending=1" } else { "" };
    Ok(redirect(&format!("/contacts?erased={id}&receipt={}{pending}", receipt.id)))
}
