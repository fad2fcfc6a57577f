//! Exports of the contact list: what an export is, its file formats, and how its rows
//! stream into a multipart upload with flat memory. No AWS here: the upload is a
//! [`PartSink`] (S3 in the export worker, a counter in the memory bench).

mod row;
mod writer;

pub use row::{ExportRow, COLUMNS};
pub use writer::{ExportError, PartSink, Parts, RowWriter, MAX_XLSX_ROWS, PART_SIZE};

use crate::contact::Contact;
use crate::domain::WorkspaceId;
use crate::listing::{api_time, FieldError, ListRequest, Position, FILTER_PARAMETERS, PAGING_PARAMETERS};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// File formats an export can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
    /// One JSON array, one contact object per line.
    Json,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "xlsx" => Ok(ExportFormat::Xlsx),
            "json" => Ok(ExportFormat::Json),
            other => {
                Err(FieldError::new("format", format!("`{other}` is not an export format: expected csv, xlsx or json")))
            }
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Json => "json",
        }
    }

    /// Whether a file in this format can be continued by a later run of the worker from a
    /// checkpoint: CSV and JSON are plain bytes; an XLSX file is a zip written in one run.
    pub fn resumable(self) -> bool {
        !matches!(self, ExportFormat::Xlsx)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ExportFormat::Json => "application/json",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    Queued,
    Running,
    Ready,
    Failed,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Queued => "queued",
            ExportStatus::Running => "running",
            ExportStatus::Ready => "ready",
            ExportStatus::Failed => "failed",
        }
    }
}

/// An export's filters, validated exactly as the list validates its query parameters,
/// with relative ranges (`7d`) resolved once, when the export is requested.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportFilters {
    /// As the caller gave them, to show back.
    pub given: BTreeMap<String, String>,
    /// The same with the date window made absolute: what the worker lists with.
    pub resolved: BTreeMap<String, String>,
}

impl ExportFilters {
    /// `now` is in the workspace's time zone, whose calendar a `range` counts days in.
    pub fn parse<Z: TimeZone>(
        ws: &WorkspaceId,
        given: BTreeMap<String, String>,
        now: DateTime<Z>,
    ) -> Result<Self, FieldError> {
        if let Some(k) = given.keys().find(|k| !FILTER_PARAMETERS.contains(&k.as_str())) {
            let detail = if PAGING_PARAMETERS.contains(&k.as_str()) {
                "paging does not apply to exports".to_string()
            } else {
                format!("unknown filter; expected one of {}", FILTER_PARAMETERS.join(", "))
            };
            return Err(FieldError::new(&format!("filters.{k}"), detail));
        }
        let pairs: Vec<(String, String)> = given.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let request = ListRequest::parse_filters(ws, &pairs, now)
            .map_err(|e| FieldError::new(&format!("filters.{}", e.field), e.message))?;
        let mut resolved: BTreeMap<String, String> = given
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "range" | "created_after" | "created_before"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(after) = request.filter.created.after {
            resolved.insert("created_after".into(), api_time(after));
        }
        if let Some(before) = request.filter.created.before {
            resolved.insert("created_before".into(), api_time(before));
        }
        Ok(ExportFilters { given, resolved })
    }

    /// The list request that walks every matching contact, `per_page` at a time.
    pub fn list_request(
        resolved: &BTreeMap<String, String>,
        ws: &WorkspaceId,
        per_page: u32,
    ) -> Result<ListRequest, FieldError> {
        let pairs: Vec<(String, String)> = resolved.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut request = ListRequest::parse_filters(ws, &pairs, Utc::now())?;
        request.per_page = per_page;
        Ok(request)
    }
}

