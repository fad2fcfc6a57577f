//! The contact list's filters, their validation, and the opaque pagination cursor.

use crate::contact::ListedContact;
use crate::domain::{Channel, InvalidValue, LeadStatus, Tag, WorkspaceId};
use crate::search::SearchTerm;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, SubsecRound, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const DEFAULT_PER_PAGE: u32 = 25;
pub const MAX_PER_PAGE: u32 = 100;
/// Page numbers without a cursor are reached by skipping; beyond this, use the cursor.
pub const MAX_SKIPPED_ROWS: u32 = 10_000;

/// The parameters that select contacts (all but paging): what a segment or an export stores.
pub const FILTER_PARAMETERS: [&str; 13] = [
    "channel",
    "range",
    "created_after",
    "created_before",
    "q",
    "status",
    "score",
    "tag",
    "has_email",
    "has_phone",
    "consent",
    "active_within",
    "sort",
];

/// The parameters that page through a list.
pub const PAGING_PARAMETERS: [&str; 3] = ["page", "per_page", "cursor"];

/// Every query parameter of the list: the filters, then paging.
pub fn list_parameters() -> impl Iterator<Item = &'static str> {
    FILTER_PARAMETERS.into_iter().chain(PAGING_PARAMETERS)
}

/// A validation failure that names the offending parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.to_string(), message: message.into() }
    }
}

/// Created-at bounds, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DateWindow {
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// Which contacts to list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactFilter {
    pub channel: Option<Channel>,
    pub created: DateWindow,
    pub search: Option<SearchTerm>,
    pub status: Option<LeadStatus>,
    pub score: Option<crate::lead::Score>,
    pub tag: Option<Tag>,
    /// Checked on the candidates the key condition selects (no index of their own).
    pub has_email: Option<bool>,
    pub has_phone: Option<bool>,
    pub consent: Option<crate::domain::ConsentStatus>,
    /// Last activity at or after this time.
    pub active_since: Option<DateTime<Utc>>,
}

impl ContactFilter {
    /// Whether a visible contact passes every condition (the store's keys only narrow candidates).
    pub fn matches(&self, c: &ListedContact) -> bool {
        self.channel.is_none_or(|ch| c.channel == ch)
            && self.status.is_none_or(|st| c.status == st)
            && self.score.is_none_or(|sc| c.score == sc)
            && self.tag.as_ref().is_none_or(|t| c.tags.contains(t))
            && self.search.as_ref().is_none_or(|q| q.matches(c))
            && self.created.after.is_none_or(|a| c.created_at >= a)
            && self.created.before.is_none_or(|b| c.created_at <= b)
            && self.has_email.is_none_or(|want| c.email.is_some() == want)
            && self.has_phone.is_none_or(|want| c.phone.is_some() == want)
            && self.consent.is_none_or(|want| c.consent.status == want)
            && self.active_since.is_none_or(|since| c.last_activity_at >= since)
    }

    /// Conditions without an index of their own, checked on candidates.
    fn has_residual_conditions(&self) -> bool {
        self.has_email.is_some() || self.has_phone.is_some() || self.consent.is_some() || self.active_since.is_some()
    }

    /// No filter other than (at most) one of channel, status or tag: the total is a counter.
    pub fn counted_total(&self) -> Option<TotalCounter> {
        if self.search.is_some() || self.created != DateWindow::default() || self.has_residual_conditions() {
            return None;
        }
        match (self.channel, self.status, self.score, &self.tag) {
            (None, None, None, None) => Some(TotalCounter::All),
            (Some(c), None, None, None) => Some(TotalCounter::Channel(c)),
            (None, Some(s), None, None) => Some(TotalCounter::Status(s)),
            (None, None, Some(s), None) => Some(TotalCounter::Score(s)),
            (None, None, None, Some(t)) => Some(TotalCounter::Tag(t.clone())),
            _ => None,
        }
    }
}

