//! `GET /api/v1/analytics?from=&to=`: the workspace's figures, from a handful of reads.

use crate::api::openapi::schemas::{AnalyticsReport, Period as PeriodParams};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use chrono::Utc;
use lambda_http::Request;
use model::auth::Scope;
use model::usecases::analytics::{self, Period};

/// The workspace's figures for a period, from counters (never by reading contacts).
#[utoipa::path(
    get,
    path = "/api/v1/analytics",
    tag = "analytics",
    params(PeriodParams),
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
            "from" => from = Some(v),
            "to" => to = Some(v),
            other => return Err(Problem::invalid_field(other, "unknown parameter; expected from or to")),
        }
    }
    let period = Period::parse(from.as_deref(), to.as_deref(), today)?;
    Ok(json(200, &analytics::report(&api.store, ws, period, today).await?))
}
