//! Path-aware access to channel payloads' JSON: each error names the field's path
//! (`entry[0].messaging[1].sender.id`) and what was expected.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::PayloadError;
use super::text::truncate_chars;

pub type Obj = Map<String, Value>;

// ---------------------------------------------------------------------------------------
// JSON access
// ---------------------------------------------------------------------------------------

/// Parses a request body as a JSON object.
pub fn parse_object(body: &[u8], what: &str) -> Result<Obj, PayloadError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(PayloadError::new(format!("the {what} body is empty")));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            Err(PayloadError::new(format!("the {what} body must be a JSON object, got {}", type_name(&other))))
        }
        Err(e) => Err(PayloadError::new(format!("the {what} body is not valid JSON: {e}"))),
    }
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `parent.key`, or `key` at the root.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `parent[index]`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

fn wrong_type(path: &str, key: &str, expected: &str, got: &Value) -> PayloadError {
    PayloadError::new(format!("`{}` must be {expected}, got {}", join(path, key), type_name(got)))
}

fn missing(path: &str, key: &str) -> PayloadError {
    PayloadError::new(format!("`{}` is missing", join(path, key)))
}

/// A present, non-null field.
pub fn field<'a>(obj: &'a Obj, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

pub fn opt_obj<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<Option<&'a Obj>, PayloadError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(wrong_type(path, key, "an object", other)),
    }
}

pub fn req_obj<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<&'a Obj, PayloadError> {
    opt_obj(obj, key, path)?.ok_or_else(|| missing(path, key))
}

pub fn opt_array<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<&'a [Value], PayloadError> {
    match field(obj, key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong_type(path, key, "an array", other)),
    }
}

pub fn req_array<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<&'a [Value], PayloadError> {
    match field(obj, key) {
        None => Err(missing(path, key)),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong_type(path, key, "an array", other)),
    }
}

/// An array element that must be an object.
pub fn item_obj<'a>(v: &'a Value, path: &str) -> Result<&'a Obj, PayloadError> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(PayloadError::new(format!("`{path}` must be an object, got {}", type_name(other)))),
    }
}

pub fn opt_str<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<Option<&'a str>, PayloadError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong_type(path, key, "a string", other)),
    }
}

/// A string field that must be present and not blank.
pub fn req_str<'a>(obj: &'a Obj, key: &str, path: &str) -> Result<&'a str, PayloadError> {
    match opt_str(obj, key, path)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(PayloadError::new(format!("`{}` must not be empty", join(path, key)))),
        None => Err(missing(path, key)),
    }
}

pub fn opt_bool(obj: &Obj, key: &str, path: &str) -> Result<bool, PayloadError> {
    match field(obj, key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(wrong_type(path, key, "a boolean", other)),
    }
}

pub fn opt_i64(obj: &Obj, key: &str, path: &str) -> Result<Option<i64>, PayloadError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| wrong_type(path, key, "an integer", &Value::Number(n.clone())))
        }
        Some(other) => Err(wrong_type(path, key, "an integer", other)),
    }
}

pub fn req_i64(obj: &Obj, key: &str, path: &str) -> Result<i64, PayloadError> {
    opt_i64(obj, key, path)?.ok_or_else(|| missing(path, key))
}

/// An integer given either as a JSON number or as a string of digits (Meta sends both).
pub fn opt_int_or_str(obj: &Obj, key: &str, path: &str) -> Result<Option<i64>, PayloadError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Ok(Some(i)),
            None => Err(PayloadError::new(format!("`{}` must be an integer", join(path, key)))),
        },
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(i) => Ok(Some(i)),
            Err(_) => Err(PayloadError::new(format!(
                "`{}` must be an integer, got {:?}",
                join(path, key),
                truncate_chars(s, 40)
            ))),
        },
        Some(other) => Err(wrong_type(path, key, "an integer", other)),
    }
}

pub fn req_int_or_str(obj: &Obj, key: &str, path: &str) -> Result<i64, PayloadError> {
    opt_int_or_str(obj, key, path)?.ok_or_else(|| missing(path, key))
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

pub fn from_unix_seconds(secs: i64, path: &str) -> Result<DateTime<Utc>, PayloadError> {
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| PayloadError::new(format!("`{path}` is not a valid Unix time: {secs}")))
}

pub fn from_unix_millis(ms: i64, path: &str) -> Result<DateTime<Utc>, PayloadError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| PayloadError::new(format!("`{path}` is not a valid Unix time: {ms}")))
}

// ---------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------
