//! The contacts model: domain values, the contact, list filters and search, API keys,
//! and the DynamoDB single-table repository. Testable without AWS except `store`.

pub mod analytics;
pub mod auth;
pub mod bot;
pub mod capture;
pub mod channels;
pub mod contact;
pub mod conversation;
pub mod domain;
pub mod export;
pub mod lead;
pub mod listing;
pub mod merge;
pub mod retention;
pub mod search;
pub mod store;
