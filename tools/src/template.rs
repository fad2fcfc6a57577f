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

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub logical_id: String,
    /// The cargo binary that is the function's `bootstrap`.
    pub binary: String,
    pub routes: Vec<Route>,
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub logical_id: String,
    /// (name, type) pairs.
    pub attributes: Vec<(String, String)>,
    pub key_schema: Vec<KeyElement>,
    pub indexes: Vec<Index>,
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub functions: Vec<Function>,
    pub tables: Vec<Table>,
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
        let mut functions = Vec::new();
        let mut tables = Vec::new();
        for (id, resource) in resources {
            let id = id.as_str().unwrap_or_default().to_string();
            match resource.get("Type").and_then(Value::as_str) {
                Some("AWS::Serverless::Function") => functions.push(function(&id, resource)?),
                Some("AWS::DynamoDB::Table") => tables.push(table(&id, resource)?),
                _ => {}
            }
        }
        Ok(Template { functions, tables })
    }

    pub fn routes(&self) -> impl Iterator<Item = (&Function, &Route)> {
        self.functions.iter().flat_map(|f| f.routes.iter().map(move |r| (f, r)))
    }
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_str()
}

fn function(id: &str, resource: &Value) -> Result<Function, TemplateError> {
    let binary = text(resource, &["Metadata", "BuildProperties", "Binary"])
        .ok_or_else(|| TemplateError::Shape(format!("{id} has no Metadata.BuildProperties.Binary")))?
        .to_string();
    let mut routes = Vec::new();
    if let Some(events) = resource.get("Properties").and_then(|p| p.get("Events")).and_then(Value::as_mapping) {
        for (name, event) in events {
            if event.get("Type").and_then(Value::as_str) == Some("HttpApi") {
                let method = text(event, &["Properties", "Method"]);
                let path = text(event, &["Properties", "Path"]);
                match (method, path) {
                    (Some(m), Some(p)) => routes.push(Route { method: m.to_uppercase(), path: p.to_string() }),
                    _ => return Err(TemplateError::Shape(format!("{id}.{:?} lacks Method or Path", name.as_str()))),
                }
            }
        }
    }
    Ok(Function { logical_id: id.to_string(), binary, routes })
}

fn key_schema(v: Option<&Value>) -> Vec<KeyElement> {
    v.and_then(Value::as_sequence)
        .map(|seq| {
            seq.iter()
                .filter_map(|k| Some(KeyElement { attribute: text(k, &["AttributeName"])?.to_string(), key_type: text(k, &["KeyType"])?.to_string() }))
                .collect()
        })
        .unwrap_or_default()
}

fn table(id: &str, resource: &Value) -> Result<Table, TemplateError> {
    let props = resource.get("Properties").ok_or_else(|| TemplateError::Shape(format!("{id} has no Properties")))?;
    let attributes = props
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .map(|seq| seq.iter().filter_map(|a| Some((text(a, &["AttributeName"])?.to_string(), text(a, &["AttributeType"])?.to_string()))).collect())
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
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let ttl_attribute = (props.get("TimeToLiveSpecification").and_then(|t| t.get("Enabled")).and_then(Value::as_bool) == Some(true))
        .then(|| text(props, &["TimeToLiveSpecification", "AttributeName"]).map(str::to_string))
        .flatten();
    Ok(Table { logical_id: id.to_string(), attributes, key_schema: key_schema(props.get("KeySchema")), indexes, ttl_attribute })
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
        assert_eq!(table.indexes.len(), 3);
        assert_eq!(table.ttl_attribute.as_deref(), Some("expires_at"));
    }
}
