//! Reading an imported file row by row, in constant memory: CSV with its delimiter
//! sniffed from the header line (`,` `;` tab `|`), UTF-8 with or without a byte-order mark,
//! and any field that is not UTF-8 read as Windows-1252 (Latin-1 and the characters Excel
//! on Windows adds to it); XLSX cell by cell from the first worksheet.

use calamine::{DataRef, DataType, Reader, Xlsx};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Seek};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }
}

/// Why a file cannot be imported at all (rows with problems are reported one by one instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a CSV or XLSX file ({0})")]
    NotTabular(String),
    #[error("the file has a header row and no rows of contacts")]
    HeaderOnly,
    #[error("the header row is empty")]
    NoHeader,
    #[error("the header row is longer than {0} bytes")]
    HeaderTooLong(usize),
    #[error("the XLSX file cannot be read: {0}")]
    Xlsx(String),
    #[error("the file cannot be read: {0}")]
    Io(String),
}

/// Bytes enough to tell the format and read a CSV header.
pub const HEAD_BYTES: usize = 64 * 1024;

/// Tells CSV from XLSX by the file's first bytes; refuses what is neither.
pub fn sniff(head: &[u8]) -> Result<FileFormat, FileError> {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileError::Empty);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Ok(FileFormat::Xlsx);
    }
    let known = [
        (&b"%PDF"[..], "a PDF document"),
        (b"\xD0\xCF\x11\xE0", "an old Excel (XLS) or Office file: save it as XLSX or CSV"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"PK", "a zip archive"),
    ];
    if let Some((_, what)) = known.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Err(FileError::NotTabular(what.to_string()));
    }
    if head.contains(&0) {
        return Err(FileError::NotTabular("binary data".into()));
    }
    Ok(FileFormat::Csv)
}

/// A row of the file. `number` is the row as a spreadsheet numbers it (the header is 1);
/// `problem` says why the row cannot be read as it stands (broken quoting).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: u64,
    pub cells: Vec<String>,
    pub problem: Option<String>,
}

impl Row {
    fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// A file read row by row after its header. Blank rows are passed over.
pub trait RowSource {
    fn header(&self) -> &[String];
    fn next_row(&mut self) -> Result<Option<Row>, FileError>;