/// One export: its request, progress and file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    pub id: String,
    pub format: ExportFormat,
    pub status: ExportStatus,
    pub filters: BTreeMap<String, String>,
    pub resolved_filters: BTreeMap<String, String>,
    pub rows_written: u64,
    #[serde(default)]
    pub row_count: Option<u64>,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    pub created_at: DateTime<Utc>,
    /// Absent, not null, until the first run: the worker sets it `if_not_exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// When a run of the worker last started or saved progress.
    #[serde(default)]
    pub progress_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub error: Option<String>,
    /// The download's file name (Content-Disposition).
    pub filename: String,
    /// Where the file is in the exports bucket.
    pub object_key: String,
    /// The multipart upload in progress, so a retry can abort a crashed attempt's parts.
    #[serde(default)]
    pub upload_id: Option<String>,
    /// Runs of the worker in a row that ended without progress (a checkpoint resets it).
    #[serde(default)]
    pub attempts: u32,
    /// Where a CSV or JSON export stands between runs of the worker.
    #[serde(default)]
    pub checkpoint: Option<ExportCheckpoint>,
    /// Runs of the worker that handed the rest of the export on to the next one.
    #[serde(default)]
    pub continuations: u32,
    /// The name (never the secret) of the API key that asked for it.
    pub requested_by: String,
}

impl Export {
    pub fn new(
        ws: &WorkspaceId,
        format: ExportFormat,
        filters: ExportFilters,
        requested_by: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let id = new_export_id(now);
        let filename = format!("contacts-{ws}-{}.{}", now.format("%Y%m%d-%H%M%S"), format.extension());
        Export {
            object_key: format!("exports/{ws}/{id}/{filename}"),
            id,
            format,
            status: ExportStatus::Queued,
            filters: filters.given,
            resolved_filters: filters.resolved,
            rows_written: 0,
            row_count: None,
            size_bytes: None,
            created_at: chrono::SubsecRound::trunc_subsecs(now, 0),
            started_at: None,
            finished_at: None,
            progress_at: None,
            error: None,
            filename,
            upload_id: None,
            attempts: 0,
            checkpoint: None,
            continuations: 0,
            requested_by: requested_by.to_string(),
        }
    }

    /// `attachment; filename="…"`: downloads get a sensible name.
    pub fn content_disposition(&self) -> String {
        format!("attachment; filename=\"{}\"", self.filename)
    }

    /// Whether this export's file may hold `contact`. Decided on what never changes about
    /// a contact (channel, creation time) and when the export was made, so it is a
    /// superset: filters on status, tags or search are ignored because the contact may
    /// have matched them when the export ran.
    pub fn may_contain(&self, contact: &Contact) -> bool {
        if contact.created_at > self.created_at {
            return false;
        }
        let get = |k: &str| self.resolved_filters.get(k);
        let time = |k: &str| get(k).and_then(|v| DateTime::parse_from_rfc3339(v).ok()).map(|t| t.with_timezone(&Utc));
        get("channel").is_none_or(|c| c == contact.channel.as_str())
            && time("created_after").is_none_or(|a| contact.created_at >= a)
            && time("created_before").is_none_or(|b| contact.created_at <= b)
    }
}

/// Where a CSV or JSON export stands, saved on its record whenever a part is uploaded and
/// before a run hands the rest on: every row before `position` is in the uploaded `parts`
/// or in the carry object (bytes written after the last part, fewer than a part holds,
/// since S3 accepts no part but the last under 5 MiB). A run resumes from here exactly:
/// rows it had read but not saved are read again, never written twice.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExportCheckpoint {
    /// Grows by one with each save; a save is conditional on the one it follows, so two
    /// runs of the same export cannot both advance it.
    pub seq: u64,
    /// The list's position after the last row saved; `None` before the first page.
    #[serde(default)]
    pub position: Option<Position>,
    /// Rows in the parts and the carry.
    pub rows: u64,
    /// Bytes in the parts and the carry.
    pub bytes: u64,
    pub parts: Vec<UploadedPart>,
    /// The carry object's key in the bucket, when there are bytes after the last part.
    #[serde(default)]
    pub carry: Option<String>,
}

/// A part of the multipart upload, as completing it needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadedPart {
    pub number: i32,
    pub etag: String,
}

