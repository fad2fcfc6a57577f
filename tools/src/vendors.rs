//! Local stand-ins for the CRMs the sync writes to, and for the endpoint its webhooks go to.
//!
//! Each [`Vendor`] answers as the published API does: HubSpot CRM v3 (contacts batch upsert
//! and archive, GDPR delete, a private-app token), Salesforce REST v62.0 (the OAuth 2.0
//! refresh-token flow, sObject Collections upsert and delete) and Zoho CRM v8 (Leads and
//! Contacts upsert and delete, Zoho Accounts' token endpoint). A request the real API would
//! refuse gets that API's status and error body. The servers keep what was written and every
//! request, so a black-box test asserts what arrived; [`Vendor::fail_next`] and
//! [`Vendor::reject_records_where`] make them fail the way the vendors do.
//!
//! [`WebhookReceiver`] verifies Standard Webhooks signatures as a customer's endpoint would.
//!
//! The tests start them on free ports; `make dev` starts one of each on fixed ports
//! ([`LocalVendors`]) and connects the demo workspace to them. `GET /_local` on any of them
//! shows what it holds and received (not part of any vendor's API).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`; empty when there is none.
    pub query: String,
    /// Lower-case names; a repeated header's values joined with ", ".
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    fn content_type_is(&self, mime: &str) -> bool {
        self.header("content-type").and_then(|value| value.split(';').next()).is_some_and(|v| v.trim() == mime)
    }
}

/// A fault the next matching data request (not token requests) gets, once each.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with the vendor's rate-limit body and `Retry-After: <seconds>` (HubSpot, Zoho); for
    /// Salesforce: 403 with `[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":...}]` (Salesforce
    /// sends no Retry-After).
    RateLimited { retry_after_seconds: u64 },
    /// The access token the client holds is treated as expired: 401 with the vendor's body. For
    /// Salesforce and Zoho every token issued so far stops working; after a token refresh, the
    /// new token works. A HubSpot private-app token cannot be refreshed, so it fails once.
    ExpiredToken,
    /// 503 (Zoho: 500) with the vendor's error body.
    Unavailable,
}

/// A running stand-in for one CRM.
pub struct Vendor {
    base: String,
    state: Arc<Mutex<State>>,
}

#[derive(Clone, Copy)]
enum Crm {
    HubSpot,
    Salesforce,
    Zoho,
}

struct State {
    crm: Crm,
    base: String,
    /// The connected app and refresh token the client must present (Salesforce, Zoho).
    oauth: Option<OAuthClient>,
    /// Access tokens that authorize data requests now.
    tokens: HashSet<String>,
    received: Vec<Received>,
    records: BTreeMap<String, Stored>,
    deleted: Vec<String>,
    faults: VecDeque<Fault>,
    /// (field, value) pairs whose records the vendor refuses.
    rejections: Vec<(String, String)>,
    /// Numbers handed out so far, for record ids and tokens.
    issued: u64,
}

struct OAuthClient {
    client_id: String,
    client_secret: String,
    refresh_token: String,
}

#[derive(Clone)]
struct Stored {
    /// HubSpot `contacts`, Salesforce `Lead` or `Contact`, Zoho `Leads` or `Contacts`.
    object: String,
    fields: Map<String, Value>,
    created_at: String,
}

impl Stored {
    fn new(object: &str, created_at: &str) -> Stored {
        Stored { object: object.to_string(), fields: Map::new(), created_at: created_at.to_string() }
    }
}

impl Vendor {
    /// HubSpot accepting `Authorization: Bearer <token>` (a private-app token).
    pub async fn hubspot(token: &str) -> Vendor {
        Vendor::start(0, Crm::HubSpot, None, HashSet::from([token.to_string()])).await
    }

    /// Salesforce: token endpoint at `{base}/services/oauth2/token`, data under
    /// `{base}/services/data/v62.0/`, objects `Lead` (requires LastName and Company) and
    /// `Contact` (requires LastName), upserted by any custom (`__c`) external id field.
    pub async fn salesforce(client_id: &str, client_secret: &str, refresh_token: &str) -> Vendor {
        Vendor::salesforce_on(0, client_id, client_secret, refresh_token).await
    }

    async fn salesforce_on(port: u16, client_id: &str, client_secret: &str, refresh_token: &str) -> Vendor {
        let client = OAuthClient::new(client_id, client_secret, refresh_token);
        Vendor::start(port, Crm::Salesforce, Some(client), HashSet::new()).await
    }

    /// Zoho: accounts at `{base}/oauth/v2/token`, data under `{base}/crm/v8/` (Leads, Contacts:
    /// both require Last_Name), `Authorization: Zoho-oauthtoken <token>`.
    pub async fn zoho(client_id: &str, client_secret: &str, refresh_token: &str) -> Vendor {
        Vendor::zoho_on(0, client_id, client_secret, refresh_token).await
    }

    async fn zoho_on(port: u16, client_id: &str, client_secret: &str, refresh_token: &str) -> Vendor {
        Vendor::start(port, Crm::Zoho, Some(OAuthClient::new(client_id, client_secret, refresh_token)), HashSet::new())
            .await
    }

    async fn start(port: u16, crm: Crm, oauth: Option<OAuthClient>, tokens: HashSet<String>) -> Vendor {
        let (listener, base) = bind(port).await;
        let state = Arc::new(Mutex::new(State {
            crm,
            base: base.clone(),
            oauth,
            tokens,
            received: Vec::new(),
            records: BTreeMap::new(),
            deleted: Vec::new(),
            faults: VecDeque::new(),
            rejections: Vec::new(),
            issued: 0,
        }));
        serve(listener, state.clone(), answer);
        Vendor { base, state }
    }

