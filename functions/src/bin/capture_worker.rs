//! Lambda entry point for the capture worker (SQS FIFO, ReportBatchItemFailures).

use aws_lambda_events::event::sqs::SqsEvent;
use contacts_functions::bot_cache::BotCache;
use contacts_functions::capture_worker::{handle, GraphProfiles, Worker};
use contacts_functions::config;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use model::capture::CaptureSettings;

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
        // Boxed: the handler's future is deep enough to pass the compiler's layout recursion limit inline.
        async move { Ok::<_, Error>(Box::pin(handle(worker, event.payload)).await) }
    }))
    .await
}
