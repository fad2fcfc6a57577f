//! RFC 9457 problem details: every error leaves the API as `application/problem+json`.

use lambda_http::{Body, Response};
use model::listing::FieldError;
use model::usecases::analytics::PeriodError;
use model::usecases::contacts::DeleteError;
use model::usecases::duplicates::DismissError;
use model::usecases::exports::RequestExportError;
use model::usecases::gdpr::EraseError;
use model::usecases::merge::{MergeError, UndoError};
use model::usecases::people::PeopleError;
use serde::Serialize;
use store::StoreError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Boxed so that `Result<_, Problem>` stays small.
    #[serde(flatten)]
    pub details: Box<Details>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Details {
    /// The fields at fault, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Extra members (e.g. the id of the contact that holds an email).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub detail: String,
}

impl Problem {
    fn new(status: u16, title: &'static str, detail: impl Into<String>) -> Self {
        Problem { kind: "about:blank", title, status, detail: detail.into(), details: Box::default() }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(400, "Bad Request", detail)
    }

    /// A validation error naming its field.
    pub fn invalid_field(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let mut p = Problem::new(400, "Bad Request", format!("{field}: {detail}"));
        p.details.errors.push(FieldProblem { field: field.to_string(), detail });
        p
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut p = Problem::new(401, "Unauthorized", detail);
        p.details.headers.push(("www-authenticate", "Bearer".to_string()));
        p
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(403, "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(404, "Not Found", detail)
    }

    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Problem::new(405, "Method Not Allowed", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(409, "Conflict", detail)
    }

    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Problem::new(412, "Precondition Failed", detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Problem::new(413, "Content Too Large", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Problem::new(415, "Unsupported Media Type", detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut p = Problem::new(503, "Service Unavailable", detail);
        p.details.headers.push(("retry-after", "1".to_string()));
        p
    }

    /// 429 with `Retry-After` (seconds).
    pub fn too_many_requests(detail: impl Into<String>, retry_after_seconds: u32) -> Self {
        let mut p = Problem::new(429, "Too Many Requests", detail);
        p.details.headers.push(("retry-after", retry_after_seconds.to_string()));
        p
    }

    pub fn internal() -> Self {
        Problem::new(500, "Internal Server Error", "something went wrong on our side; the request may be retried")
    }

    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn into_response(self) -> Response<Body> {
        let mut builder = Response::builder().status(self.status).header("content-type", "application/problem+json");
        for (name, value) in &self.details.headers {
            builder = builder.header(*name, value);
        }
        builder.body(Body::Text(serde_json::to_string(&self).expect("problems serialize"))).expect("valid response")
    }
}

impl From<FieldError> for Problem {
    fn from(e: FieldError) -> Self {
        Problem::invalid_field(&e.field, e.message)
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Problem::not_found("no such contact in this workspace"),
            StoreError::Taken { field, owner } => {
                Problem::conflict(format!("{field} is already used by contact {owner}"))
                    .with("field", field)
                    .with("contact_id", owner.0)
            }
            StoreError::VersionMismatch { current } => Problem::precondition_failed(format!(
                "the contact was changed by someone else (now version {current}); reload it and apply your edit again"
            ))
            .with("current_version", current),
            StoreError::BadCursor => {
                Problem::invalid_field("cursor", "does not fit this listing; start again from the first page")
            }
            StoreError::AlreadyCaptured => Problem::conflict("this event was already captured"),
            StoreError::Contended => {
                Problem::unavailable("too many concurrent changes to this workspace; retry shortly")
            }
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "store unavailable");
                Problem::unavailable("the database is busy; retry shortly")
            }
            StoreError::Corrupt(_) | StoreError::Refused(_) => {
                tracing::error!(error = %e, "store failure");
                Problem::internal()
            }
        }
    }
}

impl From<PeopleError> for Problem {
    fn from(e: PeopleError) -> Self {
        match e {
            PeopleError::Store(e) => e.into(),
            PeopleError::Forbidden(why) => Problem::forbidden(why),
            PeopleError::NotFound => Problem::not_found(e.to_string()),
            PeopleError::Invalid { field, reason } => Problem::invalid_field(field, reason),
            PeopleError::EmailTaken | PeopleError::LastOwner => Problem::conflict(e.to_string()),
            PeopleError::LinkGone => Problem::not_found(e.to_string()),
            PeopleError::WrongPassword => Problem::invalid_field("current_password", e.to_string()),
        }
    }
}

impl From<DeleteError> for Problem {
    fn from(e: DeleteError) -> Self {
        match e {
            DeleteError::Active { id, conversations } => Problem::conflict(format!(
                "contact {id} has {} active conversation(s); close them first (POST /api/v1/conversations/{{id}}/close), then delete",
                conversations.len()
            ))
            .with("active_conversations", conversations),
            DeleteError::Store(e) => e.into(),
        }
    }
}

impl From<PeriodError> for Problem {
    fn from(e: PeriodError) -> Self {
        Problem::invalid_field(e.field, e.message)
    }
}

impl From<EraseError> for Problem {
    fn from(e: EraseError) -> Self {
        match e {
            EraseError::Store(e) => e.into(),
            EraseError::File(e) => {
                tracing::error!(error = %e, "export file of an erased contact not deleted");
                Problem::unavailable("an export holding this person could not be deleted yet; repeat the request")
            }
        }
    }
}

impl From<RequestExportError> for Problem {
    fn from(e: RequestExportError) -> Self {
        match e {
            RequestExportError::Store(e) => e.into(),
            RequestExportError::TooLargeForXlsx { .. } => Problem::invalid_field("format", e.to_string()),
            RequestExportError::TooMany { .. } => Problem::too_many_requests(e.to_string(), 60),
            RequestExportError::NotQueued(e) => {
                tracing::error!(error = %e, "export not queued");
                Problem::unavailable("the export could not be queued; retry shortly")
            }
        }
    }
}

impl From<MergeError> for Problem {
    fn from(e: MergeError) -> Self {
        match e {
            MergeError::Itself => Problem::invalid_field("other_id", e.to_string()),
            MergeError::Missing { .. } => Problem::not_found(e.to_string()),
            MergeError::Limit(field, message) => Problem::invalid_field(field, message),
            MergeError::Store(e) => e.into(),
        }
    }
}

impl From<DismissError> for Problem {
    fn from(e: DismissError) -> Self {
        match e {
            DismissError::Itself => Problem::invalid_field("other_id", e.to_string()),
            DismissError::Missing(id) | DismissError::Hidden(id) => {
                Problem::not_found(e.to_string()).with("contact_id", id.0)
            }
            DismissError::NotRecorded(..) => Problem::not_found(e.to_string()),
            DismissError::Store(e) => e.into(),
        }
    }
}

impl From<UndoError> for Problem {
    fn from(e: UndoError) -> Self {
        match e {
            UndoError::NotFound(_) => Problem::not_found(e.to_string()),
            UndoError::AlreadyUndone | UndoError::WindowClosed(_) | UndoError::SurvivorChanged { .. } => {
                Problem::conflict(e.to_string())
            }
            UndoError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_is_503_with_retry_after() {
        for e in [StoreError::Unavailable("ThrottlingException: rate exceeded".into()), StoreError::Contended] {
            let response = Problem::from(e).into_response();
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
        }
    }
}