    /// `http://127.0.0.1:<port>`
    pub fn base(&self) -> String {
        self.base.clone()
    }

    /// Every request, in order, token requests and refused ones included.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The vendor's records now: remote id → the record's fields as last written (JSON object).
    /// Archived/deleted records are gone.
    pub fn records(&self) -> BTreeMap<String, Value> {
        self.lock().records.iter().map(|(id, record)| (id.clone(), Value::Object(record.fields.clone()))).collect()
    }

    /// Ids the vendor was asked to GDPR-delete (HubSpot) or delete (Salesforce, Zoho).
    pub fn deleted(&self) -> Vec<String> {
        self.lock().deleted.clone()
    }

    pub fn fail_next(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// Makes every later upsert of a record whose field `field` equals `value` fail per record
    /// with the vendor's per-record validation error.
    pub fn reject_records_where(&self, field: &str, value: &str) {
        self.lock().rejections.push((field.to_string(), value.to_string()));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("vendor state")
    }
}

/// The first check of a refresh-token grant that failed, in the order both vendors check.
enum Refused {
    GrantType,
    ClientId,
    ClientSecret,
    RefreshToken,
}

impl OAuthClient {
    fn new(client_id: &str, client_secret: &str, refresh_token: &str) -> OAuthClient {
        OAuthClient {
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            refresh_token: refresh_token.to_string(),
        }
    }

    fn refuses(&self, params: &HashMap<String, String>) -> Option<Refused> {
        let param = |name: &str| params.get(name).map(String::as_str);
        if param("grant_type") != Some("refresh_token") {
            Some(Refused::GrantType)
        } else if param("client_id") != Some(self.client_id.as_str()) {
            Some(Refused::ClientId)
        } else if param("client_secret") != Some(self.client_secret.as_str()) {
            Some(Refused::ClientSecret)
        } else if param("refresh_token") != Some(self.refresh_token.as_str()) {
            Some(Refused::RefreshToken)
        } else {
            None
        }
    }
}

fn answer(state: &Mutex<State>, request: Received) -> Reply {
    let mut state = state.lock().expect("vendor state");
    if request.method == "GET" && request.path == LOCAL_VIEW {
        return Reply::json(200, state.local_view());
    }
    state.received.push(request.clone());
    match state.crm {
        Crm::HubSpot => hubspot::answer(&mut state, &request),
        Crm::Salesforce => salesforce::answer(&mut state, &request),
        Crm::Zoho => zoho::answer(&mut state, &request),
    }
}

/// Where a stand-in shows what it holds and received.
const LOCAL_VIEW: &str = "/_local";

/// Requests a stand-in's local view shows, newest last.
const LOCAL_VIEW_REQUESTS: usize = 50;

impl State {
    /// The records and the latest requests: method, path, query and body (no headers; a
    /// token request's body holds the demo credentials, which are public).
    fn local_view(&self) -> Value {
        let records: Map<String, Value> =
            self.records.iter().map(|(id, r)| (id.clone(), Value::Object(r.fields.clone()))).collect();
        let requests: Vec<Value> = self
            .received
            .iter()
            .rev()
            .take(LOCAL_VIEW_REQUESTS)
            .rev()
            .map(|r| {
                let body = serde_json::from_str::<Value>(&r.body).unwrap_or_else(|_| Value::String(r.body.clone()));
                json!({"method": r.method, "path": r.path, "query": r.query, "body": body})
            })
            .collect();
        json!({"records": records, "deleted": self.deleted, "requests": requests})
    }

    fn next_number(&mut self) -> u64 {
        self.issued += 1;
        self.issued
    }

    /// Whether the request carries `Authorization: <scheme> <token>` with a token honoured now.
    fn authorized(&self, request: &Received, scheme: &str) -> bool {
        let presented = request.header("authorization").and_then(|v| v.strip_prefix(scheme)?.strip_prefix(' '));
        presented.is_some_and(|token| self.tokens.contains(token))
    }

    /// The fault queued for this data request. An expired OAuth token stays expired until the
    /// client refreshes it, as the vendors' sessions do.
    fn take_fault(&mut self) -> Option<Fault> {
        let fault = self.faults.pop_front()?;
        if matches!(fault, Fault::ExpiredToken) && self.oauth.is_some() {
            self.tokens.clear();
        }
        Some(fault)
    }

    /// The field of `fields` that a test made the vendor refuse, if any.
    fn refused_field(&self, fields: &Map<String, Value>) -> Option<String> {
        let refused = self.rejections.iter().find(|(field, value)| text(fields.get(field)).as_deref() == Some(value));
        refused.map(|(field, _)| field.clone())
    }

    /// The id of the `object` record whose `field` holds `key`, ignoring case as the vendors
    /// do for emails.
    fn find(&self, object: &str, field: &str, key: &str) -> Option<String> {
        let same =
            |record: &Stored| text(record.fields.get(field)).is_some_and(|value| value.eq_ignore_ascii_case(key));
        self.records.iter().find(|(_, record)| record.object == object && same(record)).map(|(id, _)| id.clone())
    }
}

/// HubSpot CRM v3: contacts batch upsert and archive, GDPR delete.
mod hubspot {
    use super::*;

    /// Inputs per batch request.
    const BATCH_LIMIT: usize = 100;
    const CONTACTS: &str = "contacts";

