//! Lambda entry point for the daily analytics rollup.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use contacts_functions::{analytics_rollup, config};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let store = config::store().await?;
    run(service_fn(|_: LambdaEvent<EventBridgeEvent>| {
        let store = &store;
        // Boxed: the handler's future is deep enough to pass the compiler's layout recursion limit inline.
        async move { Box::pin(analytics_rollup::handle(store)).await.map_err(Error::from) }
    }))
    .await
}
