//! `GET /api/v1/analytics?from=&to=`: the workspace's figures, from a handful of reads.

use crate::api::openapi::schemas::{AnalyticsReport, Period};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use lambda_http::Request;
use model::auth::Scope;

const MAX_DAYS: i64 = 366;

fn date(field: &str, raw: &str) -> Result<NaiveDate, Problem> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(raw).map(|t| t.date_naive()))
        .map_err(|_| Problem::invalid_field(field, format!("`{raw}` is not a date such as 2025-08-22")))
}

/// The workspace's figures for a period, from counters (never by reading contacts).
#[utoipa::path(
    get,
    path = "/api/v1/analytics",
    tag = "analytics",
    params(Period),
    security(("api_key" = ["read"])),
    responses((status = 200, description = "The figures", body = AnalyticsReport)),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    let ws = &caller.workspace.id;
    // Days, "today" and the month are the workspace's own.
    let today = Utc::now().with_timezone(&caller.workspace.time_zone).date_naive();
    let (mut from, mut to) = (None, None);
    for (k, v) in request::query_pairs(&req) {
        match k.as_str() {
            "from" => from = Some(date("from", &v)?),
            "to" => to = Some(date("to", &v)?),
            other => return Err(Problem::invalid_field(other, "unknown parameter; expected from or to")),
        }
    }
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(29));
    if from > to {
        return Err(Problem::invalid_field("from", "must not be after `to`"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(Problem::invalid_field("from", format!("a report covers at most {MAX_DAYS} days")));
    }
    let month_start = today.with_day(1).expect("the 1st exists");
    let counters = api.store.counters(ws).await?;
    let days = api.store.day_stats(ws, from.min(month_start), to.max(today)).await?;
    let snapshots = api.store.snapshots(ws, from, to).await?;
    Ok(json(200, &model::analytics::report(&counters, &days, &snapshots, from, to, month_start)))
}