    pub(super) fn answer(state: &mut State, request: &Received) -> Reply {
        let operation: fn(&mut State, &Value) -> Reply = match request.path.as_str() {
            "/crm/v3/objects/contacts/batch/upsert" => upsert,
            "/crm/v3/objects/contacts/batch/archive" => archive,
            "/crm/v3/objects/contacts/gdpr-delete" => gdpr_delete,
            _ => return error(404, "OBJECT_NOT_FOUND", "Not Found"),
        };
        if request.method != "POST" {
            return error(405, "VALIDATION_ERROR", &format!("HTTP method {} is not supported here", request.method));
        }
        if let Some(fault) = state.take_fault() {
            return fault_answer(fault);
        }
        if !state.authorized(request, "Bearer") {
            return unauthenticated();
        }
        if !request.content_type_is("application/json") {
            return error(415, "VALIDATION_ERROR", "Unsupported Media Type: send application/json");
        }
        match serde_json::from_str(&request.body) {
            Ok(body) => operation(state, &body),
            Err(e) => error(400, "VALIDATION_ERROR", &format!("Invalid input JSON: {e}")),
        }
    }

    fn upsert(state: &mut State, body: &Value) -> Reply {
        let inputs = match inputs(body) {
            Ok(inputs) => inputs,
            Err(reply) => return reply,
        };
        let mut ids = HashSet::new();
        let mut upserts = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            let (Some(id), Some(id_property), Some(properties)) =
                (input["id"].as_str(), input["idProperty"].as_str(), input["properties"].as_object())
            else {
                let message = format!("Invalid input: inputs[{index}] needs string id and idProperty, and properties");
                return error(400, "VALIDATION_ERROR", &message);
            };
            if !ids.insert(id.to_ascii_lowercase()) {
                return error(400, "VALIDATION_ERROR", &format!("Duplicate IDs found in batch input: [{id}]"));
            }
            upserts.push((id, id_property, properties));
        }
        let started_at = now();
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for (id, id_property, properties) in upserts {
            // A record created by its unique property holds that value.
            let mut written = Map::from_iter([(id_property.to_string(), json!(id))]);
            written.extend(properties.clone());
            if let Some(field) = state.refused_field(&written) {
                errors.push(invalid_property(id, &field, &written));
                continue;
            }
            let existing = state.find(CONTACTS, id_property, id);
            let new = existing.is_none();
            let record_id = existing.unwrap_or_else(|| (1000 + state.next_number()).to_string());
            let updated_at = now();
            let record = state.records.entry(record_id.clone()).or_insert_with(|| Stored::new(CONTACTS, &updated_at));
            record.fields.extend(written);
            let mut shown = record.fields.clone();
            shown.insert("hs_object_id".into(), json!(record_id));
            shown.insert("createdate".into(), json!(record.created_at));
            shown.insert("lastmodifieddate".into(), json!(updated_at));
            results.push(json!({
                "id": record_id, "properties": shown, "createdAt": record.created_at, "updatedAt": updated_at,
                "archived": false, "new": new,
            }));
        }
        let mut answer =
            json!({"status": "COMPLETE", "results": results, "startedAt": started_at, "completedAt": now()});
        if errors.is_empty() {
            return Reply::json(200, answer);
        }
        answer["numErrors"] = json!(errors.len());
        answer["errors"] = json!(errors);
        Reply::json(207, answer)
    }

    /// Answered 204 whatever the ids' state (active, archived, unknown), as the reference says.
    fn archive(state: &mut State, body: &Value) -> Reply {
        let inputs = match inputs(body) {
            Ok(inputs) => inputs,
            Err(reply) => return reply,
        };
        let Some(ids) = inputs.iter().map(|input| input["id"].as_str()).collect::<Option<Vec<_>>>() else {
            return error(400, "VALIDATION_ERROR", "Invalid input: every input needs a string id");
        };
        for id in ids {
            state.records.remove(id);
        }
        Reply::empty(204)
    }

    /// By record id, or by `idProperty` (an unknown email is blocklisted: still 204).
    fn gdpr_delete(state: &mut State, body: &Value) -> Reply {
        let Some(object_id) = body["objectId"].as_str() else {
            return error(400, "VALIDATION_ERROR", "Invalid input: objectId is required");
        };
        let found = match body["idProperty"].as_str() {
            Some(id_property) => state.find(CONTACTS, id_property, object_id),
            None => state.records.contains_key(object_id).then(|| object_id.to_string()),
        };
        if let Some(id) = found {
            state.records.remove(&id);
        }
        state.deleted.push(object_id.to_string());
        Reply::empty(204)
    }

    fn inputs(body: &Value) -> Result<&Vec<Value>, Reply> {
        let inputs = body["inputs"]
            .as_array()
            .ok_or_else(|| error(400, "VALIDATION_ERROR", "Invalid input: inputs is required"))?;
        if inputs.len() > BATCH_LIMIT {
            let message = "The maximum number of inputs supported in a batch request is 100. Please reduce the number of items and try again";
            return Err(error(400, "VALIDATION_ERROR", message));
        }
        Ok(inputs)
    }

    /// One input's entry in the `errors` of a multi-status (207) batch answer.
    fn invalid_property(id: &str, field: &str, properties: &Map<String, Value>) -> Value {
        let value = text(properties.get(field)).unwrap_or_default();
        let detail = json!([{
            "isValid": false, "message": format!("{value} is not a valid value for {field}"),
            "error": "INVALID_PROPERTY_VALUE", "name": field,
        }]);
        json!({
            "status": "error", "category": "VALIDATION_ERROR", "message": format!("Property values were not valid: {detail}"),
            "context": {"id": [id], "propertyName": [field]},
        })
    }

