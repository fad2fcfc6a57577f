//! A file sent with a form (`multipart/form-data`, RFC 7578): the import page's upload.
//! Small on purpose: named text fields and one file, no nested parts or transfer encodings
//! (browsers send neither).

use super::format::Form;
use crate::http::Problem;
use lambda_http::Request;

/// A Lambda's request is at most 6 MB, base64 included for a binary body (about 4.5 MB of
/// file): 4 MiB of file leaves room for the rest of the form. Larger files go through the
/// API's presigned upload link.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug)]
pub struct Multipart {
    /// The text fields.
    pub fields: Form,
    /// The file's name as the browser gave it, and its bytes.
    pub file: Option<(String, Vec<u8>)>,
}

impl Multipart {
    pub fn body(req: &Request) -> Result<Self, Problem> {
        let body = req.body().as_ref();
        if body.len() > MAX_FILE_BYTES + 64 * 1024 {
            return Err(Problem::too_large(format!(
                "the page takes files up to {} MB; import a larger file through the API (POST /api/v1/imports)",
                MAX_FILE_BYTES / (1024 * 1024)
            )));
        }
        let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        let boundary = content_type
            .strip_prefix("multipart/form-data")
            .and_then(|rest| rest.split(';').find_map(|p| p.trim().strip_prefix("boundary=")))
            .map(|b| b.trim_matches('"'))
            .filter(|b| !b.is_empty())
            .ok_or_else(|| Problem::bad_request("the form must be sent as multipart/form-data"))?;
        Self::parse(body, boundary)
            .ok_or_else(|| Problem::bad_request("the form's body is not valid multipart/form-data"))
    }

    fn parse(body: &[u8], boundary: &str) -> Option<Self> {
        let delimiter = format!("--{boundary}");
        let mut fields = Vec::new();
        let mut file = None;
        let mut rest = &body[find(body, delimiter.as_bytes())? + delimiter.len()..];
        // Each part: CRLF, headers, a blank line, the content, CRLF, the next delimiter.
        while let Some(after) = rest.strip_prefix(b"\r\n") {
            let head_end = find(after, b"\r\n\r\n")?;
            let head = std::str::from_utf8(&after[..head_end]).ok()?;
            let content_start = head_end + 4;
            let end = content_start + find(&after[content_start..], format!("\r\n{delimiter}").as_bytes())?;
            let content = &after[content_start..end];
            let disposition = head.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
            let name = param(disposition, "name")?;
            match param(disposition, "filename") {
                Some(filename) => file = Some((filename, content.to_vec())),
                None => fields.push((name, String::from_utf8_lossy(content).into_owned())),
            }
            rest = &after[end + 2 + delimiter.len()..];
        }
        rest.starts_with(b"--").then(|| Multipart { fields: Form::of_pairs(fields), file })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `name="value"` from a Content-Disposition header (browsers escape `"` as `%22`).
fn param(header: &str, name: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.eq_ignore_ascii_case(name)).then(|| v.trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_one_file_with_binary_content() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\nContent-Type: text/csv\r\n\r\nName\r\n\xff\x00\r\n--XyZ--\r\n";
        let m = Multipart::parse(body, "XyZ").expect("parsed");
        assert_eq!(m.fields.get("csrf"), "tok");
        let (name, bytes) = m.file.expect("file");
        assert_eq!(name, "c.csv");
        assert_eq!(bytes, b"Name\r\n\xff\x00");
    }

    #[test]
    fn refuses_a_body_without_its_end() {
        assert!(Multipart::parse(b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1", "XyZ").is_none());
        assert!(Multipart::parse(b"garbage", "XyZ").is_none());
    }
}
