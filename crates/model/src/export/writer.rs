//! Rows to file bytes, and file bytes to upload parts, with memory that does not grow
//! with the number of rows: CSV and JSON bytes leave as soon as a part is full; XLSX rows
//! go to a temporary file (rust_xlsxwriter's constant-memory mode) and the workbook is
//! zipped straight into parts at the end.

use super::row::{ExportRow, COLUMNS};
use super::ExportFormat;
use std::future::Future;
use std::io::Write;

/// Least size of each upload part but the last. S3 wants at least 5 MiB and allows 10,000
/// parts: parts of 8 MiB carry files up to 80 GB.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Room in a part's buffer past `PART_SIZE`: a part is cut where a push ends (the worker
/// pushes a page of rows at a time), so that a part ends where a page ends and a checkpoint
/// can name the page that follows.
const PART_SLACK: usize = 1024 * 1024;

/// A worksheet holds 1,048,576 rows; one is the header.
pub const MAX_XLSX_ROWS: u64 = 1_048_575;

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A format library failed to encode the rows.
    #[error("{0}")]
    Encoding(String),
    /// The list is longer than the format can hold.
    #[error("an XLSX worksheet holds at most {MAX_XLSX_ROWS} contacts; export this list as CSV or JSON")]
    TooManyRows,
    /// The sink refused a part.
    #[error("upload: {0}")]
    Upload(String),
}

/// Where the parts of a file go (an S3 multipart upload in the export worker).
pub trait PartSink: Send {
    /// Stores part `number` (from 1). Every part but the last has at least `PART_SIZE` bytes.
    fn upload(&mut self, number: i32, bytes: Vec<u8>) -> impl Future<Output = Result<(), ExportError>> + Send;
}

/// Collects bytes into parts and hands each to the sink once it holds `PART_SIZE` bytes
/// or more, cut where a push ends.
pub struct Parts<S> {
    sink: S,
    buffer: Vec<u8>,
    uploaded: i32,
    bytes: u64,
}

impl<S: PartSink> Parts<S> {
    pub fn new(sink: S) -> Self {
        Parts::resume(sink, 0, 0, Vec::new())
    }

    /// Goes on with a file of which `uploaded` parts are in the sink and `pending` bytes
    /// follow them; `bytes` counts both.
    pub fn resume(sink: S, uploaded: i32, bytes: u64, pending: Vec<u8>) -> Self {
        let mut buffer = Vec::with_capacity(PART_SIZE + PART_SLACK);
        buffer.extend_from_slice(&pending);
        Parts { sink, buffer, uploaded, bytes }
    }

    /// Adds bytes; uploads the buffer as a part when it holds `PART_SIZE` or more. Returns
    /// whether it did (then nothing is pending: the file so far is all in parts).
    pub async fn push(&mut self, bytes: &[u8]) -> Result<bool, ExportError> {
        self.bytes += bytes.len() as u64;
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() < PART_SIZE {
            return Ok(false);
        }
        self.upload_buffer().await?;
        Ok(true)
    }

    /// Bytes pushed after the last part, not uploaded yet.
    pub fn pending(&self) -> &[u8] {
        &self.buffer
    }

    /// Parts uploaded so far.
    pub fn uploaded(&self) -> i32 {
        self.uploaded
    }

    /// Bytes pushed so far, uploaded or pending.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Uploads what is left as the last part; returns the sink, the file's size and its number of parts.
    pub async fn finish(mut self) -> Result<(S, u64, i32), ExportError> {
        if !self.buffer.is_empty() || self.uploaded == 0 {
            self.upload_buffer().await?;
        }
        Ok((self.sink, self.bytes, self.uploaded))
    }

    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    async fn upload_buffer(&mut self) -> Result<(), ExportError> {
        let part = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART_SIZE + PART_SLACK));
        self.uploaded += 1;
        self.sink.upload(self.uploaded, part).await
    }
}

