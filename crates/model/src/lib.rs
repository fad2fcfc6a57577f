//! The contacts model: domain values and rules, with no AWS: the contact, channels'
//! payloads, list filters and search, lead scoring, conversations, merges, exports,
//! retention and GDPR. The DynamoDB store (crate `store`) implements its ports.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod bot;
pub mod capture;
pub mod channels;
pub mod contact;
pub mod conversation;
pub mod domain;
pub mod enrichment;
pub mod export;
pub mod gdpr;
pub mod hex;
pub mod import;
pub mod integration;
pub mod lead;
pub mod listing;
pub mod merge;
pub mod new_contact;
pub mod note;
pub mod people;
pub mod ports;
pub mod retention;
pub mod search;
pub mod segment;
pub mod session;
pub mod usecases;
pub mod workspace;
