//! `make dev`: the whole service on http://127.0.0.1:3000 against a local AWS emulator.
//!
//! Starts the emulator (unless AWS_ENDPOINT_URL names one), creates the resources the
//! SAM template declares, provisions the demo workspace with DEV_API_KEY, loads demo
//! contacts, connects it to local stand-ins of HubSpot, Salesforce, Zoho CRM and a webhook
//! receiver, and serves every route of the template with the Lambdas' handler code.
//! Stops everything it started on SIGINT, SIGTERM, or when its parent goes away.

use contacts_tools::vendors::LocalVendors;
use contacts_tools::{demo, local, provision, server, stack, template};
use model::auth::{ApiKey, ApiKeyRecord, Scope};
use model::domain::WorkspaceId;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_DEV_API_KEY: &str = "abc_dev_local_demo_key_do_not_use_in_prod";
/// The demo workspace's owner, for signing in to the dashboard (README.md).
const DEMO_OWNER_EMAIL: &str = "owner@demo.example";
const DEFAULT_OWNER_PASSWORD: &str = "demo-owner-password";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,aws_config=warn,aws_smithy_runtime=warn".into()),
        )
        .json()
        .init();
    // Signals are handled from the first moment: a Ctrl-C while the demo data loads still
    // drops `run` and with it the emulator's handle, which kills the emulator.
    let outcome = tokio::select! {
        outcome = run() => outcome,
        () = stop_signal() => Ok(()),
    };
    match outcome {
        Ok(()) => eprintln!("dev: stopped"),
        Err(e) => {
            eprintln!("dev: {e}");
            std::process::exit(1);
        }
    }
}

async fn run() -> Result<(), String> {
    let port: u16 = env_or("PORT", "3000").parse().map_err(|_| "PORT must be a port number")?;
    let (endpoint, _emulator) = match std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.is_empty()) {
        Some(url) => (url, None),
        None => {
            let emulator_port: u16 =
                env_or("EMULATOR_PORT", "4566").parse().map_err(|_| "EMULATOR_PORT must be a port number")?;
            let moto = PathBuf::from(env_or("MOTO_SERVER", ".venv/bin/moto_server"));
            let child = local::start_emulator(&moto, emulator_port).await?;
            (format!("http://127.0.0.1:{emulator_port}"), Some(child))
        }
    };
    let sdk = local::aws_config(&endpoint).await;
    let template = template::Template::load(&template::default_path()).map_err(|e| e.to_string())?;
    let table = env_or("TABLE_NAME", "ai-bot-contacts-local");
    let mut overrides = HashMap::new();
    for name in ["CONVERSATION_IDLE_MINUTES", "GRAPH_API_BASE"] {
        if let Ok(v) = std::env::var(name) {
            overrides.insert(name.to_string(), v);
        }
    }
    let options = stack::StackOptions {
        table: table.clone(),
        queue_prefix: stack::DEV_PREFIX.into(),
        expose_usage: true,
        overrides,
        retry_after: Duration::from_secs(5),
    };
    let stack = stack::start(&sdk, &template, options).await.map_err(|e| e.to_string())?;
    let store = &stack.store;

    let workspace = WorkspaceId::parse("demo").expect("valid id");
    let key =
        ApiKey::from_secret(&env_or("DEV_API_KEY", DEFAULT_DEV_API_KEY)).map_err(|e| format!("DEV_API_KEY: {e}"))?;
    let record = ApiKeyRecord { workspace_id: workspace.clone(), name: "dev".into(), scopes: Scope::ALL.to_vec() };
    // Hashed under the pepper the local stack gives its functions.
    provision::workspace_with_key(
        store,
        &stack::local_key_pepper(),
        "Demo workspace",
        None,
        &record,
        Some(key.clone()),
    )
    .await
    .map_err(|e| e.to_string())?;
    let owner_password = env_or("DEMO_OWNER_PASSWORD", DEFAULT_OWNER_PASSWORD);
    provision::owner(store, &workspace, DEMO_OWNER_EMAIL, &owner_password).await?;
    let count: u64 = env_or("DEMO_CONTACTS", "300").parse().map_err(|_| "DEMO_CONTACTS must be a number")?;
    let loaded = demo::load_if_empty(store, &workspace, count).await.map_err(|e| e.to_string())?;
    let bot = demo::bot_if_missing(store, &workspace).await.map_err(|e| e.to_string())?;
    let visitors: u64 = env_or("DEMO_VISITORS", "15").parse().map_err(|_| "DEMO_VISITORS must be a number")?;
    demo::conversations_if_empty(store, &bot, visitors).await.map_err(|e| e.to_string())?;
    let vendor_port: u16 = env_or("VENDOR_PORT", "4010").parse().map_err(|_| "VENDOR_PORT must be a port number")?;
    let vendors = LocalVendors::start(vendor_port).await;
    if let Some(secret) = demo::integrations_if_missing(store, &workspace, &vendors).await.map_err(|e| e.to_string())? {
        vendors.webhooks.set_secret(&secret);
    }

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    eprintln!("AI Bot Contacts is running on http://127.0.0.1:{port}  (emulator {endpoint}, table {table}, {loaded} demo contacts loaded)");
    eprintln!("  routes:   {}", stack.router.route_keys().join(" | "));
    eprintln!("  workers:  capture queue polled; schedules tick at their template rates");
    eprintln!("  sign in:  http://127.0.0.1:{port}/login as workspace `demo`, {DEMO_OWNER_EMAIL} (owner), password from DEMO_OWNER_PASSWORD (default `{DEFAULT_OWNER_PASSWORD}`)");
    eprintln!("  demo bot: {bot} (webhook secrets: {})", demo::BOT_SECRET);
    eprintln!(
        "  CRMs:     local HubSpot {}, Salesforce {}, Zoho {}, webhook receiver {} (GET /_local on each: what arrived)",
        vendors.hubspot.base(),
        vendors.salesforce.base(),
        vendors.zoho.base(),
        vendors.webhooks.url()
    );
    eprintln!(
        "  try:      curl -H 'Authorization: Bearer {}' http://127.0.0.1:{port}/api/v1/contacts",
        key.expose_secret()
    );
    let router = stack.router.clone();
    server::serve(listener, router, std::future::pending()).await;
    Ok(())
}

/// SIGINT, SIGTERM, or the parent (make, a supervisor) exiting.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let parent = std::os::unix::process::parent_id();
    let orphaned = async move {
        while std::os::unix::process::parent_id() == parent {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        () = orphaned => {}
    }
}