    fn fault_answer(fault: Fault) -> Reply {
        match fault {
            Fault::RateLimited { retry_after_seconds } => Reply::json(
                429,
                json!({
                    "status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
                    "correlationId": correlation_id(), "policyName": "SECONDLY",
                }),
            )
            .retry_after(retry_after_seconds),
            Fault::ExpiredToken => unauthenticated(),
            Fault::Unavailable => error(503, "SERVICE_UNAVAILABLE", "Service Unavailable"),
        }
    }

    fn unauthenticated() -> Reply {
        let message = "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview";
        error(401, "INVALID_AUTHENTICATION", message)
    }

    fn error(status: u16, category: &str, message: &str) -> Reply {
        Reply::json(
            status,
            json!({"status": "error", "message": message, "correlationId": correlation_id(), "category": category}),
        )
    }

    /// A timestamp as HubSpot writes them: `2019-10-30T03:30:17.883Z`.
    fn now() -> String {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    /// An id like HubSpot's `correlationId`, a random UUID.
    fn correlation_id() -> String {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("randomness");
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
    }
}

/// Salesforce REST v62.0: the OAuth 2.0 refresh-token flow, sObject Collections upsert and delete.
mod salesforce {
    use super::*;

    const TOKEN: &str = "/services/oauth2/token";
    const COLLECTIONS: &str = "/services/data/v62.0/composite/sobjects";
    /// Records or ids per sObject Collections request.
    const COLLECTION_LIMIT: usize = 200;
    const OVER_LIMIT: &str = "record limit reached. cannot submit more than 200 records into this call";

    pub(super) fn answer(state: &mut State, request: &Received) -> Reply {
        if request.path == TOKEN {
            return token(state, request);
        }
        // `…/sobjects?ids=` deletes; `…/sobjects/{object}/{externalIdField}` upserts.
        let upsert_target = match request.path.strip_prefix(COLLECTIONS) {
            Some("") => None,
            Some(rest) => match rest.strip_prefix('/').and_then(|rest| rest.split_once('/')) {
                Some((object, field)) if !field.contains('/') => Some((object, field)),
                _ => return not_found("The requested resource does not exist"),
            },
            None => return not_found("The requested resource does not exist"),
        };
        let allowed = if upsert_target.is_some() { "PATCH" } else { "DELETE" };
        if request.method != allowed {
            let message = format!("HTTP Method '{}' not allowed. Allowed are {allowed}", request.method);
            return error(405, "METHOD_NOT_ALLOWED", &message);
        }
        if let Some(fault) = state.take_fault() {
            return fault_answer(fault);
        }
        if !state.authorized(request, "Bearer") {
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid");
        }
        match upsert_target {
            Some((object, field)) => upsert(state, request, object, field),
            None => delete(state, request),
        }
    }

    fn token(state: &mut State, request: &Received) -> Reply {
        if request.method != "POST" {
            return oauth_error("invalid_request", "must use HTTP POST");
        }
        let form = if request.content_type_is("application/x-www-form-urlencoded") {
            form_pairs(&request.body)
        } else {
            HashMap::new()
        };
        let client = state.oauth.as_ref().expect("Salesforce has a connected app");
        if let Some(refused) = client.refuses(&form) {
            return match refused {
                Refused::GrantType => oauth_error("unsupported_grant_type", "grant type not supported"),
                Refused::ClientId => oauth_error("invalid_client_id", "client identifier invalid"),
                Refused::ClientSecret => oauth_error("invalid_client", "invalid client credentials"),
                Refused::RefreshToken => oauth_error("invalid_grant", "expired access/refresh token"),
            };
        }
        let secret = client.client_secret.clone();
        let access_token = format!("00D5g000004Ir2Q!AR{:032x}", state.next_number());
        state.tokens.insert(access_token.clone());
        let id = format!("{}/id/00D5g000004Ir2QEAS/0055g00000Ab3dEAAV", state.base);
        let issued_at = chrono::Utc::now().timestamp_millis().to_string();
        // Salesforce signs the identity URL and issue time with the consumer secret.
        let signature = BASE64.encode(hmac_sha256(secret.as_bytes(), format!("{id}{issued_at}").as_bytes()));
        Reply::json(
            200,
            json!({
                "access_token": access_token, "signature": signature, "scope": "api refresh_token",
                "instance_url": state.base, "id": id, "token_type": "Bearer", "issued_at": issued_at,
            }),
        )
    }

    fn upsert(state: &mut State, request: &Received, object: &str, external_id_field: &str) -> Reply {
        let Some(id_prefix) = id_prefix(object) else {
            return not_found("The requested resource does not exist");
        };
        if !external_id_field.ends_with("__c") {
            let message =
                format!("Provided external ID field does not exist or is not accessible: {external_id_field}");
            return not_found(&message);
        }
        if !request.content_type_is("application/json") {
            let sent = request.header("content-type").unwrap_or_default();
            let message = format!("Content-Type header specified in HTTP request is not supported: {sent}");
            return error(415, "UNSUPPORTED_MEDIA_TYPE", &message);
        }
        let body: Value = match serde_json::from_str(&request.body) {
            Ok(body) => body,
            Err(e) => return error(400, "JSON_PARSER_ERROR", &e.to_string()),
        };
        let Some(records) = body["records"].as_array() else {
            return error(400, "JSON_PARSER_ERROR", "records is required");
        };
        if records.len() > COLLECTION_LIMIT {
            return error(400, "EXCEEDED_ID_LIMIT", OVER_LIMIT);
        }
        let of_object =
            |record: &Map<String, Value>| record.get("attributes").and_then(|a| a["type"].as_str()) == Some(object);
        let Some(records) = records.iter().map(|r| r.as_object().filter(|r| of_object(r))).collect::<Option<Vec<_>>>()
        else {
            let message = format!("Each record needs an attributes map with type {object}, the sObject of the URI");
            return error(400, "INVALID_INPUT", &message);
        };
        let all_or_none = body["allOrNone"].as_bool().unwrap_or(false);
        let before = state.records.clone();
        let mut outcomes = Vec::new();
        for record in records {
            outcomes.push(upsert_one(state, object, id_prefix, external_id_field, record));
        }
        let rolled_back = all_or_none && outcomes.iter().any(Result::is_err);
        if rolled_back {
            state.records = before;
        }
        let results: Vec<Value> = outcomes
            .into_iter()
            .map(|outcome| match outcome {
                Ok(_) if rolled_back => json!({"success": false, "errors": [rolled_back_error()]}),
                Ok((id, created)) => json!({"id": id, "success": true, "errors": [], "created": created}),
                Err(error) => json!({"success": false, "errors": [error]}),
            })
            .collect();
        Reply::json(200, json!(results))
    }

