//! Lambda entry point for the capture worker (SQS FIFO, ReportBatchItemFailures).

// The SDK futures nest deeply inside the runtime's; the default limit is too low for their layout.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::SqsEvent;
use contacts::store::CaptureSettings;
use contacts_functions::bots::BotCache;
use contacts_functions::capture_worker::{handle, GraphProfiles, Worker};
use contacts_functions::config;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let store = config::store().await?;
    let worker = Worker {
        bots: BotCache::new(store.clone()),
        store,
        settings: CaptureSettings { idle: config::conversation_idle()? },
        profiles: GraphProfiles::new(config::graph_api_base()),
    };
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = &worker;
        async move { Ok::<_, Error>(handle(worker, event.payload).await) }
    }))
    .await
}