/// The counter that holds a filter's total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TotalCounter {
    All,
    Channel(Channel),
    Status(LeadStatus),
    Score(crate::lead::Score),
    Tag(Tag),
}

/// Where a page of a listing ended, as the store wrote it: opaque here, checked by the
/// store (its names and that it stays inside the workspace) when it comes back.
pub type Position = BTreeMap<String, String>;

/// A validated list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRequest {
    pub filter: ContactFilter,
    pub page: u32,
    pub per_page: u32,
    /// Where the previous page ended, when following a cursor.
    pub position: Option<Position>,
    /// Ties a cursor to the filter it was issued for.
    pub fingerprint: String,
}

impl ListRequest {
    /// Parses the list's query parameters. `now`, in the workspace's time zone, resolves
    /// relative ranges such as `7d` (their days start at its local midnight); `cursors`
    /// checks a `cursor`.
    pub fn parse<Z: TimeZone>(
        workspace: &WorkspaceId,
        params: &[(String, String)],
        now: DateTime<Z>,
        cursors: &CursorKey,
    ) -> Result<Self, FieldError> {
        Self::parse_with(workspace, params, now, Some(cursors))
    }

    /// Parses stored filters (a segment's, an export's), which never carry a cursor.
    pub fn parse_filters<Z: TimeZone>(
        workspace: &WorkspaceId,
        params: &[(String, String)],
        now: DateTime<Z>,
    ) -> Result<Self, FieldError> {
        Self::parse_with(workspace, params, now, None)
    }

    fn parse_with<Z: TimeZone>(
        workspace: &WorkspaceId,
        params: &[(String, String)],
        now: DateTime<Z>,
        cursors: Option<&CursorKey>,
    ) -> Result<Self, FieldError> {
        let mut seen = BTreeMap::new();
        for (key, value) in params {
            if !list_parameters().any(|p| p == key) {
                return Err(FieldError::new(
                    key,
                    format!("unknown parameter; expected one of {}", list_parameters().collect::<Vec<_>>().join(", ")),
                ));
            }
            if seen.insert(key.as_str(), value.as_str()).is_some() {
                return Err(FieldError::new(key, "given more than once"));
            }
        }
        let get = |k: &str| seen.get(k).copied();
        fn invalid(field: &'static str) -> impl Fn(InvalidValue) -> FieldError {
            move |e| FieldError::new(field, e.0)
        }

        let mut filter = ContactFilter {
            channel: get("channel")
                .map(str::parse)
                .transpose()
                .map_err(|e: crate::domain::UnknownChannel| FieldError::new("channel", e.to_string()))?,
            search: get("q").map(SearchTerm::parse).transpose().map_err(invalid("q"))?,
            status: get("status").map(str::parse).transpose().map_err(invalid("status"))?,
            score: get("score").map(str::parse).transpose().map_err(invalid("score"))?,
            tag: get("tag").map(Tag::parse).transpose().map_err(invalid("tag"))?,
            created: DateWindow::default(),
            has_email: get("has_email").map(|v| boolean("has_email", v)).transpose()?,
            has_phone: get("has_phone").map(|v| boolean("has_phone", v)).transpose()?,
            consent: get("consent").map(consent).transpose()?,
            active_since: get("active_within")
                .map(|v| days("active_within", v).map(|d| now.to_utc() - Duration::days(d)))
                .transpose()?,
        };
        if let Some(sort) = get("sort") {
            if sort != "-created_at" {
                return Err(FieldError::new("sort", "only `-created_at` (newest first) is supported"));
            }
        }
        let per_page = match get("per_page") {
            None => DEFAULT_PER_PAGE,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
                _ => return Err(FieldError::new("per_page", format!("must be an integer from 1 to {MAX_PER_PAGE}"))),
            },
        };
        let requested_page = match get("page") {
            None => None,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= 1 => Some(n),
                _ => return Err(FieldError::new("page", "must be an integer from 1")),
            },
        };
        let fingerprint = fingerprint(&seen);

        if let Some(raw) = get("cursor") {
            let cursors = cursors.ok_or_else(|| FieldError::new("cursor", "does not apply here"))?;
            let cursor = cursors.open(raw)?;
            if cursor.workspace != workspace.as_str() {
                return Err(FieldError::new("cursor", "was issued for another workspace"));
            }
            if cursor.fingerprint != fingerprint {
                return Err(FieldError::new(
                    "cursor",
                    "was issued for other filters; repeat the filters of the first page",
                ));
            }
            if requested_page.is_some_and(|p| p != cursor.page) {
                return Err(FieldError::new("page", format!("the cursor is for page {}", cursor.page)));
            }
            filter.created = cursor.window;
            return Ok(ListRequest {
                filter,
                page: cursor.page,
                per_page,
                position: Some(cursor.position),
                fingerprint,
            });
        }

        filter.created = parse_window(get("range"), get("created_after"), get("created_before"), now)?;
        let page = requested_page.unwrap_or(1);
        if page.saturating_sub(1).saturating_mul(per_page) > MAX_SKIPPED_ROWS {
            return Err(FieldError::new(
                "page",
                format!("pages beyond row {MAX_SKIPPED_ROWS} are reached with `cursor`"),
            ));
        }
        Ok(ListRequest { filter, page, per_page, position: None, fingerprint })
    }

    /// The cursor for the page after this one, ending at `position`.
    pub fn next_cursor(&self, workspace: &WorkspaceId, position: Position, cursors: &CursorKey) -> String {
        cursors.seal(&Cursor {
            workspace: workspace.as_str().to_string(),
            fingerprint: self.fingerprint.clone(),
            page: next_page(self.page),
            window: self.filter.created,
            position,
        })
    }
}

