//! Creates a workspace and an API key, against the configured DynamoDB (the local
//! emulator with AWS_ENDPOINT_URL, or AWS). Prints the key once; only its hash is kept.
//!
//!     TABLE_NAME=… [KEY_PEPPER=…] provision --workspace acme --name "Acme Inc" [--region US]
//!         [--key-name "CRM sync"] [--scopes read,write,admin,owner] [--bot-name "Sales bot" | --no-bot]
//!         [--key-pepper …] [--secrets-key …] [--owner-email EMAIL]
//!
//! With `--owner-email`, the workspace's first owner signs in to the dashboard with that
//! email and the password in `OWNER_PASSWORD` (else a random one, printed once); an email
//! that has a person already is left as it is.
//!
//! The key is hashed under the deployment's pepper (its `KeyPepper` parameter), given as
//! `KEY_PEPPER` or `--key-pepper` (the flag wins); the service refuses keys hashed under
//! any other. Against the emulator (AWS_ENDPOINT_URL set) it defaults to the local stack's
//! public pepper; against AWS it must be given. Likewise the bot's channel secrets are
//! sealed under the deployment's `SecretsKey`, given as `SECRETS_KEY` or `--secrets-key`.

use contacts_functions::config::{self, Clients, TableConfig};
use contacts_tools::{provision, stack};
use model::auth::{ApiKeyRecord, KeyPepper, Scope};
use model::domain::{Region, WorkspaceId};
use store::SecretsKey;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("provision: {e}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let workspace = flag("--workspace").ok_or("--workspace ID is required (a-z, 0-9, -)")?;
    let workspace = WorkspaceId::parse(&workspace).map_err(|e| e.to_string())?;
    let name = flag("--name").unwrap_or_else(|| workspace.to_string());
    let region = flag("--region").map(|r| r.parse::<Region>()).transpose().map_err(|e| e.to_string())?;
    let key_name = flag("--key-name").unwrap_or_else(|| "admin".to_string());
    let scopes = flag("--scopes")
        .unwrap_or_else(|| "read,write,admin,owner".to_string())
        .split(',')
        .map(|s| s.trim().parse::<Scope>().map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let pepper = match flag("--key-pepper").or_else(|| config::process_env("KEY_PEPPER")) {
        Some(p) => KeyPepper::new(&p).map_err(|e| format!("--key-pepper / KEY_PEPPER: {e}"))?,
        None if config::process_env("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty()) => stack::local_key_pepper(),
        None => return Err(
            "give the stack's KeyPepper as KEY_PEPPER (or --key-pepper): keys hashed under another pepper are refused"
                .into(),
        ),
    };
    let secrets = match flag("--secrets-key").or_else(|| config::process_env("SECRETS_KEY")) {
        Some(k) => SecretsKey::from_hex(&k).map_err(|e| format!("--secrets-key / SECRETS_KEY: {e}"))?,
        None if config::process_env("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty()) => stack::local_secrets_key(),
        None => {
            return Err(
                "give the stack's SecretsKey as SECRETS_KEY (or --secrets-key): bots' secrets are sealed with it"
                    .into(),
            )
        }
    };
    let store = TableConfig::from_env(config::process_env)
        .map_err(|e| e.to_string())?
        .build(&Clients::load().await)
        .sealing_secrets(secrets);
    let record = ApiKeyRecord { workspace_id: workspace.clone(), name: key_name, scopes: scopes.clone() };
    let key = provision::workspace_with_key(&store, &pepper, &name, region, &record, None)
        .await
        .map_err(|e| e.to_string())?;
    println!("workspace: {workspace}");
    println!("api key ({}): {}", scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","), key.expose_secret());
    if let Some(email) = flag("--owner-email") {
        // The password from OWNER_PASSWORD, else a new random one shown once.
        let password = config::process_env("OWNER_PASSWORD").unwrap_or_else(|| model::hex::random(12));
        if provision::owner(&store, &workspace, &email, &password).await? {
            println!("owner: {email} (sign in at /login to workspace {workspace}; password: {password})");
        } else {
            println!("owner: {email} is in the workspace already; nothing changed");
        }
    }
    if !args.iter().any(|a| a == "--no-bot") {
        let bot_name = flag("--bot-name").unwrap_or_else(|| "Default bot".to_string());
        let (bot, secrets) =
            provision::bot_with_secrets(&store, &workspace, &bot_name).await.map_err(|e| e.to_string())?;
        println!("bot: {bot} ({bot_name})");
        println!("  webhooks: /webhooks/{{telegram,messenger,whatsapp,frame,livechat}}/{bot}");
        for (what, secret) in secrets.0 {
            println!("  {what}: {secret}");
        }
        println!("  change them per channel with PATCH /api/v1/bots/{bot}");
    }
    println!("store these now: they are not shown again.");
    Ok(())
}
