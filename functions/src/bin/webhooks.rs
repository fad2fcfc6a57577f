//! Lambda entry point for the channel webhooks.

use contacts_functions::bot_cache::BotCache;
use contacts_functions::config;
use contacts_functions::webhooks::{handle, Webhooks};
use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let hooks = Webhooks { bots: BotCache::new(config::store().await?), queue: config::capture_queue().await? };
    run(service_fn(|req| handle(&hooks, req))).await
}
