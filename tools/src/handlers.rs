//! The in-process handler of every Lambda binary that serves HTTP routes.

use crate::server::Handler;
use contacts::store::Store;
use contacts_functions::api;
use std::collections::HashMap;
use std::sync::Arc;

/// Handlers keyed by the binary name the template gives each function.
/// `expose_usage` adds each response's DynamoDB usage as a `Server-Timing` header.
pub fn http_handlers(store: &Store, expose_usage: bool) -> HashMap<&'static str, Handler> {
    let contacts_api = Arc::new(api::Api { expose_usage, ..api::Api::new(store.clone()) });
    let mut handlers: HashMap<&'static str, Handler> = HashMap::new();
    handlers.insert(
        "contacts-api",
        Arc::new(move |req| {
            let api = contacts_api.clone();
            Box::pin(async move {
                match api::handle(&api, req).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            })
        }),
    );
    handlers
}
