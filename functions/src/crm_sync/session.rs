//! One integration's connection for one batch: the client, the integration, and its
//! credentials, with an OAuth access token fetched when missing or expired and kept
//! (sealed) for the next batch.

use super::http::{failure, json_body, sync_error, unreachable, CallError};
use model::domain::WorkspaceId;
use model::integration::{Credentials, Integration, Target};
use serde_json::Value;
use store::{Store, StoredIntegration};

/// A record to create or update at the vendor.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The value of the field the vendor finds the record by (email, or our contact id).
    pub email: Option<String>,
    pub contact_id: String,
    pub fields: serde_json::Map<String, Value>,
    /// The vendor has it already: found by our id (an email may have changed since), and
    /// no stand-in values overwrite what a salesperson typed there.
    pub synced_before: bool,
}

/// The vendor's id for a record, or why it refused that record.
pub type RecordOutcome = Result<String, model::integration::SyncError>;

pub struct Session<'a> {
    pub http: &'a reqwest::Client,
    pub store: &'a Store,
    pub workspace: &'a WorkspaceId,
    pub integration: Integration,
    credentials: Credentials,
    /// The workspace's, for filters with a `range`.
    zone: chrono_tz::Tz,
}

impl<'a> Session<'a> {
    pub fn new(
        http: &'a reqwest::Client,
        store: &'a Store,
        workspace: &'a WorkspaceId,
        stored: StoredIntegration,
        zone: chrono_tz::Tz,
    ) -> Self {
        Session { http, store, workspace, integration: stored.integration, credentials: stored.credentials, zone }
    }

    pub fn target(&self) -> &Target {
        &self.integration.target
    }

    /// Whether the integration's list filters take this contact (all do without filters).
    pub fn takes(&self, contact: &model::contact::Contact) -> bool {
        if self.integration.filters.is_empty() {
            return true;
        }
        let pairs: Vec<(String, String)> =
            self.integration.filters.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        // Checked when the integration was made: a filter that no longer parses takes nothing.
        match model::listing::ListRequest::parse_filters(
            self.workspace,
            &pairs,
            chrono::Utc::now().with_timezone(&self.zone),
        ) {
            Ok(request) => request.filter.matches(&contact.listed()),
            Err(e) => {
                tracing::error!(integration = %self.integration.id, field = %e.field, "integration filters do not parse");
                false
            }
        }
    }

    /// A static token, or the OAuth access token (fetched first if there is none yet).
    pub async fn access_token(&mut self) -> Result<String, CallError> {
        match &self.credentials {
            Credentials::Token { access_token } => Ok(access_token.clone()),
            Credentials::Refresh { access_token: Some(token), .. } => Ok(token.clone()),
            Credentials::Refresh { access_token: None, .. } => self.refresh().await,
            Credentials::Signing { .. } => Err(CallError::Refused(sync_error(None, None, "no token for a webhook"))),
        }
    }

    pub fn signing_secret(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Signing { secret } => Some(secret),
            _ => None,
        }
    }

    /// Sends a request built with the access token; an OAuth integration answered 401
    /// (an expired or revoked token) refreshes the token and sends it once more.
    pub async fn send(
        &mut self,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, CallError> {
        let token = self.access_token().await?;
        let response = build(self.http, &token).send().await.map_err(unreachable)?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED
            && matches!(self.credentials, Credentials::Refresh { .. })
        {
            let token = self.refresh().await?;
            return build(self.http, &token).send().await.map_err(unreachable);
        }
        Ok(response)
    }

    /// Trades the refresh token for a new access token (Salesforce's and Zoho's refresh-token
    /// grant) and keeps it.
    pub async fn refresh(&mut self) -> Result<String, CallError> {
        let Credentials::Refresh { client_id, client_secret, refresh_token, .. } = &self.credentials else {
            return Err(CallError::Refused(sync_error(None, None, "these credentials cannot be refreshed")));
        };
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.as_str()),
            ("refresh_token", refresh_token.as_str()),
        ];
        let request = match self.target() {
            Target::Salesforce { token_url, .. } => self.http.post(token_url).form(&form),
            // Zoho's examples put the grant in the query string; it takes a form body too, which
            // keeps the secrets out of URLs (and of error messages, proxies and logs).
            Target::Zoho { accounts_url, .. } => self.http.post(format!("{accounts_url}/oauth/v2/token")).form(&form),
            _ => return Err(CallError::Refused(sync_error(None, None, "this vendor has no token endpoint"))),
        };
        let response = request.send().await.map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(failure(response, describe_oauth).await);
        }
        let body = json_body(response).await?;
        // Zoho answers a refused grant with 200 and an `error`.
        let token = match body.get("access_token").and_then(Value::as_str) {
            Some(t) => t.to_string(),
            None => {
                let (code, message) = describe_oauth(&body);
                return Err(CallError::Refused(sync_error(Some(200), code, message)));
            }
        };
        if let Credentials::Refresh { access_token, .. } = &mut self.credentials {
            *access_token = Some(token.clone());
        }
        let saved = self.store.save_credentials(self.workspace, &self.integration.id, &self.credentials).await;
        if let Err(e) = saved {
            // The token works for this batch; the next one fetches its own.
            tracing::warn!(integration = %self.integration.id, error = %e, "a refreshed token was not kept");
        }
        tracing::info!(integration = %self.integration.id, "access token refreshed");
        Ok(token)
    }
}

/// OAuth errors: `{"error": "invalid_grant", "error_description": "…"}`.
fn describe_oauth(body: &Value) -> (Option<String>, String) {
    let code = body.get("error").and_then(Value::as_str).map(str::to_string);
    let message = body.get("error_description").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| {
        format!("the token endpoint refused the refresh token ({})", code.as_deref().unwrap_or("no reason"))
    });
    (code, message)
}
