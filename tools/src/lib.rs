//! Tools around the Lambdas: the local server that serves the SAM template's routes with
//! the real handler code, emulator bootstrap, provisioning and demo data.

pub mod bootstrap;
pub mod coldstart;
pub mod demo;
pub mod export_bench;
pub mod figures;
pub mod function;
pub mod handlers;
pub mod import_bench;
pub mod local;
pub mod provision;
pub mod reference;
pub mod runtime_api;
pub mod server;
pub mod stack;
pub mod streams;
pub mod template;
pub mod vendors;