fn boolean(field: &str, v: &str) -> Result<bool, FieldError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(FieldError::new(field, format!("`{other}` is not true or false"))),
    }
}

fn consent(v: &str) -> Result<crate::domain::ConsentStatus, FieldError> {
    use crate::domain::ConsentStatus::*;
    match v {
        "granted" => Ok(Granted),
        "withdrawn" => Ok(Withdrawn),
        "unknown" => Ok(Unknown),
        other => Err(FieldError::new(
            "consent",
            format!("`{other}` is not a consent: expected granted, withdrawn or unknown"),
        )),
    }
}

/// `30d` → 30 (1 to 3650 days).
fn days(field: &str, v: &str) -> Result<i64, FieldError> {
    v.strip_suffix('d')
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| (1..=3650).contains(n))
        .ok_or_else(|| FieldError::new(field, format!("`{v}` is not a number of days such as 30d")))
}

fn parse_window<Z: TimeZone>(
    range: Option<&str>,
    after: Option<&str>,
    before: Option<&str>,
    now: DateTime<Z>,
) -> Result<DateWindow, FieldError> {
    let timestamp = |field: &str, v: &str| {
        DateTime::parse_from_rfc3339(v).map(|t| t.with_timezone(&Utc)).map_err(|_| {
            FieldError::new(field, format!("`{v}` is not an RFC 3339 timestamp such as 2025-08-22T05:02:29Z"))
        })
    };
    // Creation times are whole seconds, so bounds are too: `after` rounds up, `before` down.
    let mut window = DateWindow {
        after: after.map(|v| timestamp("created_after", v)).transpose()?.map(|t| {
            let whole = t.trunc_subsecs(0);
            if whole < t {
                whole + Duration::seconds(1)
            } else {
                whole
            }
        }),
        before: before.map(|v| timestamp("created_before", v)).transpose()?.map(|t| t.trunc_subsecs(0)),
    };
    if let Some(range) = range {
        if window.after.is_some() {
            return Err(FieldError::new("range", "use either `range` or `created_after`, not both"));
        }
        // Today, and the 6 or 29 days before it, in the workspace's calendar.
        let earlier_days = match range {
            "today" => 0,
            "7d" => 6,
            "30d" => 29,
            other => {
                return Err(FieldError::new("range", format!("`{other}` is not a range: expected today, 7d or 30d")))
            }
        };
        let first_day = now.date_naive() - Duration::days(earlier_days);
        window.after = Some(day_start(&now.timezone(), first_day));
    }
    if let (Some(a), Some(b)) = (window.after, window.before) {
        if a > b {
            return Err(FieldError::new("created_before", "must not be earlier than the start of the range"));
        }
    }
    Ok(window)
}

