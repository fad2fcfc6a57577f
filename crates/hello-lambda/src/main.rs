//! The hello-world of the cold-start bench: lambda_runtime's own loop around a handler that
//! returns its event. No tracing subscriber, no AWS SDK, no configuration: what a Rust Lambda
//! costs before any code of ours runs. Same runtime crate, features and release profile as the
//! functions, so the difference is our init (SDK clients, config, tracing) and our binary size.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<Value, Error>(event.payload) })).await
}
