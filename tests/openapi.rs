//! The OpenAPI document: generated from the code, committed as `docs/openapi.json`,
//! describing exactly the template's API routes, and enforced on responses.

use contacts_functions::api::openapi;
use contacts_tests::{contract, spawn_app};
use contacts_tools::template::{default_path, Template};
use contacts_tools::{provision, stack};
use model::auth::{ApiKeyRecord, Scope};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn document() -> Value {
    serde_json::from_str(openapi::document_json()).unwrap()
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json")).unwrap();
    assert!(committed == openapi::document_json(), "docs/openapi.json is stale: run `make openapi` and commit it");
}

#[test]
fn the_document_describes_exactly_the_template_api_routes() {
    let template = Template::load(&default_path()).unwrap();
    let declared: BTreeSet<String> = template
        .routes()
        .map(|(_, r)| r.key())
        .filter(|k| k.split_once(' ').is_some_and(|(_, p)| p.starts_with("/api/v1/")))
        .collect();
    let described: BTreeSet<String> = document()["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase())))
        .collect();
    assert_eq!(declared, described);
}

#[test]
fn every_operation_but_the_document_names_its_scope_and_its_problems() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("400"), "{method} {path}");
            if path == "/api/v1/openapi.json" {
                assert!(op.get("security").is_none());
                continue;
            }
            let scopes = &op["security"][0][openapi::API_KEY];
            assert!(
                scopes.as_array().is_some_and(
                    |s| s.len() == 1 && ["read", "write", "admin", "owner"].contains(&s[0].as_str().unwrap())
                ),
                "{method} {path}: {scopes}"
            );
            for status in ["401", "403", "500", "503"] {
                assert!(responses.contains_key(status), "{method} {path} lacks {status}");
            }
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("415") && responses.contains_key("413"), "{method} {path}");
            }
        }
    }
}

#[test]
fn request_bodies_that_refuse_unknown_members_say_so() {
    let doc = document();
    for name in ["NewContact", "ContactPatch", "NewBot", "BotPatch", "BulkAction", "MergeRequest", "ExportRequest"] {
        assert_eq!(doc["components"]["schemas"][name]["additionalProperties"], false, "{name}");
    }
    let per_page = doc["paths"]["/api/v1/contacts"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "per_page")
        .unwrap();
    assert_eq!((per_page["schema"]["minimum"].as_u64(), per_page["schema"]["maximum"].as_u64()), (Some(1), Some(100)));
}

#[test]
fn a_response_that_breaks_the_document_fails_the_suite() {
    let row = json!({"id": 1, "name": null, "email": null, "phone": null, "channel": "frame",
        "created_at": "2025-08-22T05:02:29Z", "phone_e164": null, "status": "new", "score": "cold",
        "tags": [], "last_activity_at": "2025-08-22T05:02:29Z"});
    let page = |contacts: Value| {
        json!({"contacts": contacts, "total": 1, "page": 1, "per_page": 25, "next_cursor": null}).to_string()
    };
    let check = |status: u16, body: String| {
        std::panic::catch_unwind(|| contract::check("GET", "/api/v1/contacts", status, Some("application/json"), &body))
            .is_ok()
    };
    assert!(check(200, page(json!([row]))), "a conforming page passes");
    let mut renamed = row.clone();
    renamed["e_mail"] = renamed["email"].take();
    renamed.as_object_mut().unwrap().remove("email");
    assert!(!check(200, page(json!([renamed]))), "an undocumented member fails");
    let mut wrong = row.clone();
    wrong["channel"] = json!("fax");
    assert!(!check(200, page(json!([wrong]))), "a value outside the enum fails");
    assert!(!check(404, page(json!([row]))), "a status the operation does not list fails");
}

#[tokio::test]
async fn the_document_is_served_without_a_key() {
    let app = spawn_app().await;
    let r = app.send(reqwest::Method::GET, "/api/v1/openapi.json", None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.raw, openapi::document_json());
    assert_eq!(r.body["openapi"], "3.1.0");
}

/// The scope each operation names is the one its handler enforces: a key without it gets a
/// 403 before anything else is read, and a key with it never does.
#[tokio::test]
async fn every_operation_enforces_the_scope_the_document_names() {
    let app = spawn_app().await;
    let writer = ApiKeyRecord {
        workspace_id: app.workspace.clone(),
        name: "writer".into(),
        scopes: vec![Scope::Read, Scope::Write],
    };
    let writer = provision::api_key(&app.store, &stack::local_key_pepper(), &writer, None).await.unwrap();
    let admin = ApiKeyRecord {
        workspace_id: app.workspace.clone(),
        name: "admin".into(),
        scopes: vec![Scope::Read, Scope::Write, Scope::Admin],
    };
    let admin = provision::api_key(&app.store, &stack::local_key_pepper(), &admin, None).await.unwrap();
    let keys = [
        ("read", app.read_only_key.as_str()),
        ("write", writer.expose_secret()),
        ("admin", admin.expose_secret()),
        ("owner", app.key.as_str()),
    ];
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path.split('/').map(|s| if s.starts_with('{') { "1" } else { s }).collect::<Vec<_>>().join("/");
        for (method, op) in item.as_object().unwrap() {
            let Some(scope) = op["security"][0][openapi::API_KEY][0].as_str() else { continue };
            let needed = keys.iter().position(|(name, _)| *name == scope).unwrap();
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = matches!(method, Method::POST | Method::PUT | Method::PATCH).then(|| json!({}));
            for (rank, (name, key)) in keys.iter().enumerate() {
                let r = app.send(method.clone(), &concrete, Some(key), body.clone(), &[]).await;
                let refused = r.status == 403;
                assert_eq!(
                    refused,
                    rank < needed,
                    "{method} {path} with a `{name}` key answered {}: {}",
                    r.status,
                    r.body
                );
            }
        }
    }
}
