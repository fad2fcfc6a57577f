//! Lambda entry point for the stream consumer (DynamoDB Streams event source mapping).

use aws_lambda_events::event::dynamodb::Event;
use contacts_functions::config::{self, Clients, TableConfig};
use contacts_functions::stream_counters::handle;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    // Each batch counts its days in its workspaces' time zones: read once a minute.
    let store = TableConfig::from_env(config::process_env)?
        .build(&Clients::load().await)
        .caching_settings(std::time::Duration::from_secs(60));
    run(service_fn(|event: LambdaEvent<Event>| {
        let store = &store;
        // Boxed: the handler's future is deep enough to pass the compiler's layout recursion limit inline.
        async move { Box::pin(handle(store, event.payload)).await.map_err(Error::from) }
    }))
    .await
}
