//! How the pages show times and durations, and how they read forms and build links.

use crate::http::Problem;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use lambda_http::Request;

/// `22.8.2025 05:02:29`: day.month.year without leading zeros, 24-hour time, in `zone`
/// (the workspace's time zone, which the page header names).
pub fn date_time(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone).format("%-d.%-m.%Y %H:%M:%S").to_string()
}

/// `22.8.2025`: a calendar day as the pages write it.
pub fn day(d: chrono::NaiveDate) -> String {
    d.format("%-d.%-m.%Y").to_string()
}

/// `5 minutes`, `1 hour 5 minutes`, `40 seconds`.
pub fn duration(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let unit = |n: i64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => unit(s, "second"),
        (0, m, _) => unit(m, "minute"),
        (h, 0, _) => unit(h, "hour"),
        (h, m, _) => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
    }
}

/// A URL-encoded form body or query string, read once.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// The body of a form POST (`application/x-www-form-urlencoded`).
    pub fn body(req: &Request) -> Result<Self, Problem> {
        let body = req.body().as_ref();
        if body.len() > crate::http::request::MAX_BODY_BYTES {
            return Err(Problem::too_large("the form is too large"));
        }
        Ok(Self::parse(body))
    }

    /// The query string, as the browser sent it.
    pub fn query(req: &Request) -> Self {
        Self::parse(req.uri().query().unwrap_or("").as_bytes())
    }

    fn parse(raw: &[u8]) -> Self {
        Form(form_urlencoded::parse(raw).into_owned().collect())
    }

    #[cfg(test)]
    pub fn parse_query(raw: &str) -> Self {
        Self::parse(raw.as_bytes())
    }

    /// Fields read from another encoding (a multipart form's text fields).
    pub fn of_pairs(pairs: Vec<(String, String)>) -> Self {
        Form(pairs)
    }

    /// The first value of a field, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a field (checkboxes), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The value, trimmed, or `None` when blank.
    pub fn filled(&self, name: &str) -> Option<&str> {
        Some(self.get(name).trim()).filter(|v| !v.is_empty())
    }
}

/// `path?k=v&…` with the non-empty pairs, encoded.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        query.append_pair(k, v);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_the_product_docs() {
        let t: DateTime<Utc> = "2025-08-22T05:02:29Z".parse().unwrap();
        assert_eq!(date_time(t, Tz::UTC), "22.8.2025 05:02:29");
        let t: DateTime<Utc> = "2025-12-01T17:40:00Z".parse().unwrap();
        assert_eq!(date_time(t, Tz::UTC), "1.12.2025 17:40:00");
    }

    #[test]
    fn times_are_shown_in_the_workspaces_zone_across_daylight_saving() {
        let t: DateTime<Utc> = "2025-08-22T05:02:29Z".parse().unwrap();
        assert_eq!(date_time(t, chrono_tz::America::Los_Angeles), "21.8.2025 22:02:29");
        assert_eq!(date_time(t, chrono_tz::Europe::Berlin), "22.8.2025 07:02:29");
        let winter: DateTime<Utc> = "2025-12-01T17:40:00Z".parse().unwrap();
        assert_eq!(date_time(winter, chrono_tz::America::Los_Angeles), "1.12.2025 09:40:00");
        assert_eq!(date_time(winter, chrono_tz::Europe::Berlin), "1.12.2025 18:40:00");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration(Duration::seconds(40)), "40 seconds");
        assert_eq!(duration(Duration::seconds(61)), "1 minute");
        assert_eq!(duration(Duration::minutes(5)), "5 minutes");
        assert_eq!(duration(Duration::minutes(65)), "1 hour 5 minutes");
        assert_eq!(duration(Duration::hours(2)), "2 hours");
    }

    #[test]
    fn links_drop_empty_values_and_encode_the_rest() {
        assert_eq!(
            link("/contacts", &[("channel", ""), ("q", "olivia b"), ("tag", "a&b")]),
            "/contacts?q=olivia+b&tag=a%26b"
        );
        assert_eq!(link("/contacts", &[("q", "")]), "/contacts");
    }
}
