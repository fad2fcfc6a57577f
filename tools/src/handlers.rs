//! Every Lambda function of the template, run in process: its environment resolved from
//! the template, its handler state built by the same configuration code the Lambda
//! mains use (`contacts_functions::config`).

use crate::function::{JobHandler, Local};
use crate::template::{EnvValue, Function};
use contacts_functions::config::{
    ApiConfig, CaptureWorkerConfig, Clients, ConfigError, CrmSyncConfig, DashboardConfig, DispatcherConfig,
    ExportWorkerConfig, ImportWorkerConfig, JobsWorkerConfig, SyncFanoutConfig, TableConfig, WebhooksConfig,
};
use contacts_functions::{
    analytics_rollup, api, capture_worker, contact_purger, conversation_sweeper, crm_sync, dashboard, export_worker,
    import_worker, jobs, retention_job, stream_counters, webhooks,
};
use lambda_http::{Body, Request, Response};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

/// Why a template function cannot run locally.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{function}: {variable} refers to {reference}, which the local stack does not create")]
    UnresolvedRef { function: String, variable: String, reference: String },
    #[error("{function}: {source}")]
    Config { function: String, source: ConfigError },
    #[error("{function} builds `{binary}`, which has no local handler")]
    NoLocalHandler { function: String, binary: String },
}

/// A function's environment: the template's values, `!Ref`s resolved to local names,
/// then `overrides` (e.g. a test's Graph API address).
pub fn environment(
    function: &Function,
    resolved: &HashMap<String, String>,
    overrides: &HashMap<String, String>,
) -> Result<HashMap<String, String>, BuildError> {
    let mut env = HashMap::new();
    for (name, value) in &function.environment {
        let v = match value {
            EnvValue::Text(t) => t.clone(),
            EnvValue::Ref(r) => resolved.get(r).cloned().ok_or_else(|| BuildError::UnresolvedRef {
                function: function.logical_id.clone(),
                variable: name.clone(),
                reference: r.clone(),
            })?,
        };
        env.insert(name.clone(), v);
    }
    env.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(env)
}