/// The first instant of `day` in `zone`: its midnight, or where a daylight-saving change
/// skips midnight (clocks jumping from 23:59:59 to 01:00), the end of that gap.
pub fn day_start<Z: TimeZone>(zone: &Z, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    // Gaps end on a quarter hour in every zone of the IANA database.
    (0..24 * 4)
        .find_map(|quarter| zone.from_local_datetime(&(midnight + Duration::minutes(15 * quarter))).earliest())
        .map(|t| t.to_utc())
        .unwrap_or_else(|| midnight.and_utc())
}

/// A short digest of the filters a cursor was issued for (everything but the paging itself).
fn fingerprint(params: &BTreeMap<&str, &str>) -> String {
    let mut hasher = Sha256::new();
    for (k, v) in params.iter().filter(|(k, _)| !matches!(**k, "cursor" | "page")) {
        hasher.update(k.as_bytes());
        hasher.update([0]);
        hasher.update(v.as_bytes());
        hasher.update([0]);
    }
    crate::hex::encode(&hasher.finalize()[..8])
}

/// Paging of the simpler listings (a contact's conversations, a transcript): only
/// `per_page` and `cursor`, the cursor bound to the workspace and what is listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Paging {
    pub per_page: u32,
    pub page: u32,
    pub position: Option<Position>,
}

impl Paging {
    pub fn parse(
        workspace: &WorkspaceId,
        scope: &str,
        params: &[(String, String)],
        default_per_page: u32,
        cursors: &CursorKey,
    ) -> Result<Self, FieldError> {
        let mut per_page = default_per_page;
        let mut cursor = None;
        for (key, value) in params {
            match key.as_str() {
                "per_page" => {
                    per_page = value.parse().ok().filter(|n| (1..=MAX_PER_PAGE).contains(n)).ok_or_else(|| {
                        FieldError::new("per_page", format!("must be an integer from 1 to {MAX_PER_PAGE}"))
                    })?
                }
                "cursor" => cursor = Some(value.as_str()),
                other => return Err(FieldError::new(other, "unknown parameter; expected per_page or cursor")),
            }
        }
        let Some(raw) = cursor else {
            return Ok(Paging { per_page, page: 1, position: None });
        };
        let cursor = cursors.open(raw)?;
        if cursor.workspace != workspace.as_str() || cursor.fingerprint != scope_fingerprint(scope) {
            return Err(FieldError::new("cursor", "was issued for another listing"));
        }
        Ok(Paging { per_page, page: cursor.page, position: Some(cursor.position) })
    }

    pub fn next_cursor(&self, workspace: &WorkspaceId, scope: &str, position: Position, cursors: &CursorKey) -> String {
        cursors.seal(&Cursor {
            workspace: workspace.to_string(),
            fingerprint: scope_fingerprint(scope),
            page: next_page(self.page),
            window: DateWindow::default(),
            position,
        })
    }
}

fn scope_fingerprint(scope: &str) -> String {
    crate::hex::encode(&Sha256::digest(scope.as_bytes())[..8])
}

/// Where a page ended: opaque to clients, checked on return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "w")]
    workspace: String,
    #[serde(rename = "f")]
    fingerprint: String,
    #[serde(rename = "p")]
    page: u32,
    #[serde(rename = "d")]
    window: DateWindow,
    #[serde(rename = "k")]
    position: Position,
}

