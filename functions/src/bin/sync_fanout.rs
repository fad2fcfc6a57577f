//! Lambda entry point for the sync fan-out (DynamoDB Streams event source mapping).

use aws_lambda_events::event::dynamodb::Event;
use contacts_functions::config::{self, Clients, SyncFanoutConfig};
use contacts_functions::crm_sync::fanout::handle;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let fanout = SyncFanoutConfig::from_env(config::process_env)?.build(&Clients::load().await);
    run(service_fn(|event: LambdaEvent<Event>| {
        let fanout = &fanout;
        async move { Box::pin(handle(fanout, event.payload)).await.map_err(Error::from) }
    }))
    .await
}