impl Export {
    /// Where the bytes after the last part are kept between runs: named by the checkpoint
    /// (`seq`) and the run (`run`), so that two runs of one export never share one.
    pub fn carry_key(&self, seq: u64, run: &str) -> String {
        let folder = self.object_key.rsplit_once('/').map_or("exports", |(folder, _)| folder);
        format!("{folder}/carry-{seq:06}-{run}")
    }
}

/// Time-ordered with a random tail: `ex` + milliseconds + 8 hex digits.
pub fn new_export_id(at: DateTime<Utc>) -> String {
    crate::domain::time_ordered_id("ex", at, 4)
}

/// Whether `s` looks like an export id (so it is safe inside a key).
pub fn is_export_id(s: &str) -> bool {
    crate::domain::is_time_ordered_id(s, "ex")
}

/// A worker gives up on an export after this many attempts.
pub const MAX_EXPORT_ATTEMPTS: u32 = 3;

/// What became of a conditional change to an export.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportUpdate {
    Done(Box<Export>),
    /// The export is gone (erased) or no longer in the state the change needs.
    Gone,
}

impl ExportStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, ExportStatus::Ready | ExportStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws() -> WorkspaceId {
        WorkspaceId::parse("acme").unwrap()
    }

    fn filters(list: &[(&str, &str)]) -> Result<ExportFilters, FieldError> {
        let given = list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ExportFilters::parse(&ws(), given, "2025-08-22T10:30:00Z".parse::<DateTime<Utc>>().unwrap())
    }

    #[test]
    fn filters_are_the_lists_parameters_with_ranges_resolved() {
        let f = filters(&[("channel", "telegram"), ("range", "7d")]).unwrap();
        assert_eq!(f.resolved.get("created_after").map(String::as_str), Some("2025-08-16T00:00:00Z"));
        assert!(!f.resolved.contains_key("range"));
        assert_eq!(f.given.get("range").map(String::as_str), Some("7d"));
        let again = ExportFilters::list_request(&f.resolved, &ws(), 400).unwrap();
        assert_eq!(again.filter.created.after, Some("2025-08-16T00:00:00Z".parse().unwrap()));
        assert_eq!(again.filter.channel, Some(crate::domain::Channel::Telegram));
    }

    #[test]
    fn ranges_resolve_in_the_workspaces_time_zone() {
        let now =
            "2025-08-22T02:00:00Z".parse::<DateTime<Utc>>().unwrap().with_timezone(&chrono_tz::America::Los_Angeles);
        let given = [("range".to_string(), "today".to_string())].into();
        let f = ExportFilters::parse(&ws(), given, now).unwrap();
        assert_eq!(f.resolved.get("created_after").map(String::as_str), Some("2025-08-21T07:00:00Z"));
    }

    #[test]
    fn filter_errors_name_the_filter() {
        assert_eq!(filters(&[("channel", "fax")]).unwrap_err().field, "filters.channel");
        assert_eq!(filters(&[("cursor", "x")]).unwrap_err().field, "filters.cursor");
        assert_eq!(filters(&[("colour", "red")]).unwrap_err().field, "filters.colour");
        assert_eq!(ExportFormat::parse("pdf").unwrap_err().field, "format");
    }

    #[test]
    fn ids_and_names_are_key_and_header_safe() {
        let now = "2025-08-22T10:30:00Z".parse().unwrap();
        let e = Export::new(&ws(), ExportFormat::Xlsx, filters(&[]).unwrap(), "admin", now);
        assert!(is_export_id(&e.id), "{}", e.id);
        assert!(!is_export_id("ex../../etc"));
        assert_eq!(e.filename, "contacts-acme-20250822-103000.xlsx");
        assert_eq!(e.content_disposition(), "attachment; filename=\"contacts-acme-20250822-103000.xlsx\"");
        assert!(e.object_key.starts_with("exports/acme/ex"));
        assert_eq!(e.carry_key(7, "r1"), format!("exports/acme/{}/carry-000007-r1", e.id));
    }
}
