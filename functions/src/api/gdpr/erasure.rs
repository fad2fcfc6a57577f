//! `POST /api/v1/gdpr/erasure` (admin): erases a person named by email, phone, channel
//! identity or contact id. First the salted hashes of the person's identities (which keep
//! them opted out if they come back through a channel) and a receipt without personal
//! data; then the contact is purged at once (no grace period) and every export whose file
//! may hold it is deleted with its file, in the request or, for a long history, in the jobs
//! worker. `GET /api/v1/gdpr/erasures/{id}` reads the receipt.

use crate::api::exports::ExportSettings;
use crate::api::openapi::schemas::{self as doc, ProblemDetails};
use crate::api::Api;
use crate::erasure_job;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::domain::{Channel, ContactId, Email, Phone};
use model::gdpr::{is_erasure_id, ErasureReceipt, ErasureStatus, Subject};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The person, by exactly one of: `email`, `phone`, `channel` with `external_id`, or `contact_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ErasureRequest, example = json!({"email": "mason.clark@example.com"}))]
struct ErasureBody {
    #[schema(format = Email)]
    email: Option<String>,
    phone: Option<String>,
    #[schema(value_type = Option<doc::ChannelName>)]
    channel: Option<String>,
    /// The person's id on `channel`.
    external_id: Option<String>,
    contact_id: Option<u64>,
}

/// What the erasure removed; it holds no personal data.
#[derive(Serialize, ToSchema)]
#[schema(as = ErasureReceipt)]
pub struct ReceiptView<'a> {
    #[schema(value_type = String)]
    id: &'a str,
    /// `pending` while the contact and its history are being removed (its identities are
    /// suppressed and it is hidden from the start), then `done`.
    #[schema(value_type = String, example = "done")]
    status: &'a str,
    /// When it was asked for: the person is opted out from then on.
    #[schema(format = DateTime)]
    erased_at: String,
    /// When nothing of the person was left; `null` while `pending`.
    #[schema(required = true, format = DateTime)]
    completed_at: Option<String>,
    /// How the person was named: `email`, `phone`, `channel_identity` or `contact_id`.
    #[schema(value_type = String, example = "email")]
    subject: &'a str,
    /// `null` when no contact held the person.
    #[schema(required = true)]
    contact_id: Option<u64>,
    conversations_removed: u32,
    items_removed: u32,
    exports_deleted: u32,
    identities_suppressed: u32,
}

impl ErasureBody {
    fn subject(self, region: Option<model::domain::Region>) -> Result<Subject, Problem> {
        fn invalid(field: &'static str) -> impl Fn(model::domain::InvalidValue) -> Problem {
            move |e| Problem::invalid_field(field, e.0)
        }
        match (self.email, self.phone, self.channel, self.external_id, self.contact_id) {
            (Some(e), None, None, None, None) => Ok(Subject::Email(Email::parse(&e).map_err(invalid("email"))?)),
            (None, Some(p), None, None, None) => {
                Ok(Subject::Phone(Phone::parse(&p, region).map_err(invalid("phone"))?))
            }
            (None, None, Some(c), Some(id), None) if !id.trim().is_empty() => {
                let channel: Channel = c
                    .parse()
                    .map_err(|e: model::domain::UnknownChannel| Problem::invalid_field("channel", e.to_string()))?;
                Ok(Subject::Identity(channel, id.trim().to_string()))
            }
            (None, None, None, None, Some(id)) => {
                Ok(Subject::Contact(id.to_string().parse::<ContactId>().map_err(invalid("contact_id"))?))
            }
            _ => Err(Problem::bad_request(
                "name the person by exactly one of: email, phone, channel with external_id, or contact_id",
            )),
        }
    }
}

/// Erases a person: suppresses their identities and writes the receipt first, then removes
/// the contact, its transcripts and the exports that may hold them. `200` when that is done
/// within the request; `202` with the receipt `pending` when the history is too long for
/// it, and the jobs worker finishes (`GET /api/v1/gdpr/erasures/{id}` follows it).
#[utoipa::path(
    post,
    path = "/api/v1/gdpr/erasure",
    tag = "gdpr",
    request_body = ErasureBody,
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "Erased: the receipt, `done`", body = ReceiptView),
        (status = 202, description = "The identities are suppressed and the contact hidden; the rest goes on in the background: the receipt, `pending`", body = ReceiptView, headers(("Location" = String))),
        (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "Not finished and not queued; repeat the request", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let settings = ExportSettings::from(api)?;
    let jobs = api.gdpr_jobs.as_ref().ok_or_else(|| {
        tracing::error!("erasures are not configured for this function (JOBS_QUEUE_URL)");
        Problem::internal()
    })?;
    let ws = &caller.workspace.id;
    let subject = request::json_body::<ErasureBody>(&req)?.subject(caller.workspace.default_region)?;
    let receipt = erasure_job::erase(&api.store, &settings.bucket, jobs, ws, &subject, &caller.key.name).await?;
    if receipt.status == ErasureStatus::Done {
        return Ok(json(200, &ReceiptView::from(&receipt)));
    }
    let mut response = json(202, &ReceiptView::from(&receipt));
    let location = format!("/api/v1/gdpr/erasures/{}", receipt.id);
    response.headers_mut().insert("location", location.parse().map_err(|_| Problem::internal())?);
    Ok(response)
}

/// The receipt of an erasure: `pending` until nothing of the person is left, then `done`.
#[utoipa::path(
    get,
    path = "/api/v1/gdpr/erasures/{id}",
    tag = "gdpr",
    params(("id" = String, Path, pattern = "^er[0-9a-f]{21}$", description = "The receipt's id")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The receipt", body = ReceiptView),
        (status = 404, description = "No such receipt", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn receipt(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let id = request::path_param(&req, "id", |raw| match is_erasure_id(raw) {
        true => Ok(raw.to_string()),
        false => Err(format!("`{raw}` is not an erasure receipt's id")),
    })?;
    let receipt = api.store.get_erasure(&caller.workspace.id, &id).await?;
    let receipt = receipt.ok_or_else(|| Problem::not_found(format!("no erasure receipt {id} in this workspace")))?;
    Ok(json(200, &ReceiptView::from(&receipt)))
}

impl<'a> From<&'a ErasureReceipt> for ReceiptView<'a> {
    fn from(r: &'a ErasureReceipt) -> Self {
        ReceiptView {
            id: &r.id,
            status: r.status.as_str(),
            erased_at: model::listing::api_time(r.erased_at),
            // Receipts from before erasures could be pending were done when written.
            completed_at: match r.status {
                ErasureStatus::Done => Some(model::listing::api_time(r.completed_at.unwrap_or(r.erased_at))),
                ErasureStatus::Pending => None,
            },
            subject: &r.requested_by_kind,
            contact_id: r.contact_id,
            conversations_removed: r.conversations_removed,
            items_removed: r.items_removed,
            exports_deleted: r.exports_deleted,
            identities_suppressed: r.identities_suppressed,
        }
    }
}
