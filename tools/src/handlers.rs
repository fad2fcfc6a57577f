//! Every Lambda function of the template, run in process with the handler code the
//! Lambda binaries run, and its environment resolved from the template.

use crate::server::Handler;
use crate::template::{EnvValue, Function};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use contacts_functions::bot_cache::BotCache;
use contacts_functions::capture_queue::CaptureQueue;
use contacts_functions::capture_worker::{self, GraphProfiles, Worker};
use contacts_functions::export_worker::{self, ExportWorker};
use contacts_functions::webhooks::{self, Webhooks};
use contacts_functions::{
    analytics_rollup, api, config, contact_purger, conversation_sweeper, dashboard, retention_job,
};
use model::capture::CaptureSettings;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use store::Store;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
pub type QueueHandler = Arc<dyn Fn(SqsEvent) -> BoxFuture<SqsBatchResponse> + Send + Sync>;
pub type JobHandler = Arc<dyn Fn() -> BoxFuture<Result<String, String>> + Send + Sync>;

/// A function, by how it is invoked.
#[derive(Clone)]
pub enum Local {
    Http(Handler),
    Queue(QueueHandler),
    Job(JobHandler),
}

/// A function's environment: the template's values, `!Ref`s resolved to local names,
/// then `overrides` (e.g. a test's Graph API address).
pub fn environment(
    function: &Function,
    resolved: &HashMap<String, String>,
    overrides: &HashMap<String, String>,
) -> Result<HashMap<String, String>, String> {
    let mut env = HashMap::new();
    for (name, value) in &function.environment {
        let v = match value {
            EnvValue::Text(t) => t.clone(),
            EnvValue::Ref(r) => resolved.get(r).cloned().ok_or_else(|| {
                format!("{}: {name} refers to {r}, which the local stack does not create", function.logical_id)
            })?,
        };
        env.insert(name.clone(), v);
    }
    env.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(env)
}

fn var<'a>(env: &'a HashMap<String, String>, name: &str) -> Result<&'a str, String> {
    env.get(name).map(String::as_str).ok_or_else(|| format!("{name} is not set for this function"))
}

fn idle(env: &HashMap<String, String>) -> Result<chrono::Duration, String> {
    let minutes: i64 =
        var(env, "CONVERSATION_IDLE_MINUTES")?.parse().map_err(|_| "CONVERSATION_IDLE_MINUTES must be a number")?;
    Ok(chrono::Duration::minutes(minutes))
}

/// Builds the in-process function for a template function's binary.
pub fn build(
    function: &Function,
    env: &HashMap<String, String>,
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    s3: &aws_sdk_s3::Client,
    expose_usage: bool,
) -> Result<Local, String> {
    let vars = |name: &str| env.get(name).cloned();
    // Handlers are infallible HTTP services; `Err(never)` cannot happen.
    fn http<T: Send + Sync + 'static, F>(state: T, f: fn(Arc<T>, lambda_http::Request) -> F) -> Local
    where
        F: Future<Output = Result<lambda_http::Response<lambda_http::Body>, std::convert::Infallible>> + Send + 'static,
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
    match function.binary.as_str() {
        "contacts-api" => {
            let exports = Some(config::export_settings(&vars, s3.clone(), sqs.clone())?);
            Ok(http(api::Api { expose_usage, exports, ..api::Api::new(store.clone()) }, |api, req| async move {
                api::handle(&api, req).await
            }))
        }
        "export-worker" => {
            let worker =
                Arc::new(ExportWorker { store: store.clone(), bucket: config::exports_bucket(&vars, s3.clone())? });
            Ok(Local::Queue(Arc::new(move |event| {
                let worker = worker.clone();
                Box::pin(async move { export_worker::handle(&worker, event).await })
            })))
        }
        "dashboard" => {
            let exports = Some(config::export_settings(&vars, s3.clone(), sqs.clone())?);
            Ok(http(
                dashboard::Dashboard { exports, ..dashboard::Dashboard::new(store.clone()) },
                |d, req| async move { dashboard::handle(&d, req).await },
            ))
        }
        "webhooks" => {
            let queue = CaptureQueue::new(sqs.clone(), var(env, "CAPTURE_QUEUE_URL")?);
            Ok(http(Webhooks { bots: BotCache::new(store.clone()), queue }, |hooks, req| async move {
                webhooks::handle(&hooks, req).await
            }))
        }
        "capture-worker" => {
            let worker = Arc::new(Worker {
                store: store.clone(),
                bots: BotCache::new(store.clone()),
                settings: CaptureSettings { idle: idle(env)? },
                profiles: GraphProfiles::new(var(env, "GRAPH_API_BASE")?),
            });
            Ok(Local::Queue(Arc::new(move |event| {
                let worker = worker.clone();
                Box::pin(async move { capture_worker::handle(&worker, event).await })
            })))
        }
        "conversation-sweeper" => {
            let (store, idle) = (store.clone(), idle(env)?);
            Ok(Local::Job(Arc::new(move || {
                let store = store.clone();
                Box::pin(async move {
                    conversation_sweeper::handle(&store, idle).await.map(|n| format!("{n} conversations closed"))
                })
            })))
        }
        "analytics-rollup" => {
            let store = store.clone();
            Ok(Local::Job(Arc::new(move || {
                let store = store.clone();
                Box::pin(async move { analytics_rollup::handle(&store).await })
            })))
        }
        "retention" => {
            let store = store.clone();
            Ok(Local::Job(Arc::new(move || {
                let store = store.clone();
                Box::pin(async move {
                    retention_job::handle(&store, chrono::Utc::now() + chrono::Duration::minutes(4)).await
                })
            })))
        }
        "contact-purger" => {
            let store = store.clone();
            Ok(Local::Job(Arc::new(move || {
                let store = store.clone();
                Box::pin(async move { contact_purger::handle(&store).await.map(|n| format!("{n} contacts purged")) })
            })))
        }
        other => Err(format!("{} builds `{other}`, which has no local handler", function.logical_id)),
    }
}
