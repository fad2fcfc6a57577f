//! The use cases: what people, channels and schedules ask of the service, as plain
//! functions over narrow ports (one trait per need) with typed errors. Adapters (the HTTP
//! API, the dashboard, queue workers, jobs) parse, call one of these, and render; the
//! DynamoDB store implements the ports, and `memory` fakes them for unit tests.

pub mod analytics;
pub mod capture;
pub mod contacts;
pub mod duplicates;
pub mod exports;
pub mod gdpr;
pub mod merge;
pub mod people;

#[cfg(test)]
mod memory;