/// Builds the in-process function for a template function's binary.
pub fn build(function: &Function, env: &HashMap<String, String>, aws: &Clients) -> Result<Local, BuildError> {
    let vars = |name: &str| env.get(name).cloned();
    let config_error = |source| BuildError::Config { function: function.logical_id.clone(), source };
    Ok(match function.binary.as_str() {
        "contacts-api" => {
            let api = ApiConfig::from_env(vars).map_err(config_error)?.build(aws);
            http(api, |api, req| async move { api::handle(&api, req).await })
        }
        "dashboard" => {
            let dashboard = DashboardConfig::from_env(vars).map_err(config_error)?.build(aws);
            http(dashboard, |d, req| async move { dashboard::handle(&d, req).await })
        }
        "webhooks" => {
            let hooks = WebhooksConfig::from_env(vars).map_err(config_error)?.build(aws);
            http(hooks, |hooks, req| async move { webhooks::handle(&hooks, req).await })
        }
        "capture-worker" => {
            let worker = Arc::new(CaptureWorkerConfig::from_env(vars).map_err(config_error)?.build(aws));
            Local::Queue(Arc::new(move |event| {
                let worker = worker.clone();
                Box::pin(async move { capture_worker::handle(&worker, event).await })
            }))
        }
        "export-worker" => {
            let worker = Arc::new(ExportWorkerConfig::from_env(vars).map_err(config_error)?.build(aws));
            let timeout = lambda_timeout(function);
            Local::Queue(Arc::new(move |event| {
                let worker = worker.clone();
                Box::pin(async move { export_worker::handle(&worker, event, chrono::Utc::now() + timeout).await })
            }))
        }
        "import-worker" => {
            let worker = Arc::new(ImportWorkerConfig::from_env(vars).map_err(config_error)?.build(aws));
            let timeout = lambda_timeout(function);
            Local::Queue(Arc::new(move |event| {
                let worker = worker.clone();
                Box::pin(async move { import_worker::handle(&worker, event, chrono::Utc::now() + timeout).await })
            }))
        }
        "conversation-sweeper" => {
            let dispatcher = DispatcherConfig::from_env(vars).map_err(config_error)?.build(aws);
            job(dispatcher, |d| async move { conversation_sweeper::dispatch(&d).await.map_err(|e| e.to_string()) })
        }
        "analytics-rollup" => {
            let dispatcher = DispatcherConfig::from_env(vars).map_err(config_error)?.build(aws);
            job(dispatcher, |d| async move { analytics_rollup::dispatch(&d).await.map_err(|e| e.to_string()) })
        }
        "retention" => {
            let dispatcher = DispatcherConfig::from_env(vars).map_err(config_error)?.build(aws);
            job(dispatcher, |d| async move { retention_job::dispatch(&d).await.map_err(|e| e.to_string()) })
        }
        "jobs-worker" => {
            let worker = Arc::new(JobsWorkerConfig::from_env(vars).map_err(config_error)?.build(aws));
            let timeout = lambda_timeout(function);
            Local::Queue(Arc::new(move |event| {
                let worker = worker.clone();
                Box::pin(async move { jobs::handle(&worker, event, chrono::Utc::now() + timeout).await })
            }))
        }
        "stream-counters" => {
            let store = Arc::new(TableConfig::from_env(vars).map_err(config_error)?.build(aws));
            Local::Stream(Arc::new(move |event| {
                let store = store.clone();
                Box::pin(async move { stream_counters::handle(&store, event).await.map_err(|e| e.to_string()) })
            }))
        }
        "sync-fanout" => {
            let fanout = Arc::new(SyncFanoutConfig::from_env(vars).map_err(config_error)?.build(aws));
            Local::Stream(Arc::new(move |event| {
                let fanout = fanout.clone();
                Box::pin(async move { crm_sync::fanout::handle(&fanout, event).await.map_err(|e| e.to_string()) })
            }))
        }
        "crm-sync" => {
            let worker = Arc::new(CrmSyncConfig::from_env(vars).map_err(config_error)?.build(aws));
            let timeout = lambda_timeout(function);
            Local::Queue(Arc::new(move |event| {
                let worker = worker.clone();
                Box::pin(async move { crm_sync::handle(&worker, event, chrono::Utc::now() + timeout).await })
            }))
        }
        "contact-purger" => {
            let dispatcher = DispatcherConfig::from_env(vars).map_err(config_error)?.build(aws);
            job(dispatcher, |d| async move { contact_purger::dispatch(&d).await.map_err(|e| e.to_string()) })
        }
        other => {
            return Err(BuildError::NoLocalHandler { function: function.logical_id.clone(), binary: other.to_string() })
        }
    })
}

/// The function's timeout: each local invocation gets the deadline Lambda would give it.
fn lambda_timeout(function: &Function) -> chrono::Duration {
    chrono::Duration::seconds(function.timeout as i64)
}

/// An HTTP function: its handler is an infallible service, so `Err(never)` cannot happen.
fn http<T, F>(state: T, f: fn(Arc<T>, Request) -> F) -> Local
where
    T: Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, Infallible>> + Send + 'static,
{
    let state = Arc::new(state);
    Local::Http(Arc::new(move |req| {
        let fut = f(state.clone(), req);
        Box::pin(async move {
            match fut.await {
                Ok(r) => r,
                Err(never) => match never {},
            }
        })
    }))
}

/// A scheduled job, run with its state on each tick.
fn job<T, F>(state: T, f: fn(Arc<T>) -> F) -> Local
where
    T: Send + Sync + 'static,
    F: Future<Output = Result<String, String>> + Send + 'static,
{
    let state = Arc::new(state);
    let handler: JobHandler = Arc::new(move || Box::pin(f(state.clone())));
    Local::Job(handler)
}
