//! `POST /api/v1/gdpr/erasure` (admin): erases a person named by email, phone, channel
//! identity or contact id. The contact is purged at once (no grace period), every export
//! whose file may hold it is cancelled and deleted with its file, and what remains is a
//! receipt without personal data plus salted hashes of the person's identities, which
//! keep them opted out if they come back through a channel.

use crate::api::exports::ExportSettings;
use crate::api::openapi::schemas::{self as doc, ProblemDetails};
use crate::api::Api;
use crate::http::{json, request, HttpResult, Problem};
use lambda_http::Request;
use model::auth::Scope;
use model::domain::{Channel, ContactId, Email, Phone};
use model::gdpr::ErasureReceipt;
use model::gdpr::Subject;
use model::usecases::gdpr::{self, EraseError};
use serde::{Deserialize, Serialize};
use store::StoreError;
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
    #[schema(format = DateTime)]
    erased_at: String,
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

/// Erases a person now: contact, transcripts, exports that may hold them; keeps a receipt.
#[utoipa::path(
    post,
    path = "/api/v1/gdpr/erasure",
    tag = "gdpr",
    request_body = ErasureBody,
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The receipt", body = ReceiptView),
        (status = 409, description = "The contact changed while it was being erased; repeat the request", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "No such contact", body = ProblemDetails, content_type = "application/problem+json")),
)]
pub async fn handle(api: &Api, req: Request) -> HttpResult {
    let caller = api.auth.authorize(&req, Scope::Admin).await?;
    request::no_query(&req)?;
    let settings = ExportSettings::from(api)?;
    let ws = &caller.workspace.id;
    let subject = request::json_body::<ErasureBody>(&req)?.subject(caller.workspace.default_region)?;
    let receipt =
        gdpr::erase(&api.store, &settings.bucket, ws, &subject, &caller.key.name).await.map_err(|e| match e {
            // No If-Match was given: a change that raced the erasure is a conflict to repeat, not a stale edit.
            EraseError::Store(StoreError::VersionMismatch { .. }) => {
                Problem::conflict("the contact changed while it was being erased; repeat the request")
            }
            other => other.into(),
        })?;
    Ok(json(200, &ReceiptView::from(&receipt)))
}

impl<'a> From<&'a ErasureReceipt> for ReceiptView<'a> {
    fn from(r: &'a ErasureReceipt) -> Self {
        ReceiptView {
            id: &r.id,
            erased_at: model::listing::api_time(r.erased_at),
            subject: &r.requested_by_kind,
            contact_id: r.contact_id,
            conversations_removed: r.conversations_removed,
            items_removed: r.items_removed,
            exports_deleted: r.exports_deleted,
            identities_suppressed: r.identities_suppressed,
        }
    }
}
