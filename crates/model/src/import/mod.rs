//! Imports of contacts from a CSV or XLSX file: what an import is, how its columns map to
//! contact fields, how each row becomes a new contact or a change to an existing one, and
//! how the file is read row by row. No AWS here: the import worker reads the file from the
//! imports bucket into a temporary file and hands it to [`file`].

pub mod file;
mod row;

pub use file::{FileError, FileFormat, Row, RowSource};
pub use row::{duplicate_patch, RowFields};

use crate::domain::{Channel, WorkspaceId};
use crate::listing::FieldError;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest file accepted (the presigned upload's limit).
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Rows of data (the header not counted) one file may hold.
pub const MAX_ROWS: u64 = 200_000;
/// A worker gives up on an import after this many runs in a row without progress.
pub const MAX_IMPORT_ATTEMPTS: u32 = 3;
/// An import's record, row markers and failures are kept this long (TTL); the uploaded
/// file and the report go with the bucket's lifecycle rule after 7 days.
pub const KEEP_DAYS: i64 = 30;

/// A contact field a column of the file can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Name,
    Email,
    Phone,
    Tags,
    Notes,
    Status,
    Channel,
    Consent,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Name,
        Field::Email,
        Field::Phone,
        Field::Tags,
        Field::Notes,
        Field::Status,
        Field::Channel,
        Field::Consent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Tags => "tags",
            Field::Notes => "notes",
            Field::Status => "status",
            Field::Channel => "channel",
            Field::Consent => "consent",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The field a column header most likely means (`E-mail` → email), for suggestions.
    pub fn guess(header: &str) -> Option<Field> {
        let h: String = header.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
        match h.as_str() {
            "name" | "fullname" | "contact" | "contactname" => Some(Field::Name),
            "email" | "emailaddress" | "mail" => Some(Field::Email),
            "phone" | "phonenumber" | "mobile" | "tel" | "telephone" => Some(Field::Phone),
            "tags" | "tag" | "labels" => Some(Field::Tags),
            "notes" | "note" | "comment" | "comments" => Some(Field::Notes),
            "status" | "leadstatus" => Some(Field::Status),
            "channel" | "source" => Some(Field::Channel),
            "consent" | "marketingconsent" => Some(Field::Consent),
            _ => None,
        }
    }
}

/// What to do with a row whose email or phone (normalized) belongs to an existing contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateRule {
    /// Leave the contact as it is.
    Skip,
    /// Set only the contact's empty fields (name, email, phone, notes; tags when it has
    /// none; consent when unknown).
    FillEmpty,
    /// Set every field the row has a value for; empty cells clear nothing.
    Overwrite,
}

impl DuplicateRule {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "skip" => Ok(DuplicateRule::Skip),
            "fill_empty" => Ok(DuplicateRule::FillEmpty),
            "overwrite" => Ok(DuplicateRule::Overwrite),
            other => Err(FieldError::new(
                "duplicates",
                format!("`{other}` is not a duplicate rule: expected skip, fill_empty or overwrite"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateRule::Skip => "skip",
            DuplicateRule::FillEmpty => "fill_empty",
            DuplicateRule::Overwrite => "overwrite",
        }
    }
}

/// How an import reads its file, fixed when it is started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportSettings {
    /// File column (its header, exactly) → contact field.
    pub mapping: BTreeMap<String, Field>,
    /// The channel of rows without one (no channel column, or an empty cell).
    pub default_channel: Option<Channel>,
    pub duplicates: DuplicateRule,
    /// Count what would happen, write no contact.
    pub dry_run: bool,
}