/// The page after `page`. Pages a cursor can follow stay below `u32::MAX` (`CursorKey::open`),
/// so this does not saturate for any page a request reached.
fn next_page(page: u32) -> u32 {
    page.saturating_add(1)
}

/// The server's key for cursors: each cursor carries an HMAC-SHA256 of its bytes under this
/// key, so a client can hand back only cursors this API issued, unchanged. Every instance of
/// a deployment must hold the same key (the template's `CursorKey` parameter, `CURSOR_KEY`).
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    pub fn new(secret: &[u8]) -> Self {
        CursorKey(secret.to_vec())
    }

    fn mac(&self, payload: &[u8]) -> crate::channels::signature::HmacSha256 {
        use hmac::Mac;
        let mut mac = crate::channels::signature::hmac_sha256(&self.0);
        mac.update(payload);
        mac
    }

    /// `<payload>.<mac>`, both base64url: the cursor's JSON and its HMAC.
    fn seal(&self, cursor: &Cursor) -> String {
        use hmac::Mac;
        let payload = serde_json::to_vec(cursor).expect("a cursor serializes");
        let tag = self.mac(&payload).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The cursor, when this key sealed it and its page can be followed.
    fn open(&self, raw: &str) -> Result<Cursor, FieldError> {
        use hmac::Mac;
        let refused = || FieldError::new("cursor", "is not a cursor issued by this API");
        let (payload, tag) = raw.split_once('.').ok_or_else(refused)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| refused())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refused())?;
        self.mac(&payload).verify_slice(&tag).map_err(|_| refused())?;
        let cursor: Cursor = serde_json::from_slice(&payload).map_err(|_| refused())?;
        // Sealed cursors start at page 2; the last page number has no page after it.
        if !(2..u32::MAX).contains(&cursor.page) {
            return Err(refused());
        }
        Ok(cursor)
    }
}

