//! Zoho CRM v8: leads or contacts upserted a hundred at a time, found again by email (or,
//! without one, by the unique field holding our contact id); records of deleted,
//! merged-away and erased contacts deleted. Authorization: `Zoho-oauthtoken` with an access
//! token from Zoho Accounts' refresh-token grant, refreshed on `401 INVALID_TOKEN`.

use super::http::{failure, json_body, sync_error, CallError};
use super::session::{Outbound, RecordOutcome, Session};
use model::integration::fields::Field;
use model::integration::Target;
use serde_json::{json, Value};

const BATCH: usize = 100;

fn auth(token: &str) -> String {
    format!("Zoho-oauthtoken {token}")
}

/// Zoho's errors: `{"code": …, "message": …, "status": "error"}`.
pub fn describe(body: &Value) -> (Option<String>, String) {
    let code = body.get("code").and_then(Value::as_str).map(str::to_string);
    let message = body.get("message").and_then(Value::as_str).unwrap_or("Zoho refused the request").to_string();
    (code, message)
}

pub async fn upsert(session: &mut Session<'_>, records: &[Outbound]) -> Result<Vec<RecordOutcome>, CallError> {
    let Target::Zoho { base_url, module, .. } = session.target().clone() else {
        unreachable!("a Zoho session has a Zoho target")
    };
    let map = session.integration.field_map.clone();
    let email_field = map.get(&Field::Email).cloned();
    let id_field = map.get(&Field::ContactId).cloned().unwrap_or_else(|| "AIBot_Contact_Id".into());
    let url = format!("{base_url}/crm/v8/{module}/upsert");
    // A first sync finds a record by email (to join one the CRM holds already), later ones by our id.
    let (by_email, by_id): (Vec<usize>, Vec<usize>) = (0..records.len())
        .partition(|i| email_field.is_some() && records[*i].email.is_some() && !records[*i].synced_before);
    let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; records.len()];
    for (indexes, check) in [(by_email, email_field.unwrap_or_default()), (by_id, id_field)] {
        for chunk in indexes.chunks(BATCH) {
            let data: Vec<Value> = chunk.iter().map(|i| Value::Object(records[*i].fields.clone())).collect();
            let body = json!({ "data": data, "duplicate_check_fields": [check] });
            let response =
                session.send(|http, token| http.post(&url).header("authorization", auth(token)).json(&body)).await?;
            let answer = per_record_answer(response).await?;
            let results = answer.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
            for (n, i) in chunk.iter().enumerate() {
                outcomes[*i] = Some(outcome(results.get(n)));
            }
        }
    }
    Ok(outcomes.into_iter().map(|o| o.expect("every record was in a batch")).collect())
}

/// A body with a result per record: Zoho answers 200 when all succeeded, 207 when some did,
/// and 400 with the same `data` array when none did; any other answer is the request's fate.
async fn per_record_answer(response: reqwest::Response) -> Result<Value, CallError> {
    let status = response.status().as_u16();
    if response.status().is_success() {
        return json_body(response).await;
    }
    if status == 400 {
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or_default();
        if body.get("data").is_some_and(Value::is_array) {
            return Ok(body);
        }
        let (code, message) = describe(&body);
        return Err(CallError::Refused(sync_error(Some(status), code, message)));
    }
    Err(failure(response, describe).await)
}

/// One record's result, in the order of the request.
fn outcome(result: Option<&Value>) -> RecordOutcome {
    let Some(result) = result else { return Err(sync_error(None, None, "Zoho returned no result for it")) };
    if result.get("status").and_then(Value::as_str) == Some("success") {
        if let Some(id) = result.pointer("/details/id").and_then(Value::as_str) {
            return Ok(id.to_string());
        }
    }
    let (code, mut message) = describe(result);
    if let Some(field) = result.pointer("/details/api_name").and_then(Value::as_str) {
        message = format!("{message} (field: {field})");
    }
    Err(sync_error(None, code, message))
}

/// Deletes records, 100 a request; one already gone counts as deleted.
pub async fn delete(session: &mut Session<'_>, remote_ids: &[String]) -> Result<(), CallError> {
    let Target::Zoho { base_url, module, .. } = session.target().clone() else {
        unreachable!("a Zoho session has a Zoho target")
    };
    let url = format!("{base_url}/crm/v8/{module}");
    for chunk in remote_ids.chunks(BATCH) {
        let ids = chunk.join(",");
        let response = session
            .send(|http, token| http.delete(&url).query(&[("ids", ids.as_str())]).header("authorization", auth(token)))
            .await?;
        let answer = per_record_answer(response).await?;
        let refused = answer.get("data").and_then(Value::as_array).into_iter().flatten().find(|r| {
            r.get("status").and_then(Value::as_str) != Some("success")
                && r.get("code").and_then(Value::as_str) != Some("INVALID_DATA")
        });
        if let Some(r) = refused {
            let (code, message) = describe(r);
            return Err(CallError::Refused(sync_error(None, code, message)));
        }
    }
    Ok(())
}