    /// Passes over `n` rows (a run resuming after the rows a checkpoint covers).
    fn skip(&mut self, n: u64) -> Result<(), FileError> {
        for _ in 0..n {
            if self.next_row()?.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// Counts the rows left.
    fn count(&mut self) -> Result<u64, FileError> {
        let mut n = 0;
        while self.next_row()?.is_some() {
            n += 1;
        }
        Ok(n)
    }
}

/// A record may span lines (quoted line breaks) up to this size; a quote still open past
/// it, or at the end of the file, is broken quoting.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// A CSV file's rows, split by a small RFC 4180 reader of our own rather than the `csv`
/// crate's: it numbers rows by the line they start on (blank lines and CRLF included),
/// and a quote left open costs one row, not the rest of the file: the rows after the
/// broken one are read again from its next line.
pub struct CsvRows<R: Read> {
    reader: BufReader<R>,
    delimiter: u8,
    header: Vec<String>,
    /// The number of the next line to read from `reader`.
    line: u64,
    /// Lines read past a broken row, to be read again.
    replay: std::collections::VecDeque<(u64, Vec<u8>)>,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: its end, or the first of an escaped pair.
    QuoteInQuoted,
}

impl<R: Read> CsvRows<R> {
    pub fn open(input: R) -> Result<Self, FileError> {
        let mut reader = BufReader::with_capacity(HEAD_BYTES, input);
        let head = reader.fill_buf().map_err(|e| FileError::Io(e.to_string()))?;
        let bom = head.starts_with(b"\xEF\xBB\xBF");
        let delimiter = sniff_delimiter(if bom { &head[3..] } else { head })?;
        if bom {
            reader.consume(3);
        }
        let mut rows = CsvRows { reader, delimiter, header: Vec::new(), line: 1, replay: Default::default() };
        let header = rows.next_row()?.ok_or(FileError::Empty)?;
        rows.header = header.cells.iter().map(|c| c.trim().to_string()).collect();
        Ok(rows)
    }

    fn next_line(&mut self) -> Result<Option<(u64, Vec<u8>)>, FileError> {
        if let Some(line) = self.replay.pop_front() {
            return Ok(Some(line));
        }
        let mut line = Vec::new();
        let n = self.reader.read_until(b'\n', &mut line).map_err(|e| FileError::Io(e.to_string()))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        Ok(Some((self.line - 1, line)))
    }

    /// The next record, blank ones included.
    fn next_record(&mut self) -> Result<Option<Row>, FileError> {
        let (mut cells, mut field, mut state) = (Vec::new(), Vec::new(), State::FieldStart);
        let mut lines: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut size = 0;
        loop {
            let Some((number, line)) = self.next_line()? else {
                return match lines.first() {
                    None => Ok(None),
                    Some(_) if state == State::Quoted => Ok(Some(self.broken(lines))),
                    Some((first, _)) => {
                        cells.push(decode(&field));
                        Ok(Some(self.row(*first, cells)))
                    }
                };
            };
            size += line.len();
            for &b in &line {
                state = match (state, b) {
                    (State::Quoted, b'"') => State::QuoteInQuoted,
                    (State::Quoted, b) => {
                        field.push(b);
                        State::Quoted
                    }
                    (State::FieldStart, b'"') => State::Quoted,
                    (State::QuoteInQuoted, b'"') => {
                        field.push(b'"');
                        State::Quoted
                    }
                    (_, b'\n') => {
                        if state == State::Unquoted && field.last() == Some(&b'\r') {
                            field.pop();
                        }
                        cells.push(decode(&field));
                        let first = lines.first().map_or(number, |(n, _)| *n);
                        return Ok(Some(self.row(first, cells)));
                    }
                    (_, d) if d == self.delimiter => {
                        cells.push(decode(&std::mem::take(&mut field)));
                        State::FieldStart
                    }
                    (State::QuoteInQuoted, b'\r') => State::QuoteInQuoted,
                    (_, b) => {
                        field.push(b);
                        State::Unquoted
                    }
                };
            }
            lines.push((number, line));
            if state == State::Quoted && size > MAX_RECORD_BYTES {
                return Ok(Some(self.broken(lines)));
            }
        }
    }

    fn row(&self, number: u64, cells: Vec<String>) -> Row {
        let columns = self.header.len();
        let problem = (columns > 0 && cells.len() > columns)
            .then(|| format!("the row has {} fields, the header {columns}", cells.len()));
        Row { number, cells, problem }
    }

    /// A row whose quote never closes: reported alone, and the lines after its first are
    /// read again as rows of their own.
    fn broken(&mut self, mut lines: Vec<(u64, Vec<u8>)>) -> Row {
        let (number, _) = lines.remove(0);
        for line in lines.into_iter().rev() {
            self.replay.push_front(line);
        }
        Row {
            number,
            cells: Vec::new(),
            problem: Some("broken quoting: a quoted field opened in this row is never closed".into()),
        }
    }
}

impl<R: Read> RowSource for CsvRows<R> {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self) -> Result<Option<Row>, FileError> {
        loop {
            match self.next_record()? {
                Some(row) if row.is_blank() && row.problem.is_none() => continue,
                other => return Ok(other),
            }
        }
    }
}

/// A field as text: UTF-8 when it is, else Windows-1252.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// The delimiter the header line uses most, outside quotes: `,` `;` tab or `|` (`,` when none).
fn sniff_delimiter(head: &[u8]) -> Result<u8, FileError> {
    let line_end = head.iter().position(|&b| b == b'\n');
    if line_end.is_none() && head.len() >= HEAD_BYTES - 3 {
        return Err(FileError::HeaderTooLong(HEAD_BYTES));
    }
    let line = &head[..line_end.unwrap_or(head.len())];
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                c.1 += 1;
            }
        }
    }
    // The first of the most used wins a tie, so a header without any delimiter reads as CSV.
    let best = counts.iter().fold(counts[0], |best, c| if c.1 > best.1 { *c } else { best });
    Ok(best.0)
}

/// The first worksheet of an XLSX file's rows. The workbook's shared strings are held in
/// memory (they are bounded by the file's size, at most 50 MB); cells are read one by one.
pub struct XlsxRows<'a, RS: Read + Seek> {
    cells: calamine::XlsxCellReader<'a, RS>,
    header: Vec<String>,
    /// A cell read past the end of the row being built: the next row's first.
    pending: Option<(u32, u32, String)>,
    /// The sheet's end was read: the cell reader must not be asked again.
    ended: bool,
}

