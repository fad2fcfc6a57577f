//! Creates a workspace and an API key, against the configured DynamoDB (the local
//! emulator with AWS_ENDPOINT_URL, or AWS). Prints the key once; only its hash is kept.
//!
//!     TABLE_NAME=… [KEY_PEPPER=…] provision --workspace acme --name "Acme Inc" [--region US]
//!         [--key-name "CRM sync"] [--scopes read,write,admin,owner] [--bot-name "Sales bot" | --no-bot]
//!         [--key-pepper …] [--secrets-kms-key …] [--owner-email EMAIL]
//!     TABLE_NAME=… provision --reseal [--workspace acme] [--secrets-key …]
//!     TABLE_NAME=… provision --rotate-data-key --workspace acme
//!
//! With `--owner-email`, the workspace's first owner signs in to the dashboard with that
//! email and the password in `OWNER_PASSWORD` (else a random one, printed once); an email
//! that has a person already is left as it is.
//!
//! The key is hashed under the deployment's pepper (its `KeyPepper` parameter), given as
//! `KEY_PEPPER` or `--key-pepper` (the flag wins); the service refuses keys hashed under
//! any other. Against the emulator (AWS_ENDPOINT_URL set) it defaults to the local stack's
//! public pepper; against AWS it must be given. Likewise the bot's channel secrets are
//! sealed under the workspace's data key, which the stack's KMS key wraps: give it as
//! `SECRETS_KMS_KEY_ID` or `--secrets-kms-key` (the stack's output `SecretsKmsKeyAlias`);
//! against the emulator it defaults to `make dev`'s key, made if missing.
//!
//! `--reseal` seals every bot and integration (of one workspace, or of all) again under
//! KMS: the move from `SecretsKey`, whose value it then needs as `SECRETS_KEY` or
//! `--secrets-key` to open what was sealed under it. `--rotate-data-key` gives a workspace
//! a new data key (docs/security.md).

use contacts_functions::config::{self, Clients, TableConfig};
use contacts_tools::{bootstrap, provision, stack};
use model::auth::{ApiKeyRecord, KeyPepper, Scope};
use model::domain::{Region, WorkspaceId};
use store::{Secrets, SecretsKey};

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
    let emulator = config::process_env("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty());
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let kms_key = match flag("--secrets-kms-key").or_else(|| config::process_env("SECRETS_KMS_KEY_ID")) {
        Some(key) => key,
        None if emulator => {
            let keys =
                bootstrap::create_kms_keys(&kms, &[stack::SECRETS_KMS_KEY.to_string()], stack::DEV_PREFIX).await?;
            keys[stack::SECRETS_KMS_KEY].clone()
        }
        None => {
            return Err("give the stack's KMS key as SECRETS_KMS_KEY_ID (or --secrets-kms-key), e.g. \
                 alias/<stack>-secrets (the stack's output SecretsKmsKeyAlias): secrets are sealed under it"
                .into())
        }
    };
    let mut secrets = Secrets::new(kms, kms_key);
    if let Some(k) = flag("--secrets-key").or_else(|| config::process_env("SECRETS_KEY")) {
        secrets =
            secrets.opening_legacy(SecretsKey::from_hex(&k).map_err(|e| format!("--secrets-key / SECRETS_KEY: {e}"))?);
    }
    let store = TableConfig::from_env(config::process_env)
        .map_err(|e| e.to_string())?
        .build(&Clients::new(&sdk))
        .sealing_secrets(secrets);
    let workspace = flag("--workspace").map(|w| WorkspaceId::parse(&w).map_err(|e| e.to_string())).transpose()?;
    if args.iter().any(|a| a == "--reseal") {
        let workspaces = match workspace {
            Some(ws) => vec![ws],
            None => store.list_workspaces().await.map_err(|e| e.to_string())?,
        };
        let (bots, integrations) = provision::reseal(&store, &workspaces).await.map_err(|e| e.to_string())?;
        println!(
            "sealed again under KMS: {bots} bots and {integrations} integrations in {} workspaces",
            workspaces.len()
        );
        return Ok(());
    }
    let workspace = workspace.ok_or("--workspace ID is required (a-z, 0-9, -)")?;
    if args.iter().any(|a| a == "--rotate-data-key") {
        let version = store.rotate_data_key(&workspace).await.map_err(|e| e.to_string())?;
        println!("workspace {workspace}: new secrets are sealed under data key {version}; older ones still open");
        return Ok(());
    }
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
        None if emulator => stack::local_key_pepper(),
        None => return Err(
            "give the stack's KeyPepper as KEY_PEPPER (or --key-pepper): keys hashed under another pepper are refused"
                .into(),
        ),
    };
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