    /// Creates or updates one record by its external id, or says why Salesforce would not.
    fn upsert_one(
        state: &mut State,
        object: &str,
        id_prefix: &str,
        external_id_field: &str,
        record: &Map<String, Value>,
    ) -> Result<(String, bool), Value> {
        let mut fields = record.clone();
        fields.remove("attributes");
        let Some(key) = text(fields.get(external_id_field)) else {
            return Err(record_error("MISSING_ARGUMENT", &format!("{external_id_field} not specified"), &[]));
        };
        if let Some(field) = state.refused_field(&fields) {
            let message = format!("{field} does not meet this org's validation rule");
            return Err(record_error("FIELD_CUSTOM_VALIDATION_EXCEPTION", &message, &[&field]));
        }
        let existing = state.find(object, external_id_field, &key);
        let required: &[&str] = if object == "Lead" { &["LastName", "Company"] } else { &["LastName"] };
        // A create needs every required field; an update must not blank one.
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|name| text(fields.get(*name)).is_none() && (existing.is_none() || fields.contains_key(*name)))
            .collect();
        if !missing.is_empty() {
            let message = format!("Required fields are missing: [{}]", missing.join(", "));
            return Err(record_error("REQUIRED_FIELD_MISSING", &message, &missing));
        }
        let created = existing.is_none();
        let id = existing.unwrap_or_else(|| format!("{id_prefix}5g{:010}AAA", state.next_number()));
        let created_at = chrono::Utc::now().to_rfc3339();
        state.records.entry(id.clone()).or_insert_with(|| Stored::new(object, &created_at)).fields.extend(fields);
        Ok((id, created))
    }

    fn delete(state: &mut State, request: &Received) -> Reply {
        let query = form_pairs(&request.query);
        let ids = listed_ids(&query);
        if ids.is_empty() {
            return error(400, "MISSING_ARGUMENT", "ids is required");
        }
        if ids.len() > COLLECTION_LIMIT {
            return error(400, "EXCEEDED_ID_LIMIT", OVER_LIMIT);
        }
        let all_or_none = query.get("allOrNone").is_some_and(|value| value == "true");
        state.deleted.extend(ids.iter().cloned());
        let before = state.records.clone();
        let found: Vec<bool> = ids.iter().map(|id| state.records.remove(id).is_some()).collect();
        let rolled_back = all_or_none && found.contains(&false);
        if rolled_back {
            state.records = before;
        }
        let results: Vec<Value> = ids
            .iter()
            .zip(found)
            .map(|(id, found)| match (found, rolled_back) {
                (false, _) => {
                    json!({"id": id, "success": false, "errors": [record_error("ENTITY_IS_DELETED", "entity is deleted", &[])]})
                }
                (true, true) => json!({"id": id, "success": false, "errors": [rolled_back_error()]}),
                (true, false) => json!({"id": id, "success": true, "errors": []}),
            })
            .collect();
        Reply::json(200, json!(results))
    }

    /// The key prefix of the objects the sync writes.
    fn id_prefix(object: &str) -> Option<&'static str> {
        match object {
            "Lead" => Some("00Q"),
            "Contact" => Some("003"),
            _ => None,
        }
    }

    fn fault_answer(fault: Fault) -> Reply {
        match fault {
            Fault::RateLimited { .. } => error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
            Fault::ExpiredToken => error(401, "INVALID_SESSION_ID", "Session expired or invalid"),
            Fault::Unavailable => {
                error(503, "SERVER_UNAVAILABLE", "The server is temporarily unable to handle the request")
            }
        }
    }

    fn record_error(status_code: &str, message: &str, fields: &[&str]) -> Value {
        json!({"statusCode": status_code, "message": message, "fields": fields})
    }

    fn rolled_back_error() -> Value {
        let message =
            "Record rolled back because not all records were valid and the request was using AllOrNone header";
        record_error("ALL_OR_NONE_OPERATION_ROLLED_BACK", message, &[])
    }

    fn not_found(message: &str) -> Reply {
        error(404, "NOT_FOUND", message)
    }

    fn error(status: u16, error_code: &str, message: &str) -> Reply {
        Reply::json(status, json!([{"message": message, "errorCode": error_code}]))
    }

    fn oauth_error(error: &str, description: &str) -> Reply {
        Reply::json(400, json!({"error": error, "error_description": description}))
    }
}

/// Zoho CRM v8 (Leads and Contacts upsert and delete) and Zoho Accounts' token endpoint.
mod zoho {
    use super::*;

    /// Records per upsert, ids per delete.
    const RECORD_LIMIT: usize = 100;
    const MODULES: [&str; 2] = ["Leads", "Contacts"];

