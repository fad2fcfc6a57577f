//! `make openapi`: writes the API's OpenAPI document to `docs/openapi.json`, where
//! `tests/openapi.rs` holds it to what the code generates.

use std::path::Path;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    if let Err(e) = std::fs::write(&path, contacts_functions::api::openapi::document_json()) {
        eprintln!("openapi: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
    eprintln!("openapi: wrote {}", path.display());
}
