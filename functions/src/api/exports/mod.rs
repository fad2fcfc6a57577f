//! `/api/v1/exports`: request an export of the (filtered) contact list, follow it, and
//! download the file through a presigned link.

pub mod create;
pub mod get;
pub mod list;

use crate::api::openapi::schemas as doc;
use crate::bucket::Bucket;
use crate::export_worker::ExportMessage;
use crate::http::Problem;
use crate::work_queue::WorkQueue;
use model::domain::WorkspaceId;
use model::export::{Export, ExportFilters, ExportFormat};
use model::listing::api_time;
use model::usecases::exports::{ExportJobs, ExportRequest, QueueError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

/// What the export routes need besides the table.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    pub bucket: Bucket,
    pub queue: WorkQueue,
    /// How long a download link works (`EXPORT_LINK_MINUTES`, default 15).
    pub link_expiry: Duration,
    /// How long files are kept (`EXPORT_RETENTION_DAYS`, the bucket's lifecycle rule).
    pub retention_days: i64,
    /// Exports a workspace may have queued or running at once (`MAX_RUNNING_EXPORTS`, default 3).
    pub max_running: usize,
    /// A larger access document is stored and answered with a link (`ACCESS_EXPORT_INLINE_BYTES`).
    pub access_inline_bytes: usize,
}

impl ExportSettings {
    pub fn from(api: &super::Api) -> Result<&ExportSettings, Problem> {
        api.exports.as_ref().ok_or_else(|| {
            tracing::error!("exports are not configured for this function (EXPORTS_BUCKET, EXPORTS_QUEUE_URL)");
            Problem::internal()
        })
    }
}

/// The export worker's queue: one message per export, naming it.
impl ExportJobs for WorkQueue {
    async fn enqueue(&self, ws: &WorkspaceId, export_id: &str) -> Result<(), QueueError> {
        let message = ExportMessage { workspace: ws.to_string(), export_id: export_id.to_string() };
        self.send(&message).await.map_err(|e| QueueError(e.to_string()))
    }
}

impl ExportSettings {
    /// An export request by `requested_by`, kept as long as the bucket keeps files.
    pub fn request<'a>(
        &self,
        format: ExportFormat,
        filters: ExportFilters,
        requested_by: &'a str,
    ) -> ExportRequest<'a> {
        ExportRequest { format, filters, requested_by, keep_days: self.retention_days, max_running: self.max_running }
    }
}

/// A fresh presigned link to a ready export's file.
pub async fn download_link(settings: &ExportSettings, export: &Export) -> Result<String, Problem> {
    settings.bucket.download_url(&export.object_key, &export.content_disposition(), settings.link_expiry).await.map_err(
        |e| {
            tracing::error!(error = %e, export = %export.id, "could not sign a download link");
            Problem::internal()
        },
    )
}

/// An export and its progress.
#[derive(Serialize, ToSchema)]
#[schema(as = Export)]
pub struct ExportView<'a> {
    #[schema(value_type = String, example = "ex0123456789abcdef01234")]
    id: &'a str,
    #[schema(value_type = doc::ExportFormat)]
    format: &'static str,
    #[schema(value_type = doc::ExportStatus)]
    status: &'static str,
    /// The list filters, as validated.
    #[schema(value_type = BTreeMap<String, String>)]
    filters: &'a BTreeMap<String, String>,
    rows_written: u64,
    /// Known when the export finished (or when the filter's count was known up front).
    #[schema(required = true)]
    row_count: Option<u64>,
    #[schema(required = true)]
    size_bytes: Option<u64>,
    #[schema(value_type = String, example = "contacts-2025-08-22.csv")]
    filename: &'a str,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(required = true, format = DateTime)]
    started_at: Option<String>,
    #[schema(required = true, format = DateTime)]
    finished_at: Option<String>,
    #[schema(required = true, value_type = Option<String>)]
    error: Option<&'a str>,
    /// A fresh presigned link, on `GET /api/v1/exports/{id}` of a ready export only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    download_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    download_url_expires_at: Option<String>,
}

/// A page of exports, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = ExportPage)]
pub struct ExportPage<'a> {
    exports: Vec<ExportView<'a>>,
    page: u32,
    per_page: u32,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

impl<'a> From<&'a Export> for ExportView<'a> {
    fn from(e: &'a Export) -> Self {
        ExportView {
            id: &e.id,
            format: e.format.extension(),
            status: e.status.as_str(),
            filters: &e.filters,
            rows_written: e.rows_written,
            row_count: e.row_count,
            size_bytes: e.size_bytes,
            filename: &e.filename,
            created_at: api_time(e.created_at),
            started_at: e.started_at.map(api_time),
            finished_at: e.finished_at.map(api_time),
            error: e.error.as_deref(),
            download_url: None,
            download_url_expires_at: None,
        }
    }
}

impl ExportView<'_> {
    /// Adds a fresh presigned link when the file is ready.
    pub async fn with_link(mut self, export: &Export, settings: &ExportSettings) -> Result<Self, Problem> {
        if export.status != model::export::ExportStatus::Ready {
            return Ok(self);
        }
        let url = download_link(settings, export).await?;
        let expires = chrono::Utc::now() + chrono::Duration::from_std(settings.link_expiry).unwrap_or_default();
        self.download_url = Some(url);
        self.download_url_expires_at = Some(api_time(expires));
        Ok(self)
    }
}

fn export_id(req: &lambda_http::Request) -> Result<String, Problem> {
    crate::http::request::path_param(req, "id", |raw| {
        if model::export::is_export_id(raw) {
            Ok(raw.to_string())
        } else {
            Err(format!("`{raw}` is not an export id"))
        }
    })
}
