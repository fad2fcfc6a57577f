//! Reads `infra/template.yaml`: the routes, table, queues and schedules the local stack
//! reproduces, so that code and infrastructure cannot drift apart.

use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};

/// One HTTP API route of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
}

impl Route {
    /// As API Gateway names it: `GET /api/v1/contacts/{id}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// An environment variable's value: literal, or `!Ref` to another resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Text(String),
    Ref(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub logical_id: String,
    /// The cargo binary that is the function's `bootstrap`.
    pub binary: String,
    pub routes: Vec<Route>,
    /// Logical ids of the SQS queues the function consumes.
    pub queues: Vec<String>,
    /// Schedule expressions, e.g. `rate(5 minutes)`.
    pub schedules: Vec<String>,
    /// DynamoDB streams the function consumes.
    pub streams: Vec<StreamSource>,
    /// Globals merged with the function's own variables.
    pub environment: Vec<(String, EnvValue)>,
    /// `Timeout` in seconds (the function's, else the globals', else Lambda's default of 3).
    pub timeout: u64,
}

/// A DynamoDB stream event source: the table whose stream it reads, and how it delivers.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSource {
    pub table: String,
    /// `StartingPosition: LATEST` (else the trim horizon).
    pub from_latest: bool,
    pub batch_size: usize,
    pub max_retries: u32,
    /// The failure destination's queue (logical id).
    pub on_failure: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub logical_id: String,
    pub fifo: bool,
    pub visibility_timeout: Option<u64>,
    /// (dead-letter queue logical id, maxReceiveCount)
    pub redrive: Option<(String, u64)>,
}

/// An S3 bucket, with its lifecycle rules' expirations (prefix, days or the parameter giving them).
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub logical_id: String,
    pub expirations: Vec<(String, EnvValue)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyElement {
    pub attribute: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: String,
    /// The attributes an `INCLUDE` projection adds to the keys.
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub logical_id: String,
    /// (name, type) pairs.
    pub attributes: Vec<(String, String)>,
    pub key_schema: Vec<KeyElement>,
    pub indexes: Vec<Index>,
    pub ttl_attribute: Option<String>,
    /// `StreamSpecification.StreamViewType`, when the table has a stream.
    pub stream_view: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub functions: Vec<Function>,
    pub tables: Vec<Table>,
    pub queues: Vec<Queue>,
    pub buckets: Vec<Bucket>,
    /// Logical ids of the KMS keys (`AWS::KMS::Key`).
    pub kms_keys: Vec<String>,
    /// Parameters with their defaults (`!Ref Stage` resolves to these locally).
    pub parameters: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0} is not valid YAML: {1}")]
    Yaml(PathBuf, serde_yaml_ng::Error),
    #[error("template: {0}")]
    Shape(String),
}

/// The template in this repository.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml")
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|e| TemplateError::Io(path.to_path_buf(), e))?;
        let doc: Value = serde_yaml_ng::from_str(&text).map_err(|e| TemplateError::Yaml(path.to_path_buf(), e))?;
        Template::from_value(&doc)
    }

    pub fn from_value(doc: &Value) -> Result<Self, TemplateError> {
        let resources = doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| TemplateError::Shape("no Resources".into()))?;
        let global_function = doc.get("Globals").and_then(|g| g.get("Function"));
        let globals = environment(global_function);
        let global_timeout = global_function.and_then(|f| f.get("Timeout")).and_then(Value::as_u64).unwrap_or(3);
        let mut functions = Vec::new();
        let mut tables = Vec::new();
        let mut queues = Vec::new();
        let mut buckets = Vec::new();
        let mut kms_keys = Vec::new();
        for (id, resource) in resources {
            let id = id.as_str().unwrap_or_default().to_string();
            match resource.get("Type").and_then(Value::as_str) {
                Some("AWS::Serverless::Function") => functions.push(function(&id, resource, &globals, global_timeout)?),
                Some("AWS::DynamoDB::Table") => tables.push(table(&id, resource)?),
                Some("AWS::SQS::Queue") => queues.push(queue(&id, resource)),
                Some("AWS::S3::Bucket") => buckets.push(bucket(&id, resource)),
                Some("AWS::KMS::Key") => kms_keys.push(id),
                _ => {}
            }
        }
        let parameters = doc
            .get("Parameters")
            .and_then(Value::as_mapping)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let default = match v.get("Default")? {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            _ => return None,
                        };
                        Some((k.as_str()?.to_string(), default))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Template { functions, tables, queues, buckets, kms_keys, parameters })
    }

    pub fn routes(&self) -> impl Iterator<Item = (&Function, &Route)> {
        self.functions.iter().flat_map(|f| f.routes.iter().map(move |r| (f, r)))
    }
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_str()
}

