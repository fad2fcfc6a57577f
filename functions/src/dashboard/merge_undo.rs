//! Undoing a merge from the survivor's page: the contact page lists the merges into the
//! contact (its `MERGED_FROM#` markers' records) with "Undo merge (until …)" while the
//! API's undo would succeed; `POST /merges/{id}/undo` runs the API's use case
//! (`usecases::merge::undo`), which checks the window and the survivor's version again.

use super::contacts::{display_name, time};
use super::format::{date_time, Form};
use super::layout::redirect;
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::api::contacts::merge::merge_id;
use chrono::Utc;
use lambda_http::Request;
use maud::{html, Markup};
use model::contact::Contact;
use model::merge::{MergeRecord, MergeState};
use model::usecases::merge;

/// Why a merge can no longer be undone, or `None` while it can.
fn blocked(record: &MergeRecord, survivor: &Contact, v: &Visitor) -> Option<String> {
    if record.state == MergeState::Undone {
        return Some("This merge was undone.".into());
    }
    if Utc::now() > record.undo_until {
        let zone = v.caller.workspace.time_zone;
        return Some(format!(
            "The merge can no longer be undone: its 7 days ended {}.",
            date_time(record.undo_until, zone)
        ));
    }
    if survivor.version != record.merged.version {
        return Some(
            "The merge can no longer be undone: this contact changed after it, and undoing would lose that change."
                .into(),
        );
    }
    None
}

/// The contact page's card of merges into `c`; nothing when there are none.
pub fn section(v: &Visitor, c: &Contact, records: &[MergeRecord]) -> Markup {
    let zone = v.caller.workspace.time_zone;
    html! {
        @if !records.is_empty() {
            section.card #merges aria-labelledby="merges-heading" {
                h2 #merges-heading { "Merged into this contact" }
                ul.merges {
                    @for r in records {
                        li data-merge-id=(r.id) {
                            "Contact " (r.other) " (" (display_name(&r.other_before)) "), merged " (time(r.created_at, zone)) ". "
                            @match blocked(r, c, v) {
                                Some(why) => span.hint { (why) },
                                None if v.can_write() => form.inline method="post" action={ "/merges/" (r.id) "/undo" } {
                                    input type="hidden" name="csrf" value=(v.csrf);
                                    button.secondary type="submit" { "Undo merge (until " (date_time(r.undo_until, zone)) ")" }
                                },
                                None => span.hint { "Agents, admins and owners can undo it until " (date_time(r.undo_until, zone)) "." },
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /merges/{id}/undo`: both contacts back as they were; to the survivor's page.
pub async fn undo(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_write()?;
    v.check_csrf(&Form::body(&req)?)?;
    let id = merge_id(&req)?;
    let ws = &v.caller.workspace.id;
    let record = merge::undo(&d.store, ws, &id).await?;
    tracing::info!(workspace = %ws, merge = %id, key = %v.caller.log_name(), "merge undone in the dashboard");
    Ok(redirect(&format!("/contacts/{}?unmerged={}", record.survivor, record.other)))
}
