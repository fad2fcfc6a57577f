//! Reading requests: bounded JSON bodies, query parameters, path ids and `If-Match`.

use super::Problem;
use lambda_http::{Request, RequestExt};
use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Request bodies above this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Parses a JSON body into `T`, which should deny unknown fields.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Problem> {
    let body = req.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(Problem::too_large(format!("request bodies are limited to {} KiB", MAX_BODY_BYTES / 1024)));
    }
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !(media == "application/json" || media == "application/merge-patch+json") {
        return Err(Problem::unsupported_media_type(format!(
            "send the body as application/json (got `{}`)",
            if content_type.is_empty() { "no content type" } else { content_type }
        )));
    }
    if body.is_empty() {
        return Err(Problem::bad_request("the request body is empty; send a JSON object"));
    }
    // Serde reads a struct from an array too, by position: `[null]` must not pass for an object.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(Problem::bad_request("the body must be a JSON object"));
    }
    serde_json::from_slice(body).map_err(|e| body_problem(&e))
}

/// Reads an object member as `T` (`#[serde(deserialize_with = "object")]`), refusing an
/// array where serde alone would read the struct's fields by position.
pub fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<T, D::Error> {
    let map = Map::<String, Value>::deserialize(d)?;
    T::deserialize(Value::Object(map)).map_err(serde::de::Error::custom)
}

/// As [`object`], for a member where absent (`None`), `null` (`Some(None)`) and an object differ.
pub fn present_object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<Option<T>>, D::Error> {
    match Option::<Map<String, Value>>::deserialize(d)? {
        None => Ok(Some(None)),
        Some(map) => T::deserialize(Value::Object(map)).map(|t| Some(Some(t))).map_err(serde::de::Error::custom),
    }
}

/// As [`object`], for an optional member.
pub fn optional_object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    present_object(d).map(Option::flatten)
}

/// Serde's message names the field (`unknown field `nmae``) or the position of a syntax error.
fn body_problem(e: &serde_json::Error) -> Problem {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            Problem::bad_request(format!("the body is not valid JSON: {e}"))
        }
        Category::Data => match field_in_message(&e.to_string()) {
            Some(field) => Problem::invalid_field(&field, strip_position(&e.to_string())),
            None => Problem::bad_request(strip_position(&e.to_string())),
        },
    }
}

/// Serde names unknown and missing fields in backquotes.
fn field_in_message(message: &str) -> Option<String> {
    ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// All query parameters in order, repeated ones included.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.query_string_parameters_ref()
        .map(|q| q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .unwrap_or_default()
}

/// Refuses any query parameter on routes that take none.
pub fn no_query(req: &Request) -> Result<(), Problem> {
    match query_pairs(req).first() {
        Some((k, _)) => Err(Problem::invalid_field(k, "unknown parameter; this route takes no query parameters")),
        None => Ok(()),
    }
}

/// A path parameter parsed by `parse`, with a 400 naming it when it does not parse.
pub fn path_param<T, E: std::fmt::Display>(
    req: &Request,
    name: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, Problem> {
    let raw = req.path_parameters_ref().and_then(|p| p.first(name)).unwrap_or("");
    parse(raw).map_err(|e| Problem::invalid_field(name, e.to_string()))
}

/// The version named by `If-Match: "3"` (weak validators and `*` are refused: edits need a strong match).
pub fn if_match(req: &Request) -> Result<Option<u64>, Problem> {
    let Some(value) = req.headers().get("if-match") else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or("").trim();
    raw.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .and_then(|v| v.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| Problem::invalid_field("If-Match", format!("`{raw}` is not an ETag of this API, such as \"3\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fields_from_serde_messages() {
        assert_eq!(field_in_message("unknown field `nmae`, expected one of `name`, `email`").as_deref(), Some("nmae"));
        assert_eq!(field_in_message("missing field `channel`").as_deref(), Some("channel"));
        assert_eq!(field_in_message("invalid type: integer `1`, expected a string"), None);
        assert_eq!(strip_position("missing field `channel` at line 1 column 2"), "missing field `channel`");
    }
}
