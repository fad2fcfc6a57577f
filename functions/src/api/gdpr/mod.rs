//! Data-subject requests: access (everything held about one person, as one JSON
//! document) and erasure (purge now, remove exports that may hold them, keep a receipt).

pub mod access;
pub mod erasure;
