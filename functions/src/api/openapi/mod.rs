//! The API's OpenAPI 3.1 document, generated from each handler's `#[utoipa::path]` and
//! the types it reads and answers with; served at `GET /api/v1/openapi.json` and kept
//! in `docs/openapi.json` (`make openapi`).

mod common;
pub mod schemas;

use super::{
    analytics, audit, bots, contacts, conversations, duplicates, exports, gdpr, imports, integrations, keys, people,
    retention, segments, workspace, Api,
};
use crate::http::{request, HttpResult};
use lambda_http::{Body, Request, Response};
use std::sync::LazyLock;
use utoipa::OpenApi;

use common::Shared;
pub use common::API_KEY;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AI Bot Contacts API",
        version = "1",
        description = "Contacts captured from a workspace's AI bots, and what people do with them. \
            The prose a schema cannot say (pagination and cursors, conflicts, idempotency, limits) is in docs/api.md.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        serve,
        contacts::list::handle,
        contacts::create::handle,
        contacts::get::handle,
        contacts::update::handle,
        contacts::delete::handle,
        contacts::restore::handle,
        contacts::conversations::handle,
        contacts::notes::list,
        contacts::notes::add,
        contacts::notes::delete,
        contacts::tags::add,
        contacts::tags::remove,
        contacts::tags::list,
        contacts::bulk::handle,
        contacts::duplicates::handle,
        contacts::duplicates::dismiss,
        duplicates::list,
        contacts::merge::merge,
        contacts::merge::get,
        contacts::merge::undo,
        conversations::messages::handle,
        conversations::close::handle,
        bots::list::handle,
        bots::create::handle,
        bots::get::handle,
        bots::update::handle,
        bots::messages::handle,
        workspace::get,
        workspace::update,
        analytics::handle,
        segments::list_all,
        segments::create,
        segments::get,
        segments::update,
        segments::delete,
        segments::members,
        retention::get_policy,
        retention::put_policy,
        retention::start_run,
        retention::list_runs,
        retention::get_run,
        exports::create::handle,
        exports::list::handle,
        exports::get::handle,
        imports::create::handle,
        imports::start::handle,
        imports::list::handle,
        imports::get::handle,
        gdpr::access::handle,
        gdpr::access::request,
        gdpr::erasure::handle,
        gdpr::erasure::receipt,
        keys::list,
        keys::create,
        keys::revoke,
        people::list,
        people::invite,
        people::change,
        people::remove,
        people::password_reset,
        audit::list,
        integrations::list,
        integrations::create,
        integrations::get,
        integrations::update,
        integrations::delete,
        integrations::resync,
    ),
    components(schemas(schemas::ProblemDetails, schemas::Range, schemas::Sort, schemas::ContactIdNumber)),
    modifiers(&Shared),
    tags(
        (name = "contacts", description = "The contact list, one contact, its notes and tags, bulk actions"),
        (name = "duplicates", description = "Possible duplicates, merges and their undo"),
        (name = "conversations", description = "Conversations and their transcripts"),
        (name = "bots", description = "Bots: capture switches and write-only channel secrets"),
        (name = "segments", description = "Saved list filters and their members"),
        (name = "exports", description = "Exports of the (filtered) list to CSV, XLSX or JSON"),
        (name = "imports", description = "Imports of contacts from CSV and XLSX files"),
        (name = "analytics", description = "The workspace's figures"),
        (name = "workspace", description = "The workspace's settings"),
        (name = "retention", description = "The retention policy and its runs"),
        (name = "gdpr", description = "Data-subject access and erasure"),
        (name = "people", description = "The workspace's people: invitations, roles, password reset links"),
        (name = "audit", description = "Who changed what, when: the audit log"),
        (name = "keys", description = "The workspace's API keys: made, listed, revoked"),
        (name = "integrations", description = "CRM sync (HubSpot, Salesforce, Zoho CRM) and signed outbound webhooks"),
        (name = "meta", description = "This document"),
    ),
)]
struct ApiDocument;

/// The document, built once per process.
static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| {
    let mut text = document().to_pretty_json().expect("the document serializes");
    text.push('\n');
    text
});

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDocument::openapi()
}

/// The document as served and as committed in `docs/openapi.json`.
pub fn document_json() -> &'static str {
    &DOCUMENT_JSON
}

/// The OpenAPI document of this API (no key needed).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)),
)]
pub async fn serve(_api: &Api, req: Request) -> HttpResult {
    request::no_query(&req)?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("cache-control", "public, max-age=300")
        .body(Body::Text(document_json().to_string()))
        .expect("valid response"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The names a schema lists: an enum's values, or an object's members.
    fn names(doc: &Value, schema: &str) -> Vec<String> {
        let schema = &doc["components"]["schemas"][schema];
        let mut names: Vec<String> = match schema.get("enum") {
            Some(values) => values.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect(),
            None => schema["properties"].as_object().unwrap().keys().cloned().collect(),
        };
        names.sort();
        names
    }

    fn sorted<S: ToString>(values: impl IntoIterator<Item = S>) -> Vec<String> {
        let mut names: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
        names.sort();
        names
    }

    /// The schema-only mirrors (`schemas.rs`) list exactly what the model accepts and answers.
    #[test]
    fn described_names_are_the_models() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(names(&doc, "Channel"), sorted(model::domain::Channel::ALL));
        assert_eq!(names(&doc, "LeadStatus"), sorted(model::domain::LeadStatus::ALL));
        assert_eq!(names(&doc, "LeadScore"), sorted(model::domain::Score::ALL));
        assert_eq!(names(&doc, "MergeChoices"), sorted(model::merge::CHOOSABLE));
    }
}
