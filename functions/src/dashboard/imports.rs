//! `/imports` and `/imports/{id}`, for admins and owners (as `/api/v1/imports`): upload a
//! CSV or XLSX file, map its columns (guessed from its header row), choose the duplicate
//! rule and default channel, dry run or import, then follow the counts and download the
//! report of failed rows. The file is posted to this page, which puts it in the imports
//! bucket (no script, no cross-origin upload), so the page takes files up to 4 MB (the
//! Lambda payload limit); larger ones go through the API's presigned link. Starting is the
//! API's (`api::imports::start::start_import`, `StartBody::into_settings`).

use super::contacts::time;
use super::layout::{html, page_refreshing, redirect};
use super::notice::Notice;
use super::session::{self, Visitor};
use super::upload::{Multipart, MAX_FILE_BYTES};
use super::{Dashboard, PageResult};
use crate::api::imports::start::{file_header, start_import, StartBody};
use crate::api::imports::{import_id, ImportSettings};
use crate::http::Problem;
use chrono::Utc;
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::domain::Channel;
use model::import::{DuplicateRule, Field, Import, ImportStatus};
use std::collections::BTreeMap;

/// What these pages are for, as a refusal names it (admins and owners only).
const MANAGING: &str = "importing contacts";

const RULES: [(DuplicateRule, &str); 3] = [
    (DuplicateRule::Skip, "Skip: leave the contact as it is"),
    (DuplicateRule::FillEmpty, "Fill empty: set only the contact's empty fields"),
    (DuplicateRule::Overwrite, "Overwrite: set every field the row has"),
];

fn config(d: &Dashboard) -> Result<&ImportSettings, Problem> {
    d.imports.as_ref().ok_or_else(|| {
        tracing::error!("imports are not configured for the dashboard (IMPORTS_BUCKET, IMPORTS_QUEUE_URL)");
        Problem::internal()
    })
}

pub async fn list(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    render_list(d, &v, None).await
}