impl ImportSettings {
    /// Checks the settings against the file's header: every mapped column must be there,
    /// no field mapped twice, and a channel for every row.
    pub fn check(&self, header: &[String]) -> Result<(), FieldError> {
        if self.mapping.is_empty() {
            return Err(FieldError::new("mapping", "map at least one column to a contact field"));
        }
        let mut seen = BTreeMap::new();
        for (column, field) in &self.mapping {
            if !header.iter().any(|h| h == column) {
                return Err(FieldError::new(
                    &format!("mapping.{column}"),
                    format!("the file has no column `{column}`; its columns are: {}", header.join(", ")),
                ));
            }
            if let Some(other) = seen.insert(*field, column) {
                return Err(FieldError::new(
                    &format!("mapping.{column}"),
                    format!("`{}` is already mapped from column `{other}`", field.as_str()),
                ));
            }
        }
        if self.default_channel.is_none() && !seen.contains_key(&Field::Channel) {
            return Err(FieldError::new(
                "default_channel",
                "is required when no column maps to channel: one of frame, livechat, telegram, messenger, whatsapp",
            ));
        }
        if !seen.contains_key(&Field::Email) && !seen.contains_key(&Field::Phone) && !seen.contains_key(&Field::Name) {
            return Err(FieldError::new("mapping", "map a column to name, email or phone"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// The upload link is out; the file may not be there yet.
    AwaitingUpload,
    /// Started: the worker has it on its queue.
    Queued,
    Running,
    Done,
    Failed,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::AwaitingUpload => "awaiting_upload",
            ImportStatus::Queued => "queued",
            ImportStatus::Running => "running",
            ImportStatus::Done => "done",
            ImportStatus::Failed => "failed",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, ImportStatus::Done | ImportStatus::Failed)
    }
}

/// What became of the rows so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
}

impl ImportCounts {
    pub fn add(&mut self, other: &ImportCounts) {
        self.created += other.created;
        self.updated += other.updated;
        self.skipped += other.skipped;
        self.failed += other.failed;
    }

    pub fn rows(&self) -> u64 {
        self.created + self.updated + self.skipped + self.failed
    }
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    Skipped,
    Failed,
}

impl ImportCounts {
    pub fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Failed => self.failed += 1,
        }
    }
}

/// Where an import stands, saved after every batch of rows: the rows before `rows_done`
/// are counted in `counts` and written (their contacts, their failures).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImportCheckpoint {
    /// Grows by one with each save; a save is conditional on the one it follows, so two
    /// runs of the same import cannot both advance it.
    pub seq: u64,
    /// Data rows (blank ones not counted) read and handled.
    pub rows_done: u64,
    pub counts: ImportCounts,
}

/// One import: its file, settings, progress and outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub id: String,
    pub status: ImportStatus,
    /// Known once started.
    #[serde(default)]
    pub format: Option<FileFormat>,
    #[serde(default)]
    pub settings: Option<ImportSettings>,
    #[serde(default)]
    pub checkpoint: ImportCheckpoint,
    /// Data rows in the file, counted by the worker's first run.
    #[serde(default)]
    pub total_rows: Option<u64>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// When a run of the worker last started or saved progress.
    #[serde(default)]
    pub progress_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub error: Option<String>,
    /// Where the uploaded file is in the imports bucket.
    pub object_key: String,
    /// The CSV of failed rows, when some failed.
    #[serde(default)]
    pub report_key: Option<String>,
    /// Runs of the worker in a row that ended without progress (a checkpoint resets it).
    #[serde(default)]
    pub attempts: u32,
    /// Runs of the worker that handed the rest on to the next one.
    #[serde(default)]
    pub continuations: u32,
    /// The name (never the secret) of the API key that created it.
    pub requested_by: String,
}

impl Import {
    pub fn new(ws: &WorkspaceId, requested_by: &str, now: DateTime<Utc>) -> Self {
        let id = new_import_id(now);
        Import {
            object_key: format!("imports/{ws}/{id}/upload"),
            id,
            status: ImportStatus::AwaitingUpload,
            format: None,
            settings: None,
            checkpoint: ImportCheckpoint::default(),
            total_rows: None,
            created_at: now.trunc_subsecs(0),
            started_at: None,
            finished_at: None,
            progress_at: None,
            error: None,
            report_key: None,
            attempts: 0,
            continuations: 0,
            requested_by: requested_by.to_string(),
        }
    }

