//! What every vendor call shares: a client that refuses non-public addresses and follows
//! no redirect, and the sorting of a vendor's answer into done, retry later, or refused.

use chrono::Utc;
use model::integration::address::is_public;
use model::integration::SyncError;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A vendor call's time limit: a stuck vendor costs a retry, not the worker's whole run.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The client the worker sends with. With `allow_local_http` (local stack and tests) names
/// resolve as usual; otherwise a name resolving to a non-public address is refused.
pub fn client(allow_local_http: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("ai-bot-contacts-sync/1");
    let builder = if allow_local_http { builder } else { builder.dns_resolver(Arc::new(PublicOnly)) };
    builder.build().expect("the HTTP client builds")
}

/// Resolves a name to its public addresses only.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Why a vendor call did not go through.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// Worth trying again later: a rate limit (with the vendor's `Retry-After`, if any), a
    /// server error, a timeout, a connection failure, an expired token.
    Retry { after: Option<Duration>, error: SyncError },
    /// The vendor refused the request itself; sending it again would not help.
    Refused(SyncError),
}

impl CallError {
    pub fn error(&self) -> &SyncError {
        match self {
            CallError::Retry { error, .. } | CallError::Refused(error) => error,
        }
    }
}

pub fn sync_error(status: Option<u16>, code: Option<String>, message: impl Into<String>) -> SyncError {
    let mut message: String = message.into();
    // A vendor's message is shown as is; a page of HTML is not.
    if message.len() > 500 {
        message
            .truncate(message.char_indices().take_while(|(i, _)| *i < 500).last().map_or(0, |(i, c)| i + c.len_utf8()));
    }
    SyncError { status, code, message, at: Utc::now() }
}

/// A request that got no answer. The URL is left out of the message: a token request's
/// could carry credentials, and the message is stored and shown.
pub fn unreachable(e: reqwest::Error) -> CallError {
    let what = if e.is_timeout() { "timed out" } else { "could not be reached" };
    let e = e.without_url();
    CallError::Retry { after: None, error: sync_error(None, None, format!("the vendor {what}: {e}")) }
}

/// An answer that is not a success, sorted: 429 and 5xx are retried (429 after the vendor's
/// `Retry-After`), other statuses refused. `code` and `message` are what the vendor's error
/// body says, found by `describe`.
pub async fn failure(
    response: reqwest::Response,
    describe: fn(&serde_json::Value) -> (Option<String>, String),
) -> CallError {
    let status = response.status().as_u16();
    let retry_after =
        response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after);
    let text = response.text().await.unwrap_or_default();
    let (code, message) = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(body) => describe(&body),
        Err(_) => (None, if text.trim().is_empty() { format!("HTTP {status}") } else { text }),
    };
    let error = sync_error(Some(status), code, message);
    // An expired or revoked credential is worth retrying: an admin may fix it meanwhile.
    if status == 429 || status == 401 || status == 408 || status >= 500 {
        CallError::Retry { after: retry_after, error }
    } else {
        CallError::Refused(error)
    }
}

/// `Retry-After` in seconds, or as an HTTP date (RFC 9110).
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    Some((at.with_timezone(&Utc) - Utc::now()).to_std().unwrap_or_default())
}

/// The JSON body of a success.
pub async fn json_body(response: reqwest::Response) -> Result<serde_json::Value, CallError> {
    let status = response.status().as_u16();
    response.json().await.map_err(|e| CallError::Retry {
        after: None,
        error: sync_error(Some(status), None, format!("an unreadable answer: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        let soon = (Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        assert!(retry_after(&soon).is_some_and(|d| (28..=30).contains(&d.as_secs())));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO), "past: at once");
        assert_eq!(retry_after("soon"), None);
    }
}