    pub(super) fn answer(state: &mut State, request: &Received) -> Reply {
        if request.path == "/oauth/v2/token" {
            return token(state, request);
        }
        let segments: Vec<&str> =
            request.path.strip_prefix("/crm/v8/").map(|rest| rest.split('/').collect()).unwrap_or_default();
        let (module, upserting) = match segments[..] {
            [module] => (module, false),
            [module, "upsert"] => (module, true),
            _ => {
                return error(
                    404,
                    "INVALID_URL_PATTERN",
                    "Please check if the URL trying to access is a correct one",
                    json!({}),
                )
            }
        };
        let allowed = if upserting { "POST" } else { "DELETE" };
        if request.method != allowed {
            return error(405, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one", json!({}));
        }
        if !MODULES.contains(&module) {
            let details = json!({"resource_path_index": 0});
            return error(400, "INVALID_MODULE", "the module name given seems to be invalid", details);
        }
        if let Some(fault) = state.take_fault() {
            return fault_answer(fault);
        }
        if request.header("authorization").and_then(|v| v.strip_prefix("Zoho-oauthtoken ")).is_none() {
            return error(401, "AUTHENTICATION_FAILURE", "Authentication failed", json!({}));
        }
        if !state.authorized(request, "Zoho-oauthtoken") {
            return error(401, "INVALID_TOKEN", "invalid oauth token", json!({}));
        }
        if upserting {
            upsert(state, request, module)
        } else {
            delete(state, request, module)
        }
    }

    /// Zoho Accounts answers a refused refresh with 200 and only an `error` member.
    fn token(state: &mut State, request: &Received) -> Reply {
        let mut params = form_pairs(&request.query);
        if request.content_type_is("application/x-www-form-urlencoded") {
            params.extend(form_pairs(&request.body));
        }
        let client = state.oauth.as_ref().expect("Zoho has a registered client");
        let refusal = match client.refuses(&params) {
            _ if request.method != "POST" => Some("invalid_request"),
            Some(Refused::GrantType) => Some("unsupported_grant_type"),
            Some(Refused::ClientId) => Some("invalid_client"),
            Some(Refused::ClientSecret) => Some("invalid_client_secret"),
            Some(Refused::RefreshToken) => Some("invalid_code"),
            None => None,
        };
        if let Some(refusal) = refusal {
            return Reply::json(200, json!({"error": refusal}));
        }
        let number = state.next_number();
        let access_token = format!("1000.{number:032x}.{:032x}", number.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        state.tokens.insert(access_token.clone());
        Reply::json(
            200,
            json!({
                "access_token": access_token, "scope": "ZohoCRM.modules.ALL", "api_domain": state.base,
                "token_type": "Bearer", "expires_in": 3600,
            }),
        )
    }

    /// Zoho reads the body as JSON whatever its Content-Type (its own examples send it with
    /// curl's form default), so none is required here.
    fn upsert(state: &mut State, request: &Received, module: &str) -> Reply {
        let Ok(body) = serde_json::from_str::<Value>(&request.body) else {
            return error(400, "INVALID_DATA", "the request body is not valid JSON", json!({}));
        };
        let Some(data) = body.get("data").and_then(Value::as_array) else {
            return error(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                json!({"param": "data"}),
            );
        };
        if data.len() > RECORD_LIMIT {
            return error(
                400,
                "LIMIT_EXCEEDED",
                "the number of records exceeds the limit",
                json!({"limit": RECORD_LIMIT}),
            );
        }
        let Some(records) = data.iter().map(Value::as_object).collect::<Option<Vec<_>>>() else {
            return error(400, "INVALID_DATA", "invalid data", json!({"expected_data_type": "jsonobject"}));
        };
        // Without duplicate_check_fields, Zoho checks its system-defined one: Email.
        let duplicate_check_fields: Vec<String> = match body.get("duplicate_check_fields") {
            None => vec!["Email".to_string()],
            Some(fields) => {
                let names = fields.as_array().and_then(|f| f.iter().map(|n| n.as_str().map(str::to_string)).collect());
                let Some(names) = names else {
                    return error(400, "INVALID_DATA", "invalid data", json!({"api_name": "duplicate_check_fields"}));
                };
                names
            }
        };
        let mut results = Vec::new();
        for (index, fields) in records.into_iter().enumerate() {
            results.push(upsert_one(state, module, &duplicate_check_fields, index, fields));
        }
        batch_answer(results)
    }

    fn upsert_one(
        state: &mut State,
        module: &str,
        duplicate_check_fields: &[String],
        index: usize,
        fields: &Map<String, Value>,
    ) -> Value {
        let at = |field: &str| json!({"api_name": field, "json_path": format!("$.data[{index}].{field}")});
        if let Some(field) = state.refused_field(fields) {
            return entry("INVALID_DATA", "invalid data", at(&field));
        }
        let duplicate = duplicate_check_fields.iter().find_map(|field| {
            let key = text(fields.get(field))?;
            state.find(module, field, &key).map(|id| (id, field.clone()))
        });
        // An insert needs Last_Name; an update must not blank it.
        if text(fields.get("Last_Name")).is_none() && (duplicate.is_none() || fields.contains_key("Last_Name")) {
            return entry("MANDATORY_NOT_FOUND", "required field not found", at("Last_Name"));
        }
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
        let (id, duplicate_field) = match duplicate {
            Some((id, field)) => (id, Some(field)),
            None => (format!("58431040000{:08}", state.next_number()), None),
        };
        let record = state.records.entry(id.clone()).or_insert_with(|| Stored::new(module, &now));
        record.fields.extend(fields.clone());
        let user = json!({"name": "CRM Sync", "id": "5843104000000424672"});
        let (action, message) =
            if duplicate_field.is_some() { ("update", "record updated") } else { ("insert", "record added") };
        json!({
            "code": "SUCCESS", "duplicate_field": duplicate_field, "action": action,
            "details": {
                "Modified_Time": now, "Modified_By": user, "Created_Time": record.created_at, "id": id, "Created_By": user,
            },
            "message": message, "status": "success",
        })
    }

    fn delete(state: &mut State, request: &Received, module: &str) -> Reply {
        let ids = listed_ids(&form_pairs(&request.query));
        if ids.is_empty() {
            return error(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                json!({"param": "ids"}),
            );
        }
        if ids.len() > RECORD_LIMIT {
            return error(
                400,
                "LIMIT_EXCEEDED",
                "the number of records exceeds the limit",
                json!({"limit": RECORD_LIMIT}),
            );
        }
        state.deleted.extend(ids.iter().cloned());
        let mut results = Vec::new();
        for id in ids {
            if state.records.get(&id).is_some_and(|record| record.object == module) {
                state.records.remove(&id);
                results.push(
                    json!({"code": "SUCCESS", "details": {"id": id}, "message": "record deleted", "status": "success"}),
                );
            } else {
                results.push(entry("INVALID_DATA", "the related id given seems to be invalid", json!({"id": id})));
            }
        }
        batch_answer(results)
    }

    /// 200 when every record succeeded, 400 when none did, 207 (multi-status) in between.
    fn batch_answer(results: Vec<Value>) -> Reply {
        let succeeded = results.iter().filter(|result| result["status"] == "success").count();
        let status = match succeeded {
            all if all == results.len() => 200,
            0 => 400,
            _ => 207,
        };
        Reply::json(status, json!({"data": results}))
    }

    fn fault_answer(fault: Fault) -> Reply {
        match fault {
            Fault::RateLimited { retry_after_seconds } => {
                let message = "The user has sent too many requests in a given amount of time";
                error(429, "TOO_MANY_REQUESTS", message, json!({})).retry_after(retry_after_seconds)
            }
            Fault::ExpiredToken => error(401, "INVALID_TOKEN", "invalid oauth token", json!({})),
            Fault::Unavailable => error(500, "INTERNAL_ERROR", "Internal Server Error", json!({})),
        }
    }

    fn entry(code: &str, message: &str, details: Value) -> Value {
        json!({"code": code, "details": details, "message": message, "status": "error"})
    }

    fn error(status: u16, code: &str, message: &str, details: Value) -> Reply {
        Reply::json(status, entry(code, message, details))
    }
}

/// A receiver of Standard Webhooks deliveries (https://www.standardwebhooks.com/): verifies
/// `webhook-id`, `webhook-timestamp` (within 5 minutes) and `webhook-signature` (space-separated
/// `v1,<base64>` entries, HMAC-SHA256 keyed with the base64-decoded secret after `whsec_`, over
/// `{id}.{timestamp}.{body}`); answers 204 when valid and 401 otherwise.
pub struct WebhookReceiver {
    url: String,
    hooks: Arc<Mutex<Hooks>>,
}

#[derive(Default)]
struct Hooks {
    key: Option<Vec<u8>>,
    deliveries: Vec<(String, Value)>,
    rejected: usize,
    /// Valid deliveries still to answer 500.
    failing: usize,
}

/// How far a delivery's timestamp may be from now, either way.
const WEBHOOK_TOLERANCE_SECONDS: i64 = 5 * 60;

impl WebhookReceiver {
    /// Rejects everything until [`WebhookReceiver::set_secret`]: the integration's API answer gives the secret.
    pub async fn start() -> WebhookReceiver {
        WebhookReceiver::start_on(0).await
    }

    async fn start_on(port: u16) -> WebhookReceiver {
        let (listener, base) = bind(port).await;
        let hooks = Arc::new(Mutex::new(Hooks::default()));
        serve(listener, hooks.clone(), receive);
        WebhookReceiver { url: format!("{base}/hooks"), hooks }
    }

    /// `whsec_<base64>` (the prefix is optional, as in the reference libraries).
    pub fn set_secret(&self, secret: &str) {
        let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
        self.lock().key = Some(BASE64.decode(encoded).expect("a Standard Webhooks secret: whsec_ then base64"));
    }

    /// e.g. `http://127.0.0.1:<port>/hooks`
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Deliveries answered 204: (webhook-id, parsed JSON body), in arrival order, duplicates
    /// (same id) included.
    pub fn deliveries(&self) -> Vec<(String, Value)> {
        self.lock().deliveries.clone()
    }

    /// Requests answered 401.
    pub fn rejected(&self) -> usize {
        self.lock().rejected
    }

    /// The next `n` valid deliveries are answered 500 (and not counted as delivered), to test retries.
    pub fn fail_next(&self, n: usize) {
        self.lock().failing += n;
    }

    fn lock(&self) -> MutexGuard<'_, Hooks> {
        self.hooks.lock().expect("webhook receiver state")
    }
}

fn receive(hooks: &Mutex<Hooks>, request: Received) -> Reply {
    let mut hooks = hooks.lock().expect("webhook receiver state");
    if request.method == "GET" && request.path == LOCAL_VIEW {
        let deliveries: Vec<Value> =
            hooks.deliveries.iter().map(|(id, body)| json!({"webhook-id": id, "body": body})).collect();
        return Reply::json(200, json!({"deliveries": deliveries, "rejected": hooks.rejected}));
    }
    let Some(delivery) = verified(&hooks, &request) else {
        hooks.rejected += 1;
        return Reply::empty(401);
    };
    if hooks.failing > 0 {
        hooks.failing -= 1;
        return Reply::empty(500);
    }
    hooks.deliveries.push(delivery);
    Reply::empty(204)
}

/// The delivery's id and JSON body, when it is a POST to `/hooks` signed with the secret, sent
/// within the tolerance.
fn verified(hooks: &Hooks, request: &Received) -> Option<(String, Value)> {
    let key = hooks.key.as_ref()?;
    if request.method != "POST" || request.path != "/hooks" {
        return None;
    }
    let id = request.header("webhook-id").filter(|id| !id.is_empty())?;
    let timestamp = request.header("webhook-timestamp")?;
    let sent_at: i64 = timestamp.parse().ok()?;
    if (chrono::Utc::now().timestamp() - sent_at).abs() > WEBHOOK_TOLERANCE_SECONDS {
        return None;
    }
    let expected = hmac_sha256(key, format!("{id}.{timestamp}.{}", request.body).as_bytes());
    let mut signatures = request.header("webhook-signature")?.split(' ').filter_map(|entry| entry.strip_prefix("v1,"));
    if !signatures.any(|signature| BASE64.decode(signature).is_ok_and(|signature| signature == expected)) {
        return None;
    }
    Some((id.to_string(), serde_json::from_str(&request.body).ok()?))
}

/// HMAC-SHA256 (RFC 2104 with a 64-byte block): Standard Webhooks signatures and Salesforce's
/// token signature.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new().chain_update(block_key.map(|b| b ^ 0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(block_key.map(|b| b ^ 0x5c)).chain_update(inner).finalize().into()
}

