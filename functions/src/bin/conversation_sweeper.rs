//! Lambda entry point for the scheduled idle-conversation sweep.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use contacts_functions::{config, conversation_sweeper};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let store = config::store().await?;
    let idle = config::conversation_idle()?;
    run(service_fn(|_: LambdaEvent<EventBridgeEvent>| {
        let store = &store;
        // Boxed: the handler's future is deep enough to pass the compiler's layout recursion limit inline.
        async move { Box::pin(conversation_sweeper::handle(store, idle)).await.map_err(Error::from) }
    }))
    .await
}