    /// When the record and its rows' items expire (TTL).
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.created_at + chrono::Duration::days(KEEP_DAYS)
    }

    /// Where the report of failed rows goes.
    pub fn report_object_key(&self) -> String {
        let folder = self.object_key.rsplit_once('/').map_or("imports", |(folder, _)| folder);
        format!("{folder}/failed-rows.csv")
    }

    /// The report's download name.
    pub fn report_disposition(&self) -> String {
        format!("attachment; filename=\"import-{}-failed-rows.csv\"", self.id)
    }

    /// Whether it may be started now: once uploaded, or again after a dry run, or to
    /// go on after it failed (from its checkpoint: rows already imported are not again).
    pub fn startable(&self) -> bool {
        match self.status {
            ImportStatus::AwaitingUpload | ImportStatus::Failed => true,
            ImportStatus::Done => self.settings.as_ref().is_some_and(|s| s.dry_run),
            ImportStatus::Queued | ImportStatus::Running => false,
        }
    }
}

/// Time-ordered with a random tail: `im` + milliseconds + 8 hex digits.
pub fn new_import_id(at: DateTime<Utc>) -> String {
    crate::domain::time_ordered_id("im", at, 4)
}

/// Whether `s` looks like an import id (so it is safe inside a key).
pub fn is_import_id(s: &str) -> bool {
    crate::domain::is_time_ordered_id(s, "im")
}

/// The report of failed rows: `row,reason`, the row numbered as a spreadsheet shows it
/// (the header is row 1).
pub fn report_csv(failures: &[(u64, String)]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let _ = writer.write_record(["row", "reason"]);
    for (row, reason) in failures {
        let _ = writer.write_record([row.to_string().as_str(), reason.as_str()]);
    }
    writer.into_inner().unwrap_or_default()
}

/// What became of a conditional change to an import.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportUpdate {
    Done(Box<Import>),
    /// The import is gone or no longer in the state the change needs.
    Gone,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mapping: &[(&str, Field)], default_channel: Option<Channel>) -> ImportSettings {
        ImportSettings {
            mapping: mapping.iter().map(|(c, f)| (c.to_string(), *f)).collect(),
            default_channel,
            duplicates: DuplicateRule::Skip,
            dry_run: false,
        }
    }

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn a_mapping_is_checked_against_the_header() {
        let h = header(&["Full name", "E-mail", "Source"]);
        let ok = settings(&[("Full name", Field::Name), ("E-mail", Field::Email)], Some(Channel::Frame));
        assert_eq!(ok.check(&h), Ok(()));
        let missing = settings(&[("Mail", Field::Email)], Some(Channel::Frame));
        assert_eq!(missing.check(&h).unwrap_err().field, "mapping.Mail");
        let twice = settings(&[("Full name", Field::Email), ("E-mail", Field::Email)], Some(Channel::Frame));
        assert!(twice.check(&h).unwrap_err().message.contains("already mapped"));
        let no_channel = settings(&[("E-mail", Field::Email)], None);
        assert_eq!(no_channel.check(&h).unwrap_err().field, "default_channel");
        let channel_column = settings(&[("E-mail", Field::Email), ("Source", Field::Channel)], None);
        assert_eq!(channel_column.check(&h), Ok(()));
    }

    #[test]
    fn headers_suggest_fields() {
        assert_eq!(Field::guess("E-mail"), Some(Field::Email));
        assert_eq!(Field::guess("Phone Number"), Some(Field::Phone));
        assert_eq!(Field::guess("Favourite colour"), None);
    }

    #[test]
    fn ids_and_keys_are_safe() {
        let ws = WorkspaceId::parse("acme").unwrap();
        let i = Import::new(&ws, "admin", "2025-08-22T10:30:00Z".parse().unwrap());
        assert!(is_import_id(&i.id), "{}", i.id);
        assert!(!is_import_id("im../../etc/passwd00000"));
        assert_eq!(i.report_object_key(), format!("imports/acme/{}/failed-rows.csv", i.id));
    }

    #[test]
    fn the_report_quotes_what_needs_it() {
        let csv = report_csv(&[(3, "email: `x` is not an email, nor \"y\"".into())]);
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "row,reason\r\n3,\"email: `x` is not an email, nor \"\"y\"\"\"\r\n"
        );
    }
}
