//! Lambda entry point for the channel webhooks.

use contacts_functions::config::{self, Clients, WebhooksConfig};
use contacts_functions::webhooks::handle;
use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    config::init_tracing();
    let hooks = WebhooksConfig::from_env(config::process_env)?.build(&Clients::load().await);
    run(service_fn(|req| handle(&hooks, req))).await
}
