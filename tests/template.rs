//! The SAM template is the single source of truth: the handlers serve exactly its routes,
//! and each function's IAM policy grants only what it needs.

use contacts_functions::api;
use contacts_tools::template::{default_path, Template};
use std::collections::BTreeSet;

#[test]
fn the_api_serves_exactly_the_template_routes() {
    let template = Template::load(&default_path()).unwrap();
    let declared: BTreeSet<String> = template
        .functions
        .iter()
        .filter(|f| f.binary == "contacts-api")
        .flat_map(|f| f.routes.iter().map(|r| r.key()))
        .collect();
    let served: BTreeSet<String> = api::ROUTES.iter().map(|r| r.key()).collect();
    assert_eq!(declared, served);
}

#[test]
fn every_function_builds_a_binary_of_this_workspace() {
    let template = Template::load(&default_path()).unwrap();
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions/Cargo.toml")).unwrap();
    for f in &template.functions {
        assert!(
            manifest.contains(&format!("name = \"{}\"", f.binary)),
            "{} builds {} which functions/Cargo.toml lacks",
            f.logical_id,
            f.binary
        );
    }
}

#[test]
fn policies_grant_no_scans_and_no_wildcards() {
    let text = std::fs::read_to_string(default_path()).unwrap();
    assert!(!text.contains("dynamodb:*"), "wildcard DynamoDB permission");
    assert!(!text.contains("dynamodb:Scan"), "request paths never Scan");
    assert!(!text.contains("DynamoDBCrudPolicy"), "SAM's CRUD policy includes Scan; list actions explicitly");
}

#[test]
fn a_route_without_a_handler_is_refused() {
    let template = Template::load(&default_path()).unwrap();
    let none = std::collections::HashMap::new();
    let err = contacts_tools::server::Router::from_template(&template, &none).err().expect("refused");
    assert!(err.to_string().contains("has no local handler"), "{err}");
}

#[test]
fn webhooks_serve_exactly_the_template_routes() {
    let template = Template::load(&default_path()).unwrap();
    let declared: BTreeSet<String> = template
        .functions
        .iter()
        .filter(|f| f.binary == "webhooks")
        .flat_map(|f| f.routes.iter().map(|r| r.key()))
        .collect();
    let served: BTreeSet<String> = contacts_functions::webhooks::ROUTES.iter().map(|r| r.to_string()).collect();
    assert_eq!(declared, served);
}

#[tokio::test]
async fn scheduled_jobs_can_be_run_at_once_locally() {
    let app = contacts_tests::spawn_app().await;
    let r = app.http.post(app.url("/_local/jobs/conversation-sweeper")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["job"], "conversation-sweeper");
    let unknown = app.http.post(app.url("/_local/jobs/nope")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[test]
fn the_dashboard_serves_exactly_the_template_routes() {
    let template = Template::load(&default_path()).unwrap();
    let declared: BTreeSet<String> = template
        .functions
        .iter()
        .filter(|f| f.binary == "dashboard")
        .flat_map(|f| f.routes.iter().map(|r| r.key()))
        .collect();
    let served: BTreeSet<String> = contacts_functions::dashboard::ROUTES.iter().map(|r| r.key()).collect();
    assert_eq!(declared, served);
}

#[test]
fn log_levels_stop_at_debug_and_prod_logs_at_info_or_above() {
    let text = std::fs::read_to_string(default_path()).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let allowed: BTreeSet<&str> = doc["Parameters"]["LogLevel"]["AllowedValues"]
        .as_sequence()
        .expect("LogLevel lists its allowed values")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(allowed, BTreeSet::from(["DEBUG", "INFO", "WARN", "ERROR"]), "TRACE logs raw events with keys");
    let rule = &doc["Rules"]["ProdLogsAtInfoOrAbove"];
    let rule_text = serde_yaml_ng::to_string(rule).unwrap();
    assert!(rule_text.contains("prod") && rule_text.contains("DEBUG"), "prod refuses DEBUG: {rule_text}");
    let samconfig = std::fs::read_to_string(default_path().parent().unwrap().join("../samconfig.toml")).unwrap();
    let prod = samconfig.split("[prod.").skip(1).collect::<String>();
    assert!(prod.contains("LogLevel=INFO"), "prod deploys at INFO");
}

fn template_doc() -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(default_path()).unwrap()).unwrap()
}