/// Writes rows in one format. Call `take` between batches to move the bytes written so
/// far into the parts, and `finish` once at the end.
pub enum RowWriter {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Json { out: Vec<u8>, rows: u64 },
    Xlsx(Box<Xlsx>),
}

pub struct Xlsx {
    workbook: rust_xlsxwriter::Workbook,
    rows: u32,
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> ExportError {
    ExportError::Encoding(format!("xlsx: {e}"))
}

fn encoding(e: impl std::fmt::Display) -> ExportError {
    ExportError::Encoding(e.to_string())
}

impl RowWriter {
    pub fn new(format: ExportFormat) -> Result<Self, ExportError> {
        match format {
            ExportFormat::Csv => {
                let mut w = csv_writer();
                w.write_record(COLUMNS).map_err(encoding)?;
                Ok(RowWriter::Csv(Box::new(w)))
            }
            ExportFormat::Json => Ok(RowWriter::Json { out: b"[".to_vec(), rows: 0 }),
            ExportFormat::Xlsx => {
                let mut workbook = rust_xlsxwriter::Workbook::new();
                workbook.set_tempdir(std::env::temp_dir()).map_err(xlsx_error)?;
                let sheet = workbook.add_worksheet_with_constant_memory().map_err(xlsx_error)?;
                sheet.set_name("Contacts").map_err(xlsx_error)?;
                let bold = rust_xlsxwriter::Format::new().set_bold();
                for (col, title) in COLUMNS.iter().enumerate() {
                    sheet.write_string_with_format(0, col as u16, *title, &bold).map_err(xlsx_error)?;
                    let width = match *title {
                        "id" | "channel" | "status" | "score" | "consent" | "opted_out" => 10.0,
                        "created_at" | "last_activity_at" | "phone" | "phone_e164" => 22.0,
                        _ => 28.0,
                    };
                    sheet.set_column_width(col as u16, width).map_err(xlsx_error)?;
                }
                Ok(RowWriter::Xlsx(Box::new(Xlsx { workbook, rows: 0 })))
            }
        }
    }

    /// Goes on with a CSV or JSON file that already holds `rows` rows (and its start).
    pub fn resume(format: ExportFormat, rows: u64) -> Result<Self, ExportError> {
        match format {
            ExportFormat::Csv => Ok(RowWriter::Csv(Box::new(csv_writer()))),
            ExportFormat::Json => Ok(RowWriter::Json { out: Vec::new(), rows }),
            ExportFormat::Xlsx => Err(ExportError::Encoding("an XLSX file cannot be continued".into())),
        }
    }

    pub fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        match self {
            RowWriter::Csv(w) => {
                w.write_record(row.cells().iter().map(|c| neutralize(c).into_owned())).map_err(encoding)
            }
            RowWriter::Json { out, rows } => {
                out.extend_from_slice(if *rows == 0 { b"\n" } else { b",\n" });
                serde_json::to_writer(&mut *out, &row.json()).map_err(encoding)?;
                *rows += 1;
                Ok(())
            }
            RowWriter::Xlsx(x) => {
                if u64::from(x.rows) >= MAX_XLSX_ROWS {
                    return Err(ExportError::TooManyRows);
                }
                x.rows += 1;
                let r = x.rows;
                let sheet = x.workbook.worksheet_from_index(0).map_err(xlsx_error)?;
                // Values are written as numbers, strings and booleans, never as formulas.
                sheet.write_number(r, 0, row.id as f64).map_err(xlsx_error)?;
                // The first column is the id, the last `opted_out`; strings between.
                let last = COLUMNS.len() - 1;
                for (col, cell) in row.cells().iter().enumerate().take(last).skip(1) {
                    if !cell.is_empty() {
                        sheet.write_string(r, col as u16, cell).map_err(xlsx_error)?;
                    }
                }
                sheet.write_boolean(r, last as u16, row.opted_out).map_err(xlsx_error)?;
                Ok(())
            }
        }
    }

