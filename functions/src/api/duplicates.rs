//! `GET /api/v1/duplicates`: the workspace's review of possible duplicates, every pair
//! capture recorded and nobody dismissed, newest first, with both contacts' rows.

use crate::api::openapi::schemas::CursorPaging;
use crate::api::views::ContactRow;
use crate::api::Api;
use crate::http::{json, request, HttpResult};
use lambda_http::Request;
use model::auth::Scope;
use model::listing::{api_time, Paging};
use model::usecases::duplicates::{self, ReviewedPair};
use serde::Serialize;
use utoipa::ToSchema;

/// The cursor scope of the review.
const SCOPE: &str = "duplicates";

/// A pair of contacts that may be the same person.
#[derive(Serialize, ToSchema)]
#[schema(as = DuplicatePair)]
struct PairView<'a> {
    /// Both contacts, the lower id first.
    #[schema(min_items = 2, max_items = 2)]
    contacts: [ContactRow; 2],
    /// Why: `same email`, `same phone`.
    #[schema(value_type = Vec<String>, example = json!(["same email"]))]
    reasons: &'a [String],
    /// When capture first recorded the pair.
    #[schema(format = DateTime)]
    recorded_at: String,
}

impl<'a> From<&'a ReviewedPair> for PairView<'a> {
    fn from(p: &'a ReviewedPair) -> Self {
        PairView {
            contacts: [ContactRow::from(&p.contact), ContactRow::from(&p.other)],
            reasons: &p.pair.reasons,
            recorded_at: api_time(p.pair.recorded_at),
        }
    }
}

/// A page of the review, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = DuplicatePairPage)]
struct PairPage<'a> {
    pairs: Vec<PairView<'a>>,
    page: u32,
    per_page: u32,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Every recorded pair of possible duplicates, newest first (25 a page by default).
#[utoipa::path(
    get,
    path = "/api/v1/duplicates",
    tag = "duplicates",
    params(CursorPaging),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "A page of pairs", body = PairPage),
        (status = 400, description = "A bad `per_page` or cursor", body = crate::api::openapi::schemas::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn list(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Read).await?;
    let ws = &caller.workspace.id;
    let paging = Paging::parse(ws, SCOPE, &request::query_pairs(&req), 25, &api.cursors)?;
    let review = duplicates::review(&api.store, ws, paging.per_page, paging.position.clone()).await?;
    let page = PairPage {
        pairs: review.pairs.iter().map(PairView::from).collect(),
        page: paging.page,
        per_page: paging.per_page,
        next_cursor: review.next.map(|p| paging.next_cursor(ws, SCOPE, p, &api.cursors)),
    };
    Ok(json(200, &page))
}