/// Opens a workbook (its shared strings and styles) for [`XlsxRows::open`].
pub fn open_workbook<RS: Read + Seek>(input: RS) -> Result<Xlsx<RS>, FileError> {
    Xlsx::new(input).map_err(|e| FileError::Xlsx(e.to_string()))
}

impl<'a, RS: Read + Seek> XlsxRows<'a, RS> {
    pub fn open(workbook: &'a mut Xlsx<RS>) -> Result<Self, FileError> {
        let sheet = workbook
            .sheet_names()
            .into_iter()
            .next()
            .ok_or_else(|| FileError::Xlsx("the workbook has no worksheet".into()))?;
        let cells = workbook.worksheet_cells_reader(&sheet).map_err(|e| FileError::Xlsx(e.to_string()))?;
        let mut rows = XlsxRows { cells, header: Vec::new(), pending: None, ended: false };
        let header = rows.next_sheet_row()?.ok_or(FileError::Empty)?;
        if header.is_blank() {
            return Err(FileError::NoHeader);
        }
        let mut names: Vec<String> = header.cells.iter().map(|c| c.trim().to_string()).collect();
        while names.last().is_some_and(String::is_empty) {
            names.pop();
        }
        rows.header = names;
        Ok(rows)
    }

    fn next_cell(&mut self) -> Result<Option<(u32, u32, String)>, FileError> {
        if let Some(cell) = self.pending.take() {
            return Ok(Some(cell));
        }
        if self.ended {
            return Ok(None);
        }
        let cell = self.cells.next_cell().map_err(|e| FileError::Xlsx(e.to_string()))?;
        self.ended = cell.is_none();
        Ok(cell.map(|c| {
            let (row, col) = c.get_position();
            (row, col, cell_text(c.get_value()))
        }))
    }

    /// The next row of the sheet: its cells in column order, gaps filled with empty cells.
    fn next_sheet_row(&mut self) -> Result<Option<Row>, FileError> {
        let Some((row, col, text)) = self.next_cell()? else { return Ok(None) };
        let mut cells = Vec::new();
        let mut put = |col: u32, text: String| {
            let col = col as usize;
            if cells.len() <= col {
                cells.resize(col + 1, String::new());
            }
            cells[col] = text;
        };
        put(col, text);
        while let Some((r, c, t)) = self.next_cell()? {
            if r != row {
                self.pending = Some((r, c, t));
                break;
            }
            put(c, t);
        }
        Ok(Some(Row { number: u64::from(row) + 1, cells, problem: None }))
    }
}

impl<RS: Read + Seek> RowSource for XlsxRows<'_, RS> {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self) -> Result<Option<Row>, FileError> {
        loop {
            match self.next_sheet_row()? {
                Some(row) if row.is_blank() => continue,
                other => return Ok(other),
            }
        }
    }
}

/// A cell as the text a person sees: numbers without a trailing `.0` (phone numbers
/// typed as numbers), booleans as `true`/`false`; errors and empty cells as empty text.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        other => other.as_string().unwrap_or_default(),
    }
}