    /// The bytes written since the last call (none for XLSX before `finish`).
    pub fn take(&mut self) -> Result<Vec<u8>, ExportError> {
        match self {
            // The csv writer only gives its buffer up whole: swap in a fresh one.
            RowWriter::Csv(w) => std::mem::replace(w.as_mut(), csv_writer()).into_inner().map_err(encoding),
            RowWriter::Json { out, .. } => Ok(std::mem::take(out)),
            RowWriter::Xlsx(_) => Ok(Vec::new()),
        }
    }

    /// Writes the end of the file into `parts` (the whole workbook, for XLSX).
    pub async fn finish<S: PartSink>(mut self, parts: &mut Parts<S>) -> Result<(), ExportError> {
        let rest = self.take()?;
        parts.push(&rest).await?;
        match self {
            RowWriter::Csv(_) => Ok(()),
            RowWriter::Json { rows, .. } => parts.push(if rows == 0 { b"]\n" } else { b"\n]\n" }).await.map(|_| ()),
            RowWriter::Xlsx(x) => zip_into(x.workbook, parts).await,
        }
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new())
}

/// Neutralizes cells a spreadsheet would run as a formula (OWASP's CSV injection advice):
/// a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Chunks of the zipped workbook travel from the blocking writer to the async uploader.
const ZIP_CHUNK: usize = 1024 * 1024;

struct ChunkWriter {
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    buffer: Vec<u8>,
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= ZIP_CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(ZIP_CHUNK));
        self.tx.blocking_send(chunk).map_err(|_| std::io::Error::other("the upload stopped"))
    }
}

