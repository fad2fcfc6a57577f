//! Lambda entry point for the scheduled purge of deleted contacts.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use contacts_functions::{config, contact_purger};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let store = config::store().await?;
    run(service_fn(|_: LambdaEvent<EventBridgeEvent>| {
        let store = &store;
        async move { contact_purger::handle(store).await.map_err(Error::from) }
    }))
    .await
}