/// The header of a file and whether it has a row after it: what starting an import checks.
pub fn inspect(rows: &mut impl RowSource) -> Result<Vec<String>, FileError> {
    let header = rows.header().to_vec();
    match rows.next_row()? {
        Some(_) => Ok(header),
        None => Err(FileError::HeaderOnly),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> (Vec<String>, Vec<Row>) {
        let mut source = CsvRows::open(bytes).unwrap();
        let mut all = Vec::new();
        while let Some(row) = source.next_row().unwrap() {
            all.push(row);
        }
        (source.header().to_vec(), all)
    }

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        for (file, delimiter) in [
            (&b"name,email\nAda,ada@example.com\n"[..], ","),
            (b"name;email\nAda;ada@example.com\n", ";"),
            (b"name\temail\nAda\tada@example.com\n", "tab"),
            (b"name|email\nAda|ada@example.com\n", "|"),
            (b"\"last, first\";email\n\"Lovelace, Ada\";ada@example.com\n", ";"),
        ] {
            let (header, rows) = read_all(file);
            assert_eq!(header.len(), 2, "{delimiter}: {header:?}");
            assert_eq!(rows[0].cells.len(), 2, "{delimiter}");
            assert_eq!(rows[0].number, 2);
        }
    }

    #[test]
    fn a_bom_is_dropped_and_latin1_fields_are_decoded() {
        let (header, rows) = read_all(b"\xEF\xBB\xBFname,email\nJos\xE9 M\xFCller,jose@example.com\n");
        assert_eq!(header, ["name", "email"]);
        assert_eq!(rows[0].cells[0], "José Müller");
        let (_, rows) = read_all("name\r\nZoë\r\n".as_bytes());
        assert_eq!(rows[0].cells[0], "Zoë");
    }

    #[test]
    fn broken_quoting_is_a_problem_of_its_row_and_blank_rows_pass() {
        let (_, rows) =
            read_all(b"name,email\r\nAda,ada@example.com\r\n\r\n\"Bob,bob@example.com\r\nCy,cy@example.com\r\n");
        assert_eq!(rows.iter().map(|r| r.number).collect::<Vec<_>>(), [2, 4, 5]);
        assert_eq!(rows[0].problem, None);
        assert!(rows[1].problem.as_deref().unwrap().contains("broken quoting"), "{:?}", rows[1]);
        assert_eq!(rows[2].cells, ["Cy", "cy@example.com"], "the rows after a broken one are read");
        let (_, rows) = read_all(b"name,notes\n\"Ada\",\"two\nlines, \"\"quoted\"\"\"\nBo,5\" screen\n");
        assert_eq!(rows[0].cells, ["Ada", "two\nlines, \"quoted\""]);
        assert_eq!((rows[1].number, rows[1].cells.clone()), (4, vec!["Bo".to_string(), "5\" screen".to_string()]));
        let (_, rows) = read_all(b"name,email\nAda,ada@example.com,extra\n");
        assert!(rows[0].problem.as_deref().unwrap().contains("3 fields"));
    }

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(sniff(b"name,email\n"), Ok(FileFormat::Csv));
        assert_eq!(sniff(b"PK\x03\x04rest"), Ok(FileFormat::Xlsx));
        assert_eq!(sniff(b"\xEF\xBB\xBF \n"), Err(FileError::Empty));
        assert_eq!(sniff(b""), Err(FileError::Empty));
        assert!(matches!(sniff(b"%PDF-1.4"), Err(FileError::NotTabular(_))));
        assert!(matches!(sniff(b"ab\0cd"), Err(FileError::NotTabular(_))));
    }

    #[test]
    fn a_header_alone_is_refused_on_inspection() {
        let mut source = CsvRows::open(&b"name,email\n\n"[..]).unwrap();
        assert_eq!(inspect(&mut source), Err(FileError::HeaderOnly));
        let mut source = CsvRows::open(&b"name,email\nAda,a@example.com"[..]).unwrap();
        assert_eq!(inspect(&mut source).unwrap(), ["name", "email"]);
    }

    #[test]
    fn xlsx_rows_come_cell_by_cell_with_gaps_filled() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "name").unwrap();
        sheet.write_string(0, 1, "phone").unwrap();
        sheet.write_string(0, 2, "email").unwrap();
        sheet.write_string(1, 0, "Ada").unwrap();
        sheet.write_number(1, 1, 4155552671.0).unwrap();
        sheet.write_string(1, 2, "ada@example.com").unwrap();
        sheet.write_string(3, 2, "cy@example.com").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let mut workbook = open_workbook(std::io::Cursor::new(bytes)).unwrap();
        let mut rows = XlsxRows::open(&mut workbook).unwrap();
        assert_eq!(rows.header(), ["name", "phone", "email"]);
        let first = rows.next_row().unwrap().unwrap();
        assert_eq!(
            (first.number, first.cells.clone()),
            (2, vec!["Ada".into(), "4155552671".into(), "ada@example.com".into()])
        );
        let second = rows.next_row().unwrap().unwrap();
        assert_eq!((second.number, second.cells), (4, vec![String::new(), String::new(), "cy@example.com".into()]));
        assert_eq!(rows.next_row().unwrap(), None);
    }
}