/// An answer, JSON or empty.
struct Reply {
    status: u16,
    body: Option<Value>,
    retry_after: Option<u64>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply { status, body: Some(body), retry_after: None }
    }

    fn empty(status: u16) -> Reply {
        Reply { status, body: None, retry_after: None }
    }

    fn retry_after(self, seconds: u64) -> Reply {
        Reply { retry_after: Some(seconds), ..self }
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::builder().status(self.status);
        if let Some(seconds) = self.retry_after {
            response = response.header("retry-after", seconds.to_string());
        }
        let body = match self.body {
            Some(body) => {
                response = response.header("content-type", "application/json;charset=UTF-8");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        response.body(Full::new(body)).expect("a response")
    }
}

/// A loopback port (`0`: a free one), and the base URL it answers on.
async fn bind(port: u16) -> (TcpListener, String) {
    let listener =
        TcpListener::bind(("127.0.0.1", port)).await.unwrap_or_else(|e| panic!("bind 127.0.0.1:{port}: {e}"));
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, base)
}

/// Answers every request on `listener` with `answer`, a task per connection.
fn serve<S: Send + Sync + 'static>(listener: TcpListener, state: Arc<S>, answer: fn(&S, Received) -> Reply) {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let state = state.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(answer(&state, read(request).await).into_response()) }
                });
                // A client that hangs up mid-request ends its connection here: nothing to report.
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}

