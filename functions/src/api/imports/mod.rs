//! `/api/v1/imports`: upload a CSV or XLSX file of contacts through a presigned link, start
//! its import with a column mapping and a duplicate rule, follow its counts, and download
//! the report of the rows that failed (docs/imports.md).

pub mod create;
pub mod get;
pub mod list;
pub mod start;

use crate::api::openapi::schemas as doc;
use crate::bucket::Bucket;
use crate::http::Problem;
use crate::work_queue::WorkQueue;
use model::import::Import;
use model::listing::api_time;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

/// What the import routes need besides the table.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    pub bucket: Bucket,
    pub queue: WorkQueue,
    /// How long an upload link and a report link work (`IMPORT_LINK_MINUTES`, default 15).
    pub link_expiry: Duration,
}

impl ImportSettings {
    pub fn from(api: &super::Api) -> Result<&ImportSettings, Problem> {
        api.imports.as_ref().ok_or_else(|| {
            tracing::error!("imports are not configured for this function (IMPORTS_BUCKET, IMPORTS_QUEUE_URL)");
            Problem::internal()
        })
    }
}

fn signing_failed(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "could not sign an imports bucket link");
    Problem::internal()
}

/// What became of the rows so far.
#[derive(Serialize, ToSchema)]
#[schema(as = ImportCounts)]
pub struct CountsView {
    created: u64,
    updated: u64,
    skipped: u64,
    failed: u64,
}

/// An import, its settings once started, and its progress.
#[derive(Serialize, ToSchema)]
#[schema(as = Import)]
pub struct ImportView<'a> {
    #[schema(value_type = String, example = "im0123456789abcdef01234")]
    id: &'a str,
    #[schema(value_type = doc::ImportStatus)]
    status: &'static str,
    /// Known once started.
    #[schema(required = true, value_type = Option<doc::ImportFileFormat>)]
    format: Option<&'static str>,
    /// File column → contact field, once started.
    #[schema(required = true, value_type = Option<BTreeMap<String, doc::ImportField>>)]
    mapping: Option<BTreeMap<&'a str, &'static str>>,
    #[schema(required = true, value_type = Option<doc::ChannelName>)]
    default_channel: Option<&'static str>,
    #[schema(required = true, value_type = Option<doc::DuplicateRule>)]
    duplicates: Option<&'static str>,
    dry_run: bool,
    counts: CountsView,
    /// Data rows handled so far (blank rows are not counted).
    rows_done: u64,
    /// Data rows in the file, once the worker has counted them.
    #[schema(required = true)]
    total_rows: Option<u64>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(required = true, format = DateTime)]
    started_at: Option<String>,
    #[schema(required = true, format = DateTime)]
    finished_at: Option<String>,
    #[schema(required = true, value_type = Option<String>)]
    error: Option<&'a str>,
    /// The presigned PUT link, on `POST /api/v1/imports` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    upload_url: Option<String>,
    /// A fresh link to the CSV of failed rows (`row,reason`), on `GET /api/v1/imports/{id}`
    /// once done with failed rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    report_url: Option<String>,
    /// When `upload_url` or `report_url` stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    link_expires_at: Option<String>,
}

impl<'a> From<&'a Import> for ImportView<'a> {
    fn from(i: &'a Import) -> Self {
        let settings = i.settings.as_ref();
        let counts = i.checkpoint.counts;
        ImportView {
            id: &i.id,
            status: i.status.as_str(),
            format: i.format.map(|f| f.as_str()),
            mapping: settings.map(|s| s.mapping.iter().map(|(c, f)| (c.as_str(), f.as_str())).collect()),
            default_channel: settings.and_then(|s| s.default_channel).map(|c| c.as_str()),
            duplicates: settings.map(|s| s.duplicates.as_str()),
            dry_run: settings.is_some_and(|s| s.dry_run),
            counts: CountsView {
                created: counts.created,
                updated: counts.updated,
                skipped: counts.skipped,
                failed: counts.failed,
            },
            rows_done: i.checkpoint.rows_done,
            total_rows: i.total_rows,
            created_at: api_time(i.created_at),
            started_at: i.started_at.map(api_time),
            finished_at: i.finished_at.map(api_time),
            error: i.error.as_deref(),
            upload_url: None,
            report_url: None,
            link_expires_at: None,
        }
    }
}

impl ImportView<'_> {
    fn link_expiry(settings: &ImportSettings) -> String {
        api_time(chrono::Utc::now() + chrono::Duration::from_std(settings.link_expiry).unwrap_or_default())
    }

    /// Adds a fresh link to the report when there is one.
    pub async fn with_report(mut self, import: &Import, settings: &ImportSettings) -> Result<Self, Problem> {
        let Some(key) = &import.report_key else { return Ok(self) };
        let url = settings
            .bucket
            .download_url(key, &import.report_disposition(), settings.link_expiry)
            .await
            .map_err(signing_failed)?;
        self.report_url = Some(url);
        self.link_expires_at = Some(Self::link_expiry(settings));
        Ok(self)
    }
}

/// A page of imports, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = ImportPage)]
pub struct ImportPage<'a> {
    imports: Vec<ImportView<'a>>,
    page: u32,
    per_page: u32,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

pub(crate) fn import_id(req: &lambda_http::Request) -> Result<String, Problem> {
    crate::http::request::path_param(req, "id", |raw| {
        if model::import::is_import_id(raw) {
            Ok(raw.to_string())
        } else {
            Err(format!("`{raw}` is not an import id"))
        }
    })
}
