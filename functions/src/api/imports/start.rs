//! `POST /api/v1/imports/{id}/start`: checks the uploaded file (format, size, header, a row
//! after it) against the mapping, then queues the import for the import worker. `202
//! Accepted`: the rows are imported in the background.

use super::{import_id, ImportSettings, ImportView};
use crate::api::openapi::schemas::{self as doc, ProblemDetails};
use crate::api::Api;
use crate::http::auth::Caller;
use crate::http::{json, request, HttpResult, Problem};
use crate::import_worker::ImportMessage;
use chrono::Utc;
use lambda_http::Request;
use model::auth::Scope;
use model::domain::Channel;
use model::import::file::{inspect, open_workbook, sniff, CsvRows, XlsxRows, HEAD_BYTES};
use model::import::{self, DuplicateRule, Field, FileError, FileFormat, Import, ImportStatus, ImportUpdate};
use model::import::{MAX_FILE_BYTES, MAX_ROWS};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::BufReader;
use store::Store;
use utoipa::ToSchema;

/// How to read the file.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ImportStart, example = json!({"mapping": {"Full name": "name", "E-mail": "email", "Mobile": "phone"}, "default_channel": "frame", "duplicates": "fill_empty", "dry_run": false}))]
pub struct StartBody {
    /// File column (its header, exactly) → contact field; columns not named are ignored.
    #[schema(value_type = BTreeMap<String, doc::ImportField>)]
    pub mapping: BTreeMap<String, String>,
    /// The channel of rows without one; required when no column maps to `channel`.
    #[schema(value_type = Option<doc::ChannelName>)]
    pub default_channel: Option<String>,
    /// What a row whose email or phone belongs to a contact does (default `skip`).
    #[schema(value_type = Option<doc::DuplicateRule>)]
    pub duplicates: Option<String>,
    /// Count what would happen and report failed rows, writing no contact.
    #[serde(default)]
    pub dry_run: bool,
}

impl StartBody {
    pub fn into_settings(self) -> Result<import::ImportSettings, Problem> {
        let mut mapping = BTreeMap::new();
        for (column, field) in self.mapping {
            let parsed = Field::parse(&field).ok_or_else(|| {
                let fields: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
                Problem::invalid_field(
                    &format!("mapping.{column}"),
                    format!("`{field}` is not a contact field: expected one of {}", fields.join(", ")),
                )
            })?;
            mapping.insert(column, parsed);
        }
        let default_channel = self
            .default_channel
            .map(|c| c.parse::<Channel>().map_err(|e| Problem::invalid_field("default_channel", e.to_string())))
            .transpose()?;
        let duplicates =
            self.duplicates.as_deref().map(DuplicateRule::parse).transpose()?.unwrap_or(DuplicateRule::Skip);
        Ok(import::ImportSettings { mapping, default_channel, duplicates, dry_run: self.dry_run })
    }
}

fn bad_file(e: FileError) -> Problem {
    Problem::invalid_field("file", e.to_string())
}

fn storage(e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "the imports bucket could not be read");
    Problem::unavailable("the uploaded file could not be read; try again")
}

/// Starts (or, after a dry run or a failure, starts again) an uploaded import.
#[utoipa::path(
    post,
    path = "/api/v1/imports/{id}/start",
    tag = "imports",
    params(("id" = String, Path, pattern = "^im[0-9a-f]{21}$")),
    request_body = StartBody,
    security(("api_key" = ["admin"])),
    responses(
        (status = 202, description = "Queued", body = ImportView),
        (status = 404, description = "No such import", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "Nothing uploaded yet, or the import is queued or running", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than 50 MB", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let config = ImportSettings::from(api)?;
    let id = import_id(&req)?;
    let settings = request::json_body::<StartBody>(&req)?.into_settings()?;
    let started = start_import(&api.store, config, &caller, &id, settings).await?;
    Ok(json(202, &ImportView::from(&started)))
}

/// Checks the uploaded file against `settings` and queues the import (the API's and the
/// dashboard's).
pub async fn start_import(
    store: &Store,
    config: &ImportSettings,
    caller: &Caller,
    id: &str,
    settings: import::ImportSettings,
) -> Result<Import, Problem> {
    let ws = &caller.workspace.id;
    let import = store
        .get_import(ws, id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("there is no import {id} in this workspace")))?;
    if !import.startable() {
        return Err(Problem::conflict(format!("the import is {}: wait until it has finished", import.status.as_str())));
    }
    let (format, header) = file_header(config, &import).await?;
    settings.check(&header)?;
    // A failed import goes on from its checkpoint when started again as it was.
    let resume = import.status == ImportStatus::Failed && import.settings.as_ref() == Some(&settings);
    let started = match store.start_import(ws, &import, format, &settings, resume, Utc::now()).await? {
        ImportUpdate::Done(i) => *i,
        ImportUpdate::Gone => return Err(Problem::conflict("the import was started meanwhile")),
    };
    let message = ImportMessage { workspace: ws.to_string(), import_id: id.to_string() };
    if let Err(e) = config.queue.send(&message).await {
        tracing::error!(error = %e, import = %id, "an import could not be queued");
        store.fail_import(ws, id, "could not be queued; start it again", Utc::now()).await?;
        return Err(Problem::unavailable("the import could not be queued; start it again"));
    }
    tracing::info!(workspace = %ws, import = %id, format = format.as_str(), dry_run = settings.dry_run, key = %caller.key.name, "import started");
    Ok(started)
}

/// The uploaded file's format and header, once its size, header and first row are checked.
pub async fn file_header(config: &ImportSettings, import: &Import) -> Result<(FileFormat, Vec<String>), Problem> {
    let size =
        config.bucket.size(&import.object_key).await.map_err(storage)?.ok_or_else(|| {
            Problem::conflict("no file has been uploaded yet: PUT it to the import's upload_url first")
        })?;
    if size == 0 {
        return Err(bad_file(FileError::Empty));
    }
    if size > MAX_FILE_BYTES {
        return Err(Problem::too_large(format!(
            "the file has {size} bytes, more than the {MAX_FILE_BYTES} (50 MB) an import takes; split it (at most {MAX_ROWS} rows each)"
        )));
    }
    let head = config.bucket.head_bytes(&import.object_key, HEAD_BYTES).await.map_err(storage)?;
    let format = sniff(&head).map_err(bad_file)?;
    let header = match format {
        FileFormat::Csv => inspect(&mut CsvRows::open(&head[..]).map_err(bad_file)?),
        FileFormat::Xlsx => {
            // A zip's directory is at its end: the whole file is needed.
            let mut file = tempfile::tempfile().map_err(storage)?;
            config.bucket.download(&import.object_key, &mut file).await.map_err(storage)?;
            let mut workbook = open_workbook(BufReader::new(file)).map_err(bad_file)?;
            let header = XlsxRows::open(&mut workbook).and_then(|mut rows| inspect(&mut rows));
            header
        }
    }
    .map_err(bad_file)?;
    Ok((format, header))
}
