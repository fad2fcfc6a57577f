//! Exports from the dashboard: the contacts page exports its current view, a segment's
//! page the segment (CSV, Excel or JSON), through the same request as
//! `POST /api/v1/exports`; the export's page shows its progress, reloading itself until
//! the file is ready, then offers the download.

use super::format::{date_time, Form};
use super::layout::{html, page_refreshing, redirect};
use super::session;
use super::{Dashboard, PageResult};
use crate::api::exports::create::segment_filters;
use crate::api::exports::{download_link, ExportSettings};
use crate::http::{request, Problem};
use chrono::Utc;
use lambda_http::Request;
use maud::html as markup;
use model::export::{is_export_id, ExportFilters, ExportFormat, ExportStatus};
use model::usecases::exports::request_export;
use std::collections::BTreeMap;

fn settings(d: &Dashboard) -> Result<&ExportSettings, Problem> {
    d.exports.as_ref().ok_or_else(|| {
        tracing::error!("exports are not configured for the dashboard (EXPORTS_BUCKET, EXPORTS_QUEUE_URL)");
        Problem::internal()
    })
}

pub async fn create(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    v.require_admin("exporting contacts")?;
    let form = Form::body(&req)?;
    v.check_csrf(&form)?;
    let settings = settings(d)?;
    let ws = &v.caller.workspace.id;
    let format = ExportFormat::parse(form.get("format"))?;
    let zone = v.caller.workspace.time_zone;
    // A segment's page exports the segment (its filters as saved); the contacts page its view.
    let given: BTreeMap<String, String> = match form.filled("segment") {
        Some(id) => segment_filters(&d.store, ws, id).await?,
        None => super::contacts::list_parameters(&form, zone)?
            .into_iter()
            .filter(|(k, _)| k != "page" && k != "cursor")
            .collect(),
    };
    let filters = ExportFilters::parse(ws, given, Utc::now().with_timezone(&zone))?;
    let request = settings.request(format, filters, &v.caller.key.name);
    let export = request_export(&d.store, &settings.queue, ws, request).await?;
    Ok(redirect(&format!("/exports/{}", export.id)))
}

pub async fn show(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require(d, &req).await?;
    let settings = settings(d)?;
    let id = request::path_param(&req, "id", |raw: &str| {
        if is_export_id(raw) {
            Ok(raw.to_string())
        } else {
            Err(format!("`{raw}` is not an export id"))
        }
    })?;
    let export = d
        .store
        .get_export(&v.caller.workspace.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no export {id} in this workspace")))?;
    let link = match export.status {
        ExportStatus::Ready => Some(download_link(settings, &export).await?),
        _ => None,
    };
    let working = matches!(export.status, ExportStatus::Queued | ExportStatus::Running);
    let filters = if export.filters.is_empty() {
        "all contacts".to_string()
    } else {
        export.filters.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
    };
    let content = markup! {
        p.crumbs { a href="/contacts" { "← All contacts" } }
        h1 { "Export " (export.format.extension().to_uppercase()) }
        div.card.narrow-left {
            p { "Of " (filters) ", requested " (date_time(export.created_at, v.caller.workspace.time_zone)) " by " (export.requested_by) "." }
            @match export.status {
                ExportStatus::Queued => p role="status" #export-status { "Waiting to start…" },
                ExportStatus::Running => {
                    p role="status" #export-status { "Writing: " (export.rows_written) @if let Some(n) = export.row_count { " of " (n) } " contacts…" }
                    @if let Some(n) = export.row_count { progress value=(export.rows_written) max=(n) aria-label="Export progress" {} }
                },
                ExportStatus::Ready => {
                    p role="status" #export-status { "Ready: " (contacts(export.row_count.unwrap_or(export.rows_written))) @if let Some(b) = export.size_bytes { ", " (size(b)) } "." }
                    @if let Some(href) = &link {
                        a.button.primary-link href=(href) download=(export.filename) { "Download " (export.filename) }
                        p.hint { "The link works for " (settings.link_expiry.as_secs() / 60) " minutes; reload this page for a new one. The file is kept for " (settings.retention_days) " days." }
                    }
                },
                ExportStatus::Failed => p.error role="alert" #export-status { "The export failed: " (export.error.as_deref().unwrap_or("unknown error")) },
            }
        }
    };
    // While the file is written, the page reloads itself every second (no script needed).
    Ok(html(200, page_refreshing("Export", Some(&v), working.then_some(1), content)))
}

fn contacts(n: u64) -> String {
    format!("{n} contact{}", if n == 1 { "" } else { "s" })
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / 1024.0 / 1024.0),
    }
}
