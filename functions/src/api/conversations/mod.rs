//! `/api/v1/conversations`.

pub mod messages;