/// The text of `!GetAtt X.Attr` / `!Ref X` (the tag dropped), or of a plain string.
fn text(v: &serde_yaml_ng::Value) -> Option<&str> {
    match v {
        serde_yaml_ng::Value::Tagged(t) => t.value.as_str(),
        other => other.as_str(),
    }
}

/// The logical id a `!GetAtt X.Attr` or `!Ref X` names.
fn target(v: &serde_yaml_ng::Value) -> Option<&str> {
    text(v).map(|t| t.split('.').next().unwrap_or(t))
}

#[test]
fn sqs_visibility_is_at_least_six_times_the_consuming_function_timeout() {
    let doc = template_doc();
    let resources = doc["Resources"].as_mapping().unwrap();
    let default_timeout = doc["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    let mut checked = 0;
    for (name, r) in resources {
        let Some(events) = r["Properties"]["Events"].as_mapping() else { continue };
        for event in events.values().filter(|e| e["Type"] == "SQS") {
            let queue = target(&event["Properties"]["Queue"]).expect("an SQS event names its queue");
            let timeout = r["Properties"]["Timeout"].as_u64().unwrap_or(default_timeout);
            let visibility = doc["Resources"][queue]["Properties"]["VisibilityTimeout"].as_u64().unwrap_or(30);
            assert!(
                visibility >= 6 * timeout,
                "{queue} hides a message for {visibility} s, less than six times the {timeout} s timeout of {}",
                name.as_str().unwrap_or_default()
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "the capture and export workers are checked");
}

#[test]
fn every_dead_letter_queue_and_the_table_throttling_have_an_alarm() {
    let doc = template_doc();
    let resources = doc["Resources"].as_mapping().unwrap();
    let alarms: Vec<&serde_yaml_ng::Value> =
        resources.values().filter(|r| r["Type"] == "AWS::CloudWatch::Alarm").map(|r| &r["Properties"]).collect();
    let watched = |namespace: &str, dimension: &str| -> BTreeSet<(String, String)> {
        alarms
            .iter()
            .filter(|a| a["Namespace"] == namespace)
            .flat_map(|a| {
                let metric = a["MetricName"].as_str().unwrap_or_default().to_string();
                a["Dimensions"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter(|d| d["Name"] == dimension)
                    .filter_map(move |d| target(&d["Value"]).map(|t| (t.to_string(), metric.clone())))
            })
            .collect()
    };
    // Queues' redrive targets, and event sources' failure destinations (stream batches).
    let redrive = resources.values().filter_map(|r| target(&r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]));
    let on_failure = resources.values().flat_map(|r| {
        r["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flat_map(|events| events.values())
            .filter_map(|e| target(&e["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]))
    });
    let dead_letter_queues: BTreeSet<&str> = redrive.chain(on_failure).collect();
    assert!(dead_letter_queues.contains("SyncFanoutDeadLetterQueue"), "{dead_letter_queues:?}");
    let sqs = watched("AWS/SQS", "QueueName");
    for dlq in dead_letter_queues {
        assert!(
            sqs.contains(&(dlq.to_string(), "ApproximateNumberOfMessagesVisible".to_string())),
            "no alarm on {dlq}: {sqs:?}"
        );
    }
    let table = watched("AWS/DynamoDB", "TableName");
    for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] {
        assert!(table.contains(&("ContactsTable".to_string(), metric.to_string())), "no alarm on {metric}: {table:?}");
    }
}

/// A function's DynamoDB statement: where it applies (`table`, `index/gsi2`, `index/*`) and the
/// `dynamodb:LeadingKeys` patterns it holds requests to (`None`: no such condition).
struct TableStatement {
    resources: Vec<String>,
    leading_keys: Option<Vec<String>>,
}

/// The statements of a function that grant DynamoDB actions.
fn table_statements(function: &str) -> Vec<TableStatement> {
    let doc = template_doc();
    let policies = doc["Resources"][function]["Properties"]["Policies"].as_sequence().cloned().unwrap_or_default();
    let statements: Vec<serde_yaml_ng::Value> =
        policies.iter().filter_map(|p| p["Statement"].as_sequence()).flatten().cloned().collect();
    let listed = |v: &serde_yaml_ng::Value| match v {
        serde_yaml_ng::Value::Sequence(items) => items.clone(),
        other => vec![other.clone()],
    };
    statements
        .iter()
        .filter(|s| listed(&s["Action"]).iter().any(|a| a.as_str().is_some_and(|a| a.starts_with("dynamodb:"))))
        .map(|s| {
            let resources = listed(&s["Resource"])
                .iter()
                .map(|r| {
                    let text = text(r).unwrap_or_else(|| panic!("{function}: a resource it cannot read: {r:?}"));
                    match text.strip_prefix("${ContactsTable.Arn}/") {
                        Some(index) => index.to_string(),
                        None if text == "ContactsTable.Arn" => "table".to_string(),
                        None => panic!("{function}: DynamoDB actions on {text}"),
                    }
                })
                .collect();
            let patterns = s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"].as_sequence();
            let leading_keys = patterns.map(|p| p.iter().filter_map(|p| p.as_str().map(str::to_string)).collect());
            TableStatement { resources, leading_keys }
        })
        .collect()
}

/// Whether a function's policy lets it reach `key` (a partition key value) on `resource`.
fn reaches(function: &str, resource: &str, key: &str) -> bool {
    table_statements(function).iter().any(|s| {
        s.resources.iter().any(|r| like(r, resource))
            && s.leading_keys.as_ref().is_none_or(|patterns| patterns.iter().any(|p| like(p, key)))
    })
}

/// IAM's `StringLike`: `*` stands for any run of characters.
fn like(pattern: &str, key: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == key;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !key.starts_with(first) || !key.ends_with(last) || key.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &key[first.len()..key.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn every_dynamodb_statement_is_held_to_key_prefixes() {
    let template = Template::load(&default_path()).unwrap();
    for function in &template.functions {
        for statement in table_statements(&function.logical_id) {
            let patterns = statement.leading_keys.unwrap_or_else(|| {
                panic!("{}: a DynamoDB statement without dynamodb:LeadingKeys", function.logical_id)
            });
            assert!(!patterns.is_empty(), "{}: an empty LeadingKeys condition", function.logical_id);
            for pattern in patterns {
                let system = ["APIKEY#*", "OPENCONV#*", "PURGE#*", "WORKSPACES"].contains(&pattern.as_str());
                assert!(pattern.starts_with("WS#") || system, "{}: unknown key prefix {pattern}", function.logical_id);
            }
        }
    }
}

#[test]
fn only_the_functions_that_need_a_system_key_reach_it() {
    let template = Template::load(&default_path()).unwrap();
    let system_keys = [
        ("table", store::keys::api_key_pk("0123abcd"), &["ContactsApiFunction", "DashboardFunction"][..]),
        ("index/gsi2", store::keys::open_conversations_pk(3), &["JobsWorkerFunction"][..]),
        ("index/gsi3", store::keys::purge_pk(1), &["JobsWorkerFunction"][..]),
        ("index/gsi1", store::keys::WORKSPACES_PK.to_string(), &["AnalyticsRollupFunction", "RetentionFunction"][..]),
        // The index shards and the workspace list are not table items: nobody reaches them there.
        ("table", store::keys::open_conversations_pk(3), &[][..]),
        ("table", store::keys::purge_pk(1), &[][..]),
        ("table", store::keys::WORKSPACES_PK.to_string(), &[][..]),
    ];
    for (resource, key, expected) in system_keys {
        let reaching: BTreeSet<&str> =
            template.functions.iter().map(|f| f.logical_id.as_str()).filter(|f| reaches(f, resource, &key)).collect();
        assert_eq!(reaching, BTreeSet::from_iter(expected.iter().copied()), "{key} on {resource}");
    }
}

#[test]
fn the_webhooks_function_reaches_bots_only_and_the_stream_consumer_workspaces_only() {
    use model::domain::{ContactId, WorkspaceId};
    let ws = WorkspaceId::parse("acme").unwrap();
    let bot = model::bot::BotId::generate(&ws);
    let allowed = |function: &str, key: &str| reaches(function, "table", key);

    assert!(allowed("WebhooksFunction", &store::keys::bot_pk(&bot)));
    assert!(allowed("WebhooksFunction", &store::keys::data_key_pk(&ws)), "it opens bots' secrets");
    for other in [
        store::keys::api_key_pk("0123abcd"),
        store::keys::session_pk(&ws, "0123abcd"),
        store::keys::contact_pk(&ws, ContactId(7)),
        store::keys::meta_pk(&ws),
    ] {
        assert!(!allowed("WebhooksFunction", &other), "webhooks may not reach {other}");
    }

    for written in [store::keys::contact_pk(&ws, ContactId(7)), store::keys::meta_pk(&ws), store::keys::days_pk(&ws)] {
        assert!(allowed("StreamCountersFunction", &written), "stream-counters writes {written}");
    }
    assert!(!allowed("StreamCountersFunction", &store::keys::api_key_pk("0123abcd")));
}

/// Each function's KMS statements: the actions, the resource they name, and whether they
/// require the workspace as encryption context.
fn kms_statements(function: &serde_yaml_ng::Value) -> Vec<(Vec<String>, String, bool)> {
    let policies = function["Properties"]["Policies"].as_sequence().cloned().unwrap_or_default();
    let statements: Vec<serde_yaml_ng::Value> =
        policies.iter().filter_map(|p| p["Statement"].as_sequence()).flatten().cloned().collect();
    statements
        .iter()
        .filter_map(|s| {
            let actions: Vec<String> = match &s["Action"] {
                serde_yaml_ng::Value::Sequence(a) => a.iter().filter_map(|a| a.as_str().map(str::to_string)).collect(),
                other => other.as_str().map(str::to_string).into_iter().collect(),
            };
            let kms: Vec<String> = actions.into_iter().filter(|a| a.starts_with("kms:")).collect();
            let resource = text(&s["Resource"]).unwrap_or("(a list)").to_string();
            let context = s["Condition"]["StringLike"]["kms:EncryptionContext:workspace"] == "*";
            (!kms.is_empty()).then_some((kms, resource, context))
        })
        .collect()
}

#[test]
fn secrets_are_wrapped_by_a_rotating_kept_kms_key_and_only_the_api_and_dashboard_make_data_keys() {
    let doc = template_doc();
    let key = &doc["Resources"]["SecretsKmsKey"];
    assert_eq!(key["Type"], "AWS::KMS::Key");
    assert_eq!(key["Properties"]["EnableKeyRotation"], true, "yearly rotation of the key material");
    assert!(key["Properties"]["PendingWindowInDays"].as_u64().is_some_and(|d| (7..=30).contains(&d)));
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        assert_eq!(key[policy], "Retain", "kept with the table, or nothing sealed in it opens again");
    }
    let statements = key["Properties"]["KeyPolicy"]["Statement"].as_sequence().unwrap();
    assert_eq!(statements.len(), 1, "the account administers the key; IAM grants its use");
    assert!(text(&statements[0]["Principal"]["AWS"]).unwrap().ends_with(":root"));
    let alias = &doc["Resources"]["SecretsKmsKeyAlias"];
    assert_eq!(target(&alias["Properties"]["TargetKeyId"]), Some("SecretsKmsKey"));

    let template = Template::load(&default_path()).unwrap();
    let mut decrypting = BTreeSet::new();
    let mut generating = BTreeSet::new();
    for function in &template.functions {
        let resource = &doc["Resources"][function.logical_id.as_str()];
        let names_key = function.environment.iter().any(|(name, value)| {
            name == "SECRETS_KMS_KEY_ID" && *value == contacts_tools::template::EnvValue::Ref("SecretsKmsKey".into())
        });
        for (actions, on, context) in kms_statements(resource) {
            assert_eq!(on, "SecretsKmsKey.Arn", "{}: KMS only on the secrets key", function.logical_id);
            assert!(context, "{}: only data keys bound to a workspace", function.logical_id);
            for action in actions {
                match action.as_str() {
                    "kms:Decrypt" => decrypting.insert(function.binary.clone()),
                    "kms:GenerateDataKey" => generating.insert(function.binary.clone()),
                    other => panic!("{}: {other} is more than sealing needs", function.logical_id),
                };
            }
        }
        assert_eq!(
            names_key,
            decrypting.contains(&function.binary),
            "{}: the functions given the key are those that may unwrap data keys",
            function.logical_id
        );
    }
    let readers = ["capture-worker", "contacts-api", "crm-sync", "dashboard", "webhooks"];
    assert_eq!(decrypting, BTreeSet::from(readers.map(String::from)));
    assert_eq!(generating, BTreeSet::from(["contacts-api", "dashboard"].map(String::from)), "writers of new secrets");
}
