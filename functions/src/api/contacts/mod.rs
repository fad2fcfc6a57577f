//! `/api/v1/contacts`: one module per verb.

pub mod bulk;
pub mod changes;
pub mod conversations;
pub mod create;
pub mod delete;
pub mod duplicates;
pub mod get;
pub mod list;
pub mod merge;
pub mod notes;
pub mod restore;
pub mod tags;
pub mod update;

mod body;

use crate::api::Api;
use crate::http::{request, HttpResult, Problem};
use lambda_http::Request;
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::listing::api_time;
use store::Store;

/// How long a request purges deleted contacts (a workspace without a grace period) before
/// leaving the rest of a long history to the purge job: within the API's 10 s.
pub const PURGE_IN_REQUEST: chrono::Duration = chrono::Duration::seconds(5);

/// The contact, or a 404 that says when a deleted one can still be restored.
pub(crate) async fn visible_contact(api: &Api, ws: &WorkspaceId, id: ContactId) -> Result<Contact, Problem> {
    visible_in(&api.store, ws, id).await
}

/// [`visible_contact`] for callers that hold only the store (the dashboard's bulk actions).
pub(crate) async fn visible_in(store: &Store, ws: &WorkspaceId, id: ContactId) -> Result<Contact, Problem> {
    match store.get_contact(ws, id).await? {
        Some(c) if c.is_visible() => Ok(c),
        Some(c) => {
            let until = c.purge_after.map(api_time).unwrap_or_default();
            Err(Problem::not_found(format!(
                "contact {id} was deleted; POST /api/v1/contacts/{id}/restore brings it back until {until}"
            ))
            .with("deleted_at", c.deleted_at.map(api_time))
            .with("purge_after", until))
        }
        None => match store.merged_into(ws, id).await? {
            Some((survivor, merge)) => {
                Err(Problem::not_found(format!("contact {id} was merged into contact {survivor}"))
                    .with("merged_into", survivor.0)
                    .with("see", format!("/api/v1/contacts/{survivor}"))
                    .with("merge_id", merge))
            }
            None => Err(Problem::not_found(format!("there is no contact {id} in this workspace"))),
        },
    }
}

fn contact_id(req: &Request) -> Result<ContactId, Problem> {
    request::path_param(req, "id", str::parse::<ContactId>)
}

fn with_etag(mut response: lambda_http::Response<lambda_http::Body>, etag: String) -> HttpResult {
    response.headers_mut().insert("etag", etag.parse().map_err(|_| Problem::internal())?);
    Ok(response)
}