async fn render_list(d: &Dashboard, v: &Visitor, notice: Option<Notice>) -> PageResult {
    let (imports, _) = d.store.list_imports(&v.caller.workspace.id, 10, None).await?;
    let zone = v.caller.workspace.time_zone;
    let status = notice.as_ref().map_or(200, Notice::status);
    let content = markup! {
        h1 { "Import contacts" }
        @if let Some(n) = &notice { (n.render()) }
        section.card {
            h2 { "Upload a file" }
            form.settings method="post" action="/imports" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(v.csrf);
                label for="import-file" { "CSV or Excel (XLSX) file, its first row the column names" }
                input #import-file type="file" name="file" required accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" aria-describedby="import-file-hint";
                p.hint #import-file-hint { "Up to " (MAX_FILE_BYTES / (1024 * 1024)) " MB here; larger files (up to 50 MB) through the API. Next you choose what each column holds." }
                button.primary type="submit" { "Upload" }
            }
        }
        @if !imports.is_empty() {
            h2 { "Recent imports" }
            div.table-wrap {
                table.listing.imports {
                    thead { tr { th scope="col" { "Started" } th scope="col" { "Status" } th scope="col" { "Created" } th scope="col" { "Updated" } th scope="col" { "Failed" } } }
                    tbody {
                        @for i in &imports {
                            tr {
                                td data-label="Started" { a href=(format!("/imports/{}", i.id)) { (time(i.created_at, zone)) } }
                                td data-label="Status" { (status_word(i)) }
                                td data-label="Created" { (i.checkpoint.counts.created) }
                                td data-label="Updated" { (i.checkpoint.counts.updated) }
                                td data-label="Failed" { (i.checkpoint.counts.failed) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html(status, page_refreshing("Import contacts", Some(v), None, content)))
}

fn status_word(i: &Import) -> &'static str {
    let dry = i.settings.as_ref().is_some_and(|s| s.dry_run);
    match i.status {
        ImportStatus::AwaitingUpload => "uploaded, not started",
        ImportStatus::Queued => "queued",
        ImportStatus::Running => "running",
        ImportStatus::Done if dry => "dry run done",
        ImportStatus::Done => "done",
        ImportStatus::Failed => "failed",
    }
}

pub async fn upload(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    let form = match Multipart::body(&req) {
        Ok(form) => form,
        Err(p) => return render_list(d, &v, Some(Notice::of(p)?)).await,
    };
    v.check_csrf(&form.fields)?;
    let Some((_, bytes)) = form.file.filter(|(_, bytes)| !bytes.is_empty()) else {
        return render_list(d, &v, Some(Notice::Problem("Choose a file to upload: it is empty or missing.".into())))
            .await;
    };
    let config = config(d)?;
    let import = Import::new(&v.caller.workspace.id, &v.caller.key.name, Utc::now());
    d.store.put_import(&v.caller.workspace.id, &import).await?;
    config.bucket.put(&import.object_key, bytes).await.map_err(|e| {
        tracing::error!(error = %e, import = %import.id, "an upload could not be stored");
        Problem::unavailable("the file could not be stored; upload it again")
    })?;
    tracing::info!(workspace = %v.caller.workspace.id, import = %import.id, by = %v.caller.log_name(), "import uploaded");
    Ok(redirect(&format!("/imports/{}", import.id)))
}

async fn load(d: &Dashboard, v: &Visitor, req: &Request) -> Result<Import, Problem> {
    let id = import_id(req)?;
    d.store
        .get_import(&v.caller.workspace.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no import {id} in this workspace")))
}

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    let import = load(d, &v, &req).await?;
    render(d, &v, &import, None, None).await
}

/// The import's page; `typed` keeps the mapping form as sent when it was refused.
async fn render(
    d: &Dashboard,
    v: &Visitor,
    import: &Import,
    notice: Option<Notice>,
    typed: Option<StartBody>,
) -> PageResult {
    let config = config(d)?;
    let zone = v.caller.workspace.time_zone;
    // The form to start (again) needs the file's columns; a file that cannot be read says why.
    let (header, file_problem) = if import.startable() {
        match file_header(config, import).await {
            Ok((_, header)) => (header, None),
            Err(p) => (Vec::new(), Some(Notice::of(p)?)),
        }
    } else {
        (Vec::new(), None)
    };
    let report = match &import.report_key {
        Some(key) => Some(
            config.bucket.download_url(key, &import.report_disposition(), config.link_expiry).await.map_err(|e| {
                tracing::error!(error = %e, "could not sign an imports bucket link");
                Problem::internal()
            })?,
        ),
        None => None,
    };
    let going = matches!(import.status, ImportStatus::Queued | ImportStatus::Running);
    let status = [&notice, &file_problem].into_iter().flatten().map(Notice::status).max().unwrap_or(200);
    let counts = import.checkpoint.counts;
    let dry = import.settings.as_ref().is_some_and(|s| s.dry_run);
    let content = markup! {
        p.crumbs { a href="/imports" { "← Imports" } }
        h1 { "Import of " (super::format::date_time(import.created_at, zone)) }
        p.hint { "Id " code { (import.id) } }
        @if let Some(n) = &notice { (n.render()) }
        div.run role="status" #import-status {
            p { "Status: " strong #import-state { (status_word(import)) }
                @if going { " (this page reloads every 2 seconds)" } }
            @if import.settings.is_some() {
                @if dry && import.status == ImportStatus::Done {
                    p { "This was a dry run: no contact was written. These are the counts the import would have." }
                }
                dl.figures.import-counts {
                    div { dt { "Created" } dd #count-created { (counts.created) } }
                    div { dt { "Updated" } dd #count-updated { (counts.updated) } }
                    div { dt { "Skipped" } dd #count-skipped { (counts.skipped) } }
                    div { dt { "Failed" } dd #count-failed { (counts.failed) } }
                }
                @if let Some(total) = import.total_rows {
                    label for="import-progress" { (import.checkpoint.rows_done) " of " (total) " rows" }
                    progress #import-progress max=(total) value=(import.checkpoint.rows_done) {}
                }
                @if let Some(t) = import.finished_at { p { "Finished " (time(t, zone)) "." } }
            }
            @if let Some(e) = &import.error { p.error role="alert" { (e) } }
            @if let Some(url) = &report {
                p { a.primary-link href=(url) download { "Download the failed rows (CSV: row, reason)" } }
            }
        }
        @if let Some(n) = &file_problem { (n.render()) }
        @if !header.is_empty() { (mapping_form(v, import, &header, typed.as_ref())) }
    };
    let refresh = going.then_some(2);
    Ok(html(status, page_refreshing("Import", Some(v), refresh, content)))
}

fn mapping_form(v: &Visitor, import: &Import, header: &[String], typed: Option<&StartBody>) -> Markup {
    // What the form shows: as sent, else the last start's settings, else guesses.
    let previous = import.settings.as_ref();
    let field_of = |column: &str| -> String {
        match typed {
            Some(t) => t.mapping.get(column).cloned().unwrap_or_default(),
            None => previous
                .map_or_else(|| Field::guess(column), |s| s.mapping.get(column).copied())
                .map(|f| f.as_str().to_string())
                .unwrap_or_default(),
        }
    };
    let rule = typed
        .and_then(|t| t.duplicates.clone())
        .or_else(|| previous.map(|s| s.duplicates.as_str().to_string()))
        .unwrap_or_else(|| "skip".into());
    let channel = typed
        .map(|t| t.default_channel.clone().unwrap_or_default())
        .or_else(|| previous.and_then(|s| s.default_channel).map(|c| c.as_str().to_string()))
        .unwrap_or_default();
    // A first start defaults to a dry run; after one, to the real import.
    let dry_run = typed.map_or(previous.is_none(), |t| t.dry_run);
    markup! {
        section.card #mapping {
            h2 { "What each column holds" }
            form.settings method="post" action=(format!("/imports/{}/start", import.id)) {
                input type="hidden" name="csrf" value=(v.csrf);
                div.table-wrap {
                    table.listing.mapping {
                        thead { tr { th scope="col" { "Column in the file" } th scope="col" { "Contact field" } } }
                        tbody {
                            @for (i, column) in header.iter().enumerate() {
                                @let chosen = field_of(column);
                                tr {
                                    td data-label="Column" { label for=(format!("map-{i}")) { (column) } }
                                    td data-label="Field" {
                                        input type="hidden" name=(format!("column_{i}")) value=(column);
                                        select #(format!("map-{i}")) name=(format!("field_{i}")) {
                                            option value="" selected[chosen.is_empty()] { "— ignore —" }
                                            @for f in Field::ALL {
                                                option value=(f.as_str()) selected[chosen == f.as_str()] { (f.as_str()) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                label for="import-duplicates" { "When a row's email or phone belongs to a contact" }
                select #import-duplicates name="duplicates" {
                    @for (r, label) in RULES { option value=(r.as_str()) selected[rule == r.as_str()] { (label) } }
                }
                label for="import-channel" { "Channel of rows without one" }
                select #import-channel name="default_channel" {
                    option value="" selected[channel.is_empty()] { "— none (a column holds it) —" }
                    @for c in Channel::ALL { option value=(c.as_str()) selected[channel == c.as_str()] { (c.as_str()) } }
                }
                p.hint { "Consent: map a column to consent (granted, denied or unknown); rows without it keep consent unknown." }
                label.check { input type="checkbox" name="dry_run" checked[dry_run]; " Dry run: count what would happen and report failed rows, writing nothing" }
                button.primary type="submit" { "Start" }
            }
        }
    }
}

pub async fn start(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let import = load(d, &v, &req).await?;
    let mut mapping = BTreeMap::new();
    for i in 0.. {
        let column = form.get(&format!("column_{i}"));
        if column.is_empty() {
            break;
        }
        let field = form.get(&format!("field_{i}"));
        if !field.is_empty() {
            mapping.insert(column.to_string(), field.to_string());
        }
    }
    let body = StartBody {
        mapping,
        default_channel: form.filled("default_channel").map(str::to_string),
        duplicates: form.filled("duplicates").map(str::to_string),
        dry_run: form.get("dry_run") == "on",
    };
    let typed = body.clone();
    let started = match body.into_settings() {
        Ok(settings) => start_import(&d.store, config(d)?, &v.caller, &import.id, settings).await,
        Err(p) => Err(p),
    };
    match started {
        Ok(_) => Ok(redirect(&format!("/imports/{}", import.id))),
        Err(p) => render(d, &v, &import, Some(Notice::of(p)?), Some(typed)).await,
    }
}