/// Formats timestamps as the API shows them: RFC 3339, UTC, whole seconds.
pub fn api_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One page of the contact list.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactPage {
    pub contacts: Vec<ListedContact>,
    /// Exact, when the filter has a counter (none, channel, status or tag alone).
    pub total: Option<u64>,
    /// Where this page ended, when more may follow.
    pub next_position: Option<Position>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(s: &str) -> WorkspaceId {
        WorkspaceId::parse(s).unwrap()
    }

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn now() -> DateTime<Utc> {
        "2025-08-22T10:30:00Z".parse().unwrap()
    }

    fn key() -> CursorKey {
        CursorKey::new(b"test key")
    }

    fn parse(list: &[(&str, &str)]) -> Result<ListRequest, FieldError> {
        ListRequest::parse(&ws("acme"), &params(list), now(), &key())
    }

    #[test]
    fn defaults_to_the_first_page_of_25() {
        let r = parse(&[]).unwrap();
        assert_eq!((r.page, r.per_page), (1, 25));
        assert_eq!(r.filter.counted_total(), Some(TotalCounter::All));
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("chanel", "frame")], "chanel"),
            (&[("channel", "fax")], "channel"),
            (&[("range", "1y")], "range"),
            (&[("created_after", "yesterday")], "created_after"),
            (&[("status", "hot")], "status"),
            (&[("per_page", "101")], "per_page"),
            (&[("per_page", "0")], "per_page"),
            (&[("page", "0")], "page"),
            (&[("page", "1000")], "page"),
            (&[("q", "a")], "q"),
            (&[("tag", "a#b")], "tag"),
            (&[("cursor", "garbage")], "cursor"),
            (&[("range", "7d"), ("created_after", "2025-01-01T00:00:00Z")], "range"),
            (
                &[("created_after", "2025-02-01T00:00:00Z"), ("created_before", "2025-01-01T00:00:00Z")],
                "created_before",
            ),
            (&[("sort", "name")], "sort"),
            (&[("has_email", "yes")], "has_email"),
            (&[("consent", "maybe")], "consent"),
            (&[("active_within", "30")], "active_within"),
        ];
        for (list, field) in cases {
            assert_eq!(parse(list).unwrap_err().field, *field, "{list:?}");
        }
    }

    #[test]
    fn ranges_resolve_against_now() {
        let today = parse(&[("range", "today")]).unwrap().filter.created;
        assert_eq!(today.after.unwrap().to_rfc3339(), "2025-08-22T00:00:00+00:00");
        let week = parse(&[("range", "7d")]).unwrap().filter.created;
        assert_eq!(api_time(week.after.unwrap()), "2025-08-16T00:00:00Z", "today and the 6 days before");
        assert_eq!(week.before, None);
        let month = parse(&[("range", "30d")]).unwrap().filter.created;
        assert_eq!(api_time(month.after.unwrap()), "2025-07-24T00:00:00Z");
    }

    /// Where `range` starts at `now` (UTC) in `zone`.
    fn range_start(zone: chrono_tz::Tz, range: &str, now: &str) -> String {
        let now = now.parse::<DateTime<Utc>>().unwrap().with_timezone(&zone);
        let request = ListRequest::parse(&ws("acme"), &params(&[("range", range)]), now, &key()).unwrap();
        api_time(request.filter.created.after.unwrap())
    }

    #[test]
    fn ranges_start_at_the_workspaces_local_midnight() {
        use chrono_tz::{America::Los_Angeles, Europe::Berlin};
        // 02:00 UTC on 22 August is still the 21st in Los Angeles (UTC-7), already 04:00 in Berlin.
        assert_eq!(range_start(Los_Angeles, "today", "2025-08-22T02:00:00Z"), "2025-08-21T07:00:00Z");
        assert_eq!(range_start(Berlin, "today", "2025-08-22T02:00:00Z"), "2025-08-21T22:00:00Z");
        assert_eq!(range_start(chrono_tz::UTC, "today", "2025-08-22T02:00:00Z"), "2025-08-22T00:00:00Z");
    }

    #[test]
    fn ranges_follow_daylight_saving_changes() {
        use chrono_tz::{America::Los_Angeles, Europe::Berlin};
        // Los Angeles springs forward on 9 March 2025: the day before began at 08:00 UTC (PST),
        // the day of the change too (02:00 is skipped, midnight is PST), the day after at 07:00 (PDT).
        assert_eq!(range_start(Los_Angeles, "today", "2025-03-09T12:00:00Z"), "2025-03-09T08:00:00Z");
        assert_eq!(range_start(Los_Angeles, "today", "2025-03-10T12:00:00Z"), "2025-03-10T07:00:00Z");
        assert_eq!(range_start(Los_Angeles, "7d", "2025-03-12T12:00:00Z"), "2025-03-06T08:00:00Z");
        // It falls back on 2 November 2025: midnight is PDT that day, PST the next.
        assert_eq!(range_start(Los_Angeles, "today", "2025-11-02T20:00:00Z"), "2025-11-02T07:00:00Z");
        assert_eq!(range_start(Los_Angeles, "today", "2025-11-03T20:00:00Z"), "2025-11-03T08:00:00Z");
        assert_eq!(range_start(Los_Angeles, "7d", "2025-11-05T20:00:00Z"), "2025-10-30T07:00:00Z");
        // Berlin: summer time from 30 March 2025 (UTC+2) to 26 October 2025 (UTC+1).
        assert_eq!(range_start(Berlin, "today", "2025-03-30T12:00:00Z"), "2025-03-29T23:00:00Z");
        assert_eq!(range_start(Berlin, "today", "2025-03-31T12:00:00Z"), "2025-03-30T22:00:00Z");
        assert_eq!(range_start(Berlin, "7d", "2025-10-28T12:00:00Z"), "2025-10-21T22:00:00Z");
        assert_eq!(range_start(Berlin, "30d", "2025-10-28T12:00:00Z"), "2025-09-28T22:00:00Z");
    }

    #[test]
    fn a_midnight_that_daylight_saving_skips_starts_the_day_when_the_clocks_resume() {
        // Santiago springs forward at midnight: 7 September 2025 begins at 01:00 local (UTC-3).
        assert_eq!(range_start(chrono_tz::America::Santiago, "today", "2025-09-07T12:00:00Z"), "2025-09-07T04:00:00Z");
    }

    #[test]
    fn totals_are_counters_only_for_single_indexed_filters() {
        assert_eq!(
            parse(&[("channel", "telegram")]).unwrap().filter.counted_total(),
            Some(TotalCounter::Channel(Channel::Telegram))
        );
        assert_eq!(
            parse(&[("status", "follow_up")]).unwrap().filter.counted_total(),
            Some(TotalCounter::Status(LeadStatus::FollowUp))
        );
        assert_eq!(parse(&[("channel", "frame"), ("status", "new")]).unwrap().filter.counted_total(), None);
        assert_eq!(parse(&[("range", "7d")]).unwrap().filter.counted_total(), None);
    }

    /// A store's page position: opaque here.
    fn position() -> Position {
        Position::from([("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())])
    }

    #[test]
    fn cursors_round_trip_and_keep_the_resolved_window() {
        let first = parse(&[("channel", "frame"), ("range", "7d")]).unwrap();
        let cursor = first.next_cursor(&ws("acme"), position(), &key());
        let later = ListRequest::parse(
            &ws("acme"),
            &params(&[("channel", "frame"), ("range", "7d"), ("cursor", &cursor)]),
            now() + Duration::hours(1),
            &key(),
        )
        .unwrap();
        assert_eq!(later.page, 2);
        assert_eq!(later.filter.created, first.filter.created);
        assert_eq!(later.position, Some(position()));
    }

    #[test]
    fn cursors_are_bound_to_workspace_and_filters() {
        let cursor = parse(&[("channel", "frame")]).unwrap().next_cursor(&ws("acme"), position(), &key());
        let other_ws =
            ListRequest::parse(&ws("evil"), &params(&[("channel", "frame"), ("cursor", &cursor)]), now(), &key());
        assert_eq!(other_ws.unwrap_err().field, "cursor");
        let other_filter = parse(&[("channel", "telegram"), ("cursor", &cursor)]);
        assert_eq!(other_filter.unwrap_err().field, "cursor");
        let wrong_page = parse(&[("channel", "frame"), ("cursor", &cursor), ("page", "5")]);
        assert_eq!(wrong_page.unwrap_err().field, "page");
    }

    #[test]
    fn cursors_sealed_under_another_key_or_changed_are_refused() {
        let cursor = parse(&[]).unwrap().next_cursor(&ws("acme"), position(), &key());
        let foreign =
            ListRequest::parse(&ws("acme"), &params(&[("cursor", &cursor)]), now(), &CursorKey::new(b"other"));
        assert_eq!(foreign.unwrap_err().field, "cursor");
        let (payload, tag) = cursor.split_once('.').unwrap();
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let changed = URL_SAFE_NO_PAD.encode(json.replace("\"p\":2", &format!("\"p\":{}", u32::MAX)));
        assert_eq!(parse(&[("cursor", &format!("{changed}.{tag}"))]).unwrap_err().field, "cursor");
        let last = Cursor {
            workspace: "acme".into(),
            fingerprint: parse(&[]).unwrap().fingerprint,
            page: u32::MAX,
            window: DateWindow::default(),
            position: position(),
        };
        assert_eq!(parse(&[("cursor", &key().seal(&last))]).unwrap_err().field, "cursor", "no page follows the last");
    }
}