/// The logical id behind `!Ref X` or `!GetAtt X.Attr`.
fn reference(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) => t.value.as_str().map(|s| s.split('.').next().unwrap_or(s).to_string()),
        _ => None,
    }
}

fn environment(function: Option<&Value>) -> Vec<(String, EnvValue)> {
    let vars = function.and_then(|f| f.get("Environment")).and_then(|e| e.get("Variables")).and_then(Value::as_mapping);
    vars.map(|m| {
        m.iter()
            .filter_map(|(k, v)| {
                let value = match v {
                    Value::String(s) => EnvValue::Text(s.clone()),
                    Value::Number(n) => EnvValue::Text(n.to_string()),
                    other => EnvValue::Ref(reference(other)?),
                };
                Some((k.as_str()?.to_string(), value))
            })
            .collect()
    })
    .unwrap_or_default()
}

fn queue(id: &str, resource: &Value) -> Queue {
    let props = resource.get("Properties");
    let prop = |k: &str| props.and_then(|p| p.get(k));
    let redrive = prop("RedrivePolicy").and_then(|r| {
        let target = reference(r.get("deadLetterTargetArn")?)?;
        Some((target, r.get("maxReceiveCount")?.as_u64()?))
    });
    Queue {
        logical_id: id.to_string(),
        fifo: prop("FifoQueue").and_then(Value::as_bool) == Some(true),
        visibility_timeout: prop("VisibilityTimeout").and_then(Value::as_u64),
        redrive,
    }
}

fn bucket(id: &str, resource: &Value) -> Bucket {
    let rules = resource
        .get("Properties")
        .and_then(|p| p.get("LifecycleConfiguration"))
        .and_then(|l| l.get("Rules"))
        .and_then(Value::as_sequence);
    let expirations = rules
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| {
                    let days = match r.get("ExpirationInDays")? {
                        Value::Number(n) => EnvValue::Text(n.to_string()),
                        other => EnvValue::Ref(reference(other)?),
                    };
                    Some((text(r, &["Prefix"]).unwrap_or("").to_string(), days))
                })
                .collect()
        })
        .unwrap_or_default();
    Bucket { logical_id: id.to_string(), expirations }
}

fn function(
    id: &str,
    resource: &Value,
    globals: &[(String, EnvValue)],
    global_timeout: u64,
) -> Result<Function, TemplateError> {
    let binary = text(resource, &["Metadata", "BuildProperties", "Binary"])
        .ok_or_else(|| TemplateError::Shape(format!("{id} has no Metadata.BuildProperties.Binary")))?
        .to_string();
    let mut routes = Vec::new();
    let mut queues = Vec::new();
    let mut schedules = Vec::new();
    let mut streams = Vec::new();
    if let Some(events) = resource.get("Properties").and_then(|p| p.get("Events")).and_then(Value::as_mapping) {
        for (name, event) in events {
            let kind = event.get("Type").and_then(Value::as_str);
            if kind == Some("SQS") {
                queues.extend(event.get("Properties").and_then(|p| p.get("Queue")).and_then(reference));
            }
            if kind == Some("DynamoDB") {
                let props = event.get("Properties");
                let table = props.and_then(|p| p.get("Stream")).and_then(reference);
                let number = |name: &str, default: u64| {
                    props.and_then(|p| p.get(name)).and_then(Value::as_u64).unwrap_or(default)
                };
                let on_failure = props
                    .and_then(|p| p.get("DestinationConfig"))
                    .and_then(|d| d.get("OnFailure"))
                    .and_then(|f| f.get("Destination"))
                    .and_then(reference);
                let from_latest =
                    props.and_then(|p| p.get("StartingPosition")).and_then(Value::as_str) == Some("LATEST");
                streams.extend(table.map(|table| StreamSource {
                    table,
                    from_latest,
                    batch_size: number("BatchSize", 100) as usize,
                    // Lambda's default: retry until the records expire; locally a few suffice.
                    max_retries: number("MaximumRetryAttempts", 3) as u32,
                    on_failure,
                }));
            }
            if matches!(kind, Some("Schedule" | "ScheduleV2")) {
                let expr = text(event, &["Properties", "ScheduleExpression"])
                    .or_else(|| text(event, &["Properties", "Schedule"]));
                schedules.extend(expr.map(str::to_string));
            }
            if kind == Some("HttpApi") {
                let method = text(event, &["Properties", "Method"]);
                let path = text(event, &["Properties", "Path"]);
                match (method, path) {
                    (Some(m), Some(p)) => routes.push(Route { method: m.to_uppercase(), path: p.to_string() }),
                    _ => return Err(TemplateError::Shape(format!("{id}.{:?} lacks Method or Path", name.as_str()))),
                }
            }
        }
    }
    let mut environment = globals.to_vec();
    for (k, v) in self::environment(resource.get("Properties")) {
        environment.retain(|(name, _)| *name != k);
        environment.push((k, v));
    }
    let timeout =
        resource.get("Properties").and_then(|p| p.get("Timeout")).and_then(Value::as_u64).unwrap_or(global_timeout);
    Ok(Function { logical_id: id.to_string(), binary, routes, queues, schedules, streams, environment, timeout })
}

