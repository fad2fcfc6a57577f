//! Salesforce REST: leads or contacts upserted by our contact id in an external-id field,
//! 200 a request (sObject Collections), each record's outcome read from the answer; records
//! of deleted, merged-away and erased contacts deleted. Authorization: an access token from
//! the refresh-token grant, refreshed on `401 INVALID_SESSION_ID`.

use super::http::{failure, json_body, sync_error, CallError};
use super::session::{Outbound, RecordOutcome, Session};
use model::integration::fields::NOT_PROVIDED;
use model::integration::Target;
use serde_json::{json, Value};

const BATCH: usize = 200;
const API: &str = "services/data/v62.0";

/// Salesforce's errors: `[{"message": …, "errorCode": …}]`.
pub fn describe(body: &Value) -> (Option<String>, String) {
    let first = body.get(0).unwrap_or(body);
    let code = first.get("errorCode").and_then(Value::as_str).map(str::to_string);
    let message = first.get("message").and_then(Value::as_str).unwrap_or("Salesforce refused the request").to_string();
    (code, message)
}

/// Salesforce answers its daily API limit with 403 `REQUEST_LIMIT_EXCEEDED`: worth waiting for.
async fn failed(response: reqwest::Response) -> CallError {
    match failure(response, describe).await {
        CallError::Refused(error) if error.code.as_deref() == Some("REQUEST_LIMIT_EXCEEDED") => {
            CallError::Retry { after: None, error }
        }
        other => other,
    }
}

pub async fn upsert(session: &mut Session<'_>, records: &[Outbound]) -> Result<Vec<RecordOutcome>, CallError> {
    let Target::Salesforce { base_url, object, external_id_field, .. } = session.target().clone() else {
        unreachable!("a Salesforce session has a Salesforce target")
    };
    let url = format!("{base_url}/{API}/composite/sobjects/{object}/{external_id_field}");
    let mut outcomes = Vec::with_capacity(records.len());
    for chunk in records.chunks(BATCH) {
        let rows: Vec<Value> = chunk
            .iter()
            .map(|r| {
                let mut row = r.fields.clone();
                row.insert("attributes".into(), json!({ "type": object }));
                row.insert(external_id_field.clone(), json!(r.contact_id));
                // A lead needs a company; a chat visitor seldom names one. Only on the first
                // sync: later a salesperson's entry stays.
                if object == "Lead" && !r.synced_before {
                    row.entry("Company").or_insert(json!(NOT_PROVIDED));
                }
                Value::Object(row)
            })
            .collect();
        let body = json!({ "allOrNone": false, "records": rows });
        let response = session.send(|http, token| http.patch(&url).bearer_auth(token).json(&body)).await?;
        if !response.status().is_success() {
            return Err(failed(response).await);
        }
        let answer = json_body(response).await?;
        let results = answer.as_array().cloned().unwrap_or_default();
        for (i, _) in chunk.iter().enumerate() {
            outcomes.push(outcome(results.get(i)));
        }
    }
    Ok(outcomes)
}

/// One record's result, in the order of the request: `{"id","success","errors","created"}`.
fn outcome(result: Option<&Value>) -> RecordOutcome {
    let Some(result) = result else { return Err(sync_error(Some(200), None, "Salesforce returned no result for it")) };
    if result.get("success").and_then(Value::as_bool) == Some(true) {
        if let Some(id) = result.get("id").and_then(Value::as_str) {
            return Ok(id.to_string());
        }
    }
    let error = result.get("errors").and_then(|e| e.get(0));
    let code = error.and_then(|e| e.get("statusCode")).and_then(Value::as_str).map(str::to_string);
    let mut message = error.and_then(|e| e.get("message")).and_then(Value::as_str).unwrap_or("refused").to_string();
    if let Some(fields) = error.and_then(|e| e.get("fields")).and_then(Value::as_array).filter(|f| !f.is_empty()) {
        let names: Vec<&str> = fields.iter().filter_map(Value::as_str).collect();
        message = format!("{message} (fields: {})", names.join(", "));
    }
    Err(sync_error(Some(200), code, message))
}

/// Deletes records, 200 a request; one already gone counts as deleted.
pub async fn delete(session: &mut Session<'_>, remote_ids: &[String]) -> Result<(), CallError> {
    let Target::Salesforce { base_url, .. } = session.target().clone() else {
        unreachable!("a Salesforce session has a Salesforce target")
    };
    let url = format!("{base_url}/{API}/composite/sobjects");
    for chunk in remote_ids.chunks(BATCH) {
        let ids = chunk.join(",");
        let response = session
            .send(|http, token| {
                http.delete(&url).query(&[("ids", ids.as_str()), ("allOrNone", "false")]).bearer_auth(token)
            })
            .await?;
        if !response.status().is_success() {
            return Err(failed(response).await);
        }
        let answer = json_body(response).await?;
        let refused = answer.as_array().into_iter().flatten().find(|r| {
            r.get("success").and_then(Value::as_bool) != Some(true)
                && r.pointer("/errors/0/statusCode").and_then(Value::as_str) != Some("ENTITY_IS_DELETED")
                && r.pointer("/errors/0/statusCode").and_then(Value::as_str) != Some("INVALID_CROSS_REFERENCE_KEY")
        });
        if let Some(r) = refused {
            let (code, message) = (
                r.pointer("/errors/0/statusCode").and_then(Value::as_str).map(str::to_string),
                r.pointer("/errors/0/message").and_then(Value::as_str).unwrap_or("not deleted").to_string(),
            );
            return Err(CallError::Refused(sync_error(Some(200), code, message)));
        }
    }
    Ok(())
}
