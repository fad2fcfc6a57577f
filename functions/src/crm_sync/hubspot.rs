//! HubSpot CRM v3: contacts upserted a hundred at a time by email (or, without one, by the
//! unique custom property holding our contact id), archived when deleted or merged away,
//! GDPR-deleted when erased. Authorization: a private app's token as a bearer token.

use super::http::{failure, json_body, sync_error, CallError};
use super::session::{Outbound, RecordOutcome, Session};
use model::integration::fields::Field;
use model::integration::Target;
use serde_json::{json, Value};

const BATCH: usize = 100;

fn base(session: &Session<'_>) -> String {
    match session.target() {
        Target::Hubspot { base_url } => base_url.clone(),
        _ => unreachable!("a HubSpot session has a HubSpot target"),
    }
}

/// HubSpot's error body: `{"status":"error","message":…,"category":…}` (`errorType` on 429).
pub fn describe(body: &Value) -> (Option<String>, String) {
    let code = body.get("category").or_else(|| body.get("errorType")).and_then(Value::as_str).map(str::to_string);
    let message = body.get("message").and_then(Value::as_str).unwrap_or("HubSpot refused the request").to_string();
    (code, message)
}

pub async fn upsert(session: &mut Session<'_>, records: &[Outbound]) -> Result<Vec<RecordOutcome>, CallError> {
    let map = &session.integration.field_map;
    let email_property = map.get(&Field::Email).cloned();
    let id_property = map.get(&Field::ContactId).cloned().unwrap_or_else(|| "aibot_contact_id".into());
    // A batch finds every record by the same kind of property: a first sync by email (to
    // join a record the CRM holds already), the others by our id.
    let (by_email, by_id): (Vec<usize>, Vec<usize>) = (0..records.len())
        .partition(|i| email_property.is_some() && records[*i].email.is_some() && !records[*i].synced_before);
    let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; records.len()];
    let groups = [(by_email, email_property.unwrap_or_default(), true), (by_id, id_property, false)];
    for (indexes, property, found_by_email) in groups {
        for chunk in indexes.chunks(BATCH) {
            let ids: Vec<String> = chunk
                .iter()
                .map(|i| match found_by_email {
                    true => records[*i].email.clone().unwrap_or_default(),
                    false => records[*i].contact_id.clone(),
                })
                .collect();
            let inputs: Vec<Value> = chunk
                .iter()
                .zip(&ids)
                .map(|(i, id)| json!({"idProperty": property, "id": id, "properties": records[*i].fields}))
                .collect();
            let url = format!("{}/crm/v3/objects/contacts/batch/upsert", base(session));
            let body = json!({ "inputs": inputs });
            let response = session.send(|http, token| http.post(&url).bearer_auth(token).json(&body)).await?;
            if !matches!(response.status().as_u16(), 200 | 207) {
                return Err(failure(response, describe).await);
            }
            let answer = json_body(response).await?;
            for (i, outcome) in chunk.iter().zip(match_results(&answer, &property, &ids)) {
                outcomes[*i] = Some(outcome);
            }
        }
    }
    Ok(outcomes.into_iter().map(|o| o.expect("every record was in a batch")).collect())
}

/// Each input's outcome: the result whose id property holds its id (HubSpot does not
/// promise the inputs' order); an input without one failed, with the batch's errors.
fn match_results(answer: &Value, property: &str, ids: &[String]) -> Vec<RecordOutcome> {
    let results = answer.get("results").and_then(Value::as_array).cloned().unwrap_or_default();
    let errors: Vec<String> = answer
        .get("errors")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(|e| e.get("message").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default();
    let category = answer
        .get("errors")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("category"))
        .and_then(Value::as_str)
        .map(str::to_string);
    ids.iter()
        .map(|id| {
            let found = results.iter().find(|r| {
                r.get("properties")
                    .and_then(|p| p.get(property))
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(id))
            });
            match found.and_then(|r| r.get("id")).and_then(Value::as_str) {
                Some(remote) => Ok(remote.to_string()),
                None => Err(sync_error(
                    Some(207),
                    category.clone(),
                    if errors.is_empty() { "HubSpot returned no record for it".to_string() } else { errors.join("; ") },
                )),
            }
        })
        .collect()
}

/// Archives records (deleted or merged-away contacts): restorable in HubSpot for 90 days.
pub async fn archive(session: &mut Session<'_>, remote_ids: &[String]) -> Result<(), CallError> {
    let url = format!("{}/crm/v3/objects/contacts/batch/archive", base(session));
    for chunk in remote_ids.chunks(BATCH) {
        let body = json!({ "inputs": chunk.iter().map(|id| json!({"id": id})).collect::<Vec<_>>() });
        let response = session.send(|http, token| http.post(&url).bearer_auth(token).json(&body)).await?;
        if !response.status().is_success() {
            return Err(failure(response, describe).await);
        }
    }
    Ok(())
}

/// Permanently deletes records and their history (GDPR), one call each.
pub async fn gdpr_delete(session: &mut Session<'_>, remote_ids: &[String]) -> Result<(), CallError> {
    let url = format!("{}/crm/v3/objects/contacts/gdpr-delete", base(session));
    for id in remote_ids {
        let body = json!({ "objectId": id });
        let response = session.send(|http, token| http.post(&url).bearer_auth(token).json(&body)).await?;
        // Already gone is what was asked for.
        if !response.status().is_success() && response.status() != reqwest::StatusCode::NOT_FOUND {
            return Err(failure(response, describe).await);
        }
    }
    Ok(())
}
