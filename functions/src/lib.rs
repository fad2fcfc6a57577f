//! The Lambda handlers. Each concern is a module whose `handle` the Lambda binary in
//! `src/bin/` wires to the runtime, and which the local server calls in process.

pub mod access_job;
pub mod analytics_rollup;
pub mod api;
pub mod audit;
pub mod bot_cache;
pub mod bucket;
pub mod capture_queue;
pub mod capture_worker;
pub mod config;
pub mod contact_purger;
pub mod conversation_sweeper;
pub mod crm_sync;
pub mod dashboard;
pub mod erasure_job;
pub mod export_worker;
pub mod http;
pub mod import_worker;
pub mod jobs;
pub mod retention_job;
pub mod stream_counters;
pub mod webhooks;
pub mod work_queue;
