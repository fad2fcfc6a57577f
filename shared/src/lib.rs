//! The contacts model: domain values, the contact, list filters and search, API keys,
//! and the DynamoDB single-table repository. Testable without AWS except `store`.

pub mod auth;
pub mod contact;
pub mod domain;
pub mod listing;
pub mod search;
pub mod store;