fn key_schema(v: Option<&Value>) -> Vec<KeyElement> {
    v.and_then(Value::as_sequence)
        .map(|seq| {
            seq.iter()
                .filter_map(|k| {
                    Some(KeyElement {
                        attribute: text(k, &["AttributeName"])?.to_string(),
                        key_type: text(k, &["KeyType"])?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn table(id: &str, resource: &Value) -> Result<Table, TemplateError> {
    let props = resource.get("Properties").ok_or_else(|| TemplateError::Shape(format!("{id} has no Properties")))?;
    let attributes = props
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .map(|seq| {
            seq.iter()
                .filter_map(|a| {
                    Some((text(a, &["AttributeName"])?.to_string(), text(a, &["AttributeType"])?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let indexes = props
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .map(|seq| {
            seq.iter()
                .filter_map(|g| {
                    Some(Index {
                        name: text(g, &["IndexName"])?.to_string(),
                        key_schema: key_schema(g.get("KeySchema")),
                        projection: text(g, &["Projection", "ProjectionType"]).unwrap_or("ALL").to_string(),
                        non_key_attributes: g
                            .get("Projection")
                            .and_then(|p| p.get("NonKeyAttributes"))
                            .and_then(Value::as_sequence)
                            .map(|names| names.iter().filter_map(Value::as_str).map(str::to_string).collect())
                            .unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let ttl_attribute = (props.get("TimeToLiveSpecification").and_then(|t| t.get("Enabled")).and_then(Value::as_bool)
        == Some(true))
    .then(|| text(props, &["TimeToLiveSpecification", "AttributeName"]).map(str::to_string))
    .flatten();
    Ok(Table {
        logical_id: id.to_string(),
        attributes,
        key_schema: key_schema(props.get("KeySchema")),
        indexes,
        ttl_attribute,
        stream_view: text(props, &["StreamSpecification", "StreamViewType"]).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_projects_template() {
        let t = Template::load(&default_path()).unwrap();
        let api = t.functions.iter().find(|f| f.binary == "contacts-api").expect("contacts-api function");
        assert!(api.routes.iter().any(|r| r.key() == "GET /api/v1/contacts/{id}"));
        let table = &t.tables[0];
        assert_eq!(table.key_schema[0].attribute, "pk");
        assert_eq!(table.indexes.len(), 6);
        let all_contacts = table.indexes.iter().find(|i| i.name == "gsi6").expect("gsi6");
        assert_eq!((all_contacts.projection.as_str(), all_contacts.non_key_attributes.len()), ("INCLUDE", 13));
        assert_eq!(table.ttl_attribute.as_deref(), Some("expires_at"));
        let worker = t.functions.iter().find(|f| f.binary == "capture-worker").unwrap();
        assert_eq!(worker.queues, ["CaptureQueue"]);
        assert!(worker.environment.contains(&("TABLE_NAME".to_string(), EnvValue::Ref("ContactsTable".into()))));
        let hooks = t.functions.iter().find(|f| f.binary == "webhooks").unwrap();
        assert!(hooks.environment.contains(&("CAPTURE_QUEUE_URL".to_string(), EnvValue::Ref("CaptureQueue".into()))));
        let sweeper = t.functions.iter().find(|f| f.binary == "conversation-sweeper").unwrap();
        assert_eq!(sweeper.schedules, ["rate(5 minutes)"]);
        let capture = t.queues.iter().find(|q| q.logical_id == "CaptureQueue").unwrap();
        assert!(capture.fifo);
        assert_eq!(capture.redrive, Some(("CaptureDeadLetterQueue".to_string(), 5)));
        let exports = t.buckets.iter().find(|b| b.logical_id == "ExportsBucket").unwrap();
        assert_eq!(exports.expirations, [("exports/".to_string(), EnvValue::Ref("ExportRetentionDays".into()))]);
        let worker = t.functions.iter().find(|f| f.binary == "export-worker").unwrap();
        assert_eq!(worker.queues, ["ExportsQueue"]);
        assert_eq!(t.kms_keys, ["SecretsKmsKey"]);
        let key = ("SECRETS_KMS_KEY_ID".to_string(), EnvValue::Ref("SecretsKmsKey".into()));
        assert!(hooks.environment.contains(&key));
        assert!(!hooks.environment.iter().any(|(name, _)| name == "SECRETS_KEY"), "the legacy key is conditional");
    }
}