/// Zips the workbook (its sheet read back from the temporary file) on a blocking thread,
/// uploading the zip as it is produced.
async fn zip_into<S: PartSink>(
    mut workbook: rust_xlsxwriter::Workbook,
    parts: &mut Parts<S>,
) -> Result<(), ExportError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(2);
    let zipping = tokio::task::spawn_blocking(move || {
        let mut writer = ChunkWriter { tx, buffer: Vec::with_capacity(ZIP_CHUNK) };
        workbook.save_to_writer(&mut writer).map_err(xlsx_error)?;
        writer.flush().map_err(encoding)
    });
    let mut upload_error = None;
    while let Some(chunk) = rx.recv().await {
        if let Err(e) = parts.push(&chunk).await {
            upload_error = Some(e);
            break;
        }
    }
    drop(rx);
    let zipped = zipping.await.map_err(|e| ExportError::Encoding(format!("xlsx: {e}")))?;
    match upload_error {
        Some(e) => Err(e),
        None => zipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps the parts in memory, for checking what was written.
    #[derive(Default)]
    struct Collect(Vec<(i32, Vec<u8>)>);

    impl PartSink for Collect {
        async fn upload(&mut self, number: i32, bytes: Vec<u8>) -> Result<(), ExportError> {
            self.0.push((number, bytes));
            Ok(())
        }
    }

    fn row(id: u64, name: &str) -> ExportRow {
        ExportRow {
            id,
            name: Some(name.to_string()),
            email: Some("olivia@lumoco.dev".into()),
            phone: Some("+1 415 555 2671".into()),
            channel: "frame",
            created_at: "2025-08-22T05:02:29Z".into(),
            phone_e164: Some("+14155552671".into()),
            status: "new",
            score: "warm",
            tags: vec!["pricing".into(), "vip".into()],
            last_activity_at: "2025-08-22T05:02:29Z".into(),
            consent: "granted",
            opted_out: false,
        }
    }

    async fn file(format: ExportFormat, rows: &[ExportRow]) -> Vec<u8> {
        let mut w = RowWriter::new(format).unwrap();
        let mut parts = Parts::new(Collect::default());
        for r in rows {
            w.write(r).unwrap();
        }
        w.finish(&mut parts).await.unwrap();
        let (sink, size, count) = parts.finish().await.unwrap();
        assert_eq!(count as usize, sink.0.len());
        let bytes: Vec<u8> = sink.0.into_iter().flat_map(|(_, b)| b).collect();
        assert_eq!(bytes.len() as u64, size);
        bytes
    }

    #[test]
    fn cells_that_would_run_as_formulas_are_neutralized() {
        for bad in ["=1+1", "+1 415", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralize(bad), format!("'{bad}"));
        }
        assert_eq!(neutralize("Olivia"), "Olivia");
        assert_eq!(neutralize(""), "");
    }

    #[tokio::test]
    async fn csv_is_rfc_4180_with_a_header() {
        let bytes = file(ExportFormat::Csv, &[row(1, "Bennett, \"Liv\""), row(2, "=HYPERLINK(\"x\")")]).await;
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(lines[1], "1,\"Bennett, \"\"Liv\"\"\",olivia@lumoco.dev,'+1 415 555 2671,frame,2025-08-22T05:02:29Z,'+14155552671,new,warm,pricing; vip,2025-08-22T05:02:29Z,granted,false");
        assert!(lines[2].starts_with("2,\"'=HYPERLINK(\"\"x\"\")\""), "{}", lines[2]);
        assert_eq!(lines[3], "");
    }

    #[tokio::test]
    async fn json_is_one_array_with_a_contact_per_line() {
        let bytes = file(ExportFormat::Json, &[row(1, "A"), row(2, "B")]).await;
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value[1]["id"], 2);
        assert_eq!(value[0]["tags"], serde_json::json!(["pricing", "vip"]));
        assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 4);
        let empty: serde_json::Value = serde_json::from_slice(&file(ExportFormat::Json, &[]).await).unwrap();
        assert_eq!(empty, serde_json::json!([]));
    }

    #[tokio::test]
    async fn xlsx_is_a_zip_workbook() {
        let bytes = file(ExportFormat::Xlsx, &[row(1, "A")]).await;
        assert_eq!(&bytes[..2], b"PK");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("xl/worksheets/sheet1.xml"));
    }

    #[tokio::test]
    async fn parts_are_full_except_the_last_and_end_where_a_push_ends() {
        let mut parts = Parts::new(Collect::default());
        let chunk = vec![b'x'; PART_SIZE / 3 + 1];
        let mut uploads = 0;
        for _ in 0..7 {
            uploads += usize::from(parts.push(&chunk).await.unwrap());
        }
        let (sink, size, count) = parts.finish().await.unwrap();
        assert_eq!(uploads, 2);
        assert_eq!((count, size), (3, 7 * chunk.len() as u64));
        assert!(sink.0[..2].iter().all(|(_, p)| p.len() == 3 * chunk.len()));
        assert_eq!(sink.0.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_file_continued_from_its_pending_bytes_is_the_same_file() {
        let rows: Vec<ExportRow> = (1..=5).map(|i| row(i, "A")).collect();
        for format in [ExportFormat::Csv, ExportFormat::Json] {
            let whole = file(format, &rows).await;
            let mut w = RowWriter::new(format).unwrap();
            let mut parts = Parts::new(Collect::default());
            for r in &rows[..2] {
                w.write(r).unwrap();
            }
            parts.push(&w.take().unwrap()).await.unwrap();
            let (pending, bytes) = (parts.pending().to_vec(), parts.bytes());
            let mut w = RowWriter::resume(format, 2).unwrap();
            let mut parts = Parts::resume(Collect::default(), 0, bytes, pending);
            for r in &rows[2..] {
                w.write(r).unwrap();
            }
            w.finish(&mut parts).await.unwrap();
            let (sink, size, _) = parts.finish().await.unwrap();
            let bytes: Vec<u8> = sink.0.into_iter().flat_map(|(_, b)| b).collect();
            assert_eq!((bytes.len() as u64, &bytes), (size, &whole), "{format:?}");
        }
    }
}