async fn read(request: Request<Incoming>) -> Received {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let mut headers: HashMap<String, String> = HashMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.entry(name.as_str().to_string()).and_modify(|seen| *seen = format!("{seen}, {value}")).or_insert(value);
    }
    Received {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A field's value as the vendors compare it: text, or None when absent, null or empty.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The comma-separated `ids` of a query (Salesforce and Zoho deletes).
fn listed_ids(query: &HashMap<String, String>) -> Vec<String> {
    let ids = query.get("ids").map(String::as_str).unwrap_or_default();
    ids.split(',').filter(|id| !id.is_empty()).map(str::to_string).collect()
}

/// The pairs of an `application/x-www-form-urlencoded` string: a query string or a form body.
fn form_pairs(encoded: &str) -> HashMap<String, String> {
    let pairs = encoded.split('&').filter(|pair| !pair.is_empty());
    pairs
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(encoded: &str) -> String {
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut bytes = encoded.bytes();
    while let Some(byte) = bytes.next() {
        decoded.push(match byte {
            b'+' => b' ',
            b'%' => {
                let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                u8::from_str_radix(&hex, 16).unwrap_or(b'?')
            }
            other => other,
        });
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::hmac_sha256;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    /// A key longer than the block is hashed first.
    #[test]
    fn hmac_sha256_matches_rfc_4231_test_case_6() {
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex(&mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }
}

/// One stand-in of each vendor and a webhook receiver on fixed loopback ports, with the
/// credentials `make dev`'s demo integrations use.
pub struct LocalVendors {
    pub hubspot: Vendor,
    pub salesforce: Vendor,
    pub zoho: Vendor,
    pub webhooks: WebhookReceiver,
}

/// The demo credentials: public, local only.
pub mod demo_credentials {
    pub const HUBSPOT_TOKEN: &str = "pat-local-demo";
    pub const CLIENT_ID: &str = "local-demo-client";
    pub const CLIENT_SECRET: &str = "local-demo-secret";
    pub const REFRESH_TOKEN: &str = "local-demo-refresh";
}

impl LocalVendors {
    /// HubSpot on `first_port`, Salesforce, Zoho and the webhook receiver on the next three;
    /// `0`: each on a free port (the test scripts, beside a running `make dev`).
    pub async fn start(first_port: u16) -> LocalVendors {
        use demo_credentials::*;
        let port = |n: u16| if first_port == 0 { 0 } else { first_port + n };
        LocalVendors {
            hubspot: Vendor::start(port(0), Crm::HubSpot, None, HashSet::from([HUBSPOT_TOKEN.to_string()])).await,
            salesforce: Vendor::salesforce_on(port(1), CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN).await,
            zoho: Vendor::zoho_on(port(2), CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN).await,
            webhooks: WebhookReceiver::start_on(port(3)).await,
        }
    }
}
