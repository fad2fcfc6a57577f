//! Outbound webhooks (custom integrations): each change POSTed as JSON, signed by the
//! Standard Webhooks specification, with the same `webhook-id` on every retry.

use super::http::{failure, unreachable, CallError};
use super::message::SyncMessage;
use super::session::Session;
use crate::api::views::ContactRow;
use model::integration::event::{webhook_body, ContactEvent};
use model::integration::{signing, Target};
use serde_json::Value;

/// A receiver's error body is its own: shown as text.
fn describe(body: &Value) -> (Option<String>, String) {
    (None, body.to_string())
}

/// Whether a change went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// The webhook's filters leave the contact out.
    Filtered,
}

/// Delivers one change; a receiver answering anything but 2xx gets it again later.
pub async fn deliver(session: &mut Session<'_>, message: &SyncMessage) -> Result<Delivered, CallError> {
    let Target::Webhook { url, .. } = session.target().clone() else { unreachable!("a webhook session has a URL") };
    let representation = match &message.event {
        ContactEvent::Created | ContactEvent::Updated { .. } => {
            let ws = session.workspace;
            let contact = session.store.get_contact(ws, message.contact).await.map_err(|e| CallError::Retry {
                after: None,
                error: super::http::sync_error(None, None, format!("the contact could not be read: {e}")),
            })?;
            if contact.as_ref().is_some_and(|c| c.is_visible() && !session.takes(c)) {
                return Ok(Delivered::Filtered);
            }
            // An opted-out contact's data is not sent anywhere.
            contact
                .filter(|c| c.is_visible() && !c.consent.opted_out())
                .and_then(|c| serde_json::to_value(ContactRow::from(&c.listed())).ok())
        }
        _ => None,
    };
    let body = webhook_body(message.contact, &message.event, message.occurred_at, representation);
    let bytes = serde_json::to_vec(&body).expect("JSON serializes");
    let timestamp = chrono::Utc::now().timestamp();
    let secret = session.signing_secret().unwrap_or_default().to_string();
    let signature = signing::sign(&secret, &message.delivery_id, timestamp, &bytes)
        .map_err(|e| CallError::Refused(super::http::sync_error(None, None, e)))?;
    let response = session
        .http
        .post(&url)
        .header("content-type", "application/json")
        .header("webhook-id", &message.delivery_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(bytes)
        .send()
        .await
        .map_err(unreachable)?;
    if response.status().is_success() {
        return Ok(Delivered::Sent);
    }
    // Every failed delivery is retried, as the specification asks of senders.
    match failure(response, describe).await {
        CallError::Refused(error) => Err(CallError::Retry { after: None, error }),
        retry => Err(retry),
    }
}
