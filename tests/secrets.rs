//! Secrets at rest: envelope encryption under the stack's KMS key, one data key per
//! workspace (docs/security.md), against the emulator's DynamoDB and KMS.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_kms::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_kms::error::BoxError;
use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use contacts_tests::{endpoint, fresh_store, workspace};
use contacts_tools::{local, provision};
use model::bot::BotId;
use model::domain::WorkspaceId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use store::{Secrets, SecretsKey, Store};

/// The KMS operations a client sent, by name (`Decrypt`, `GenerateDataKey`).
#[derive(Debug, Clone, Default)]
struct KmsCalls(Arc<Mutex<HashMap<String, usize>>>);

impl KmsCalls {
    fn of(&self, operation: &str) -> usize {
        self.0.lock().unwrap().get(operation).copied().unwrap_or(0)
    }
}

impl Intercept for KmsCalls {
    fn name(&self) -> &'static str {
        "KmsCalls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default().to_string();
        *self.0.lock().unwrap().entry(operation).or_default() += 1;
        Ok(())
    }
}

async fn kms() -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&local::aws_config(&endpoint()).await)
}

/// Another function instance on the same table and KMS key (the one that wrapped `ws`'s data
/// key): its own cache, its calls counted.
async fn instance(store: &Store, ws: &WorkspaceId, legacy: Option<SecretsKey>) -> (Store, KmsCalls) {
    let calls = KmsCalls::default();
    let sdk = local::aws_config(&endpoint()).await;
    let config = aws_sdk_kms::config::Builder::from(&sdk).interceptor(calls.clone()).build();
    let mut secrets = Secrets::new(aws_sdk_kms::Client::from_conf(config), kms_key_of(store, ws).await);
    if let Some(key) = legacy {
        secrets = secrets.opening_legacy(key);
    }
    (Store::new(store.client().clone(), store.table_name()).sealing_secrets(secrets), calls)
}

async fn raw(store: &Store, pk: String, sk: &str) -> HashMap<String, AttributeValue> {
    let out = store
        .client()
        .get_item()
        .table_name(store.table_name())
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap();
    out.item.unwrap_or_default()
}

async fn data_key_item(store: &Store, ws: &WorkspaceId) -> HashMap<String, AttributeValue> {
    raw(store, store::keys::data_key_pk(ws), store::keys::DATA_KEY_SK).await
}

/// The KMS key that wrapped `ws`'s data key.
async fn kms_key_of(store: &Store, ws: &WorkspaceId) -> String {
    data_key_item(store, ws).await["kms_key"].as_s().unwrap().clone()
}

async fn sealed_channels(store: &Store, bot: &BotId) -> String {
    let item = raw(store, store::keys::bot_pk(bot), "BOT").await;
    item["channels_sealed"].as_s().unwrap().clone()
}

fn wrapped(item: &HashMap<String, AttributeValue>, version: &str) -> Vec<u8> {
    item["wrapped"].as_m().unwrap()[version].as_b().unwrap().as_ref().to_vec()
}

#[tokio::test]
async fn a_sealed_secret_is_not_in_the_table_and_opens_in_its_own_workspace_only() {
    let store = fresh_store().await;
    let (a, b) = (workspace(&store).await, workspace(&store).await);
    let (bot_a, secrets_a) = provision::bot_with_secrets(&store, &a, "A").await.unwrap();
    let (bot_b, _) = provision::bot_with_secrets(&store, &b, "B").await.unwrap();

    let sealed = sealed_channels(&store, &bot_a).await;
    assert!(sealed.starts_with("v2.1."), "sealed under the workspace's first data key: {sealed}");
    let item = format!("{:?}", raw(&store, store::keys::bot_pk(&bot_a), "BOT").await);
    for (what, secret) in &secrets_a.0 {
        assert!(!item.contains(secret.as_str()), "{what} is in the clear");
    }

    // Each workspace has its own data key, kept only wrapped by KMS under its workspace.
    let (keys_a, keys_b) = (data_key_item(&store, &a).await, data_key_item(&store, &b).await);
    assert_eq!(keys_a["current_version"].as_n().unwrap(), "1");
    assert_ne!(wrapped(&keys_a, "1"), wrapped(&keys_b, "1"));
    let unwrap = |context: &WorkspaceId| {
        let blob = Blob::new(wrapped(&keys_a, "1"));
        let context = context.to_string();
        async move { kms().await.decrypt().ciphertext_blob(blob).encryption_context("workspace", context).send().await }
    };
    let plain = unwrap(&a).await.expect("A's data key unwraps for A").plaintext.unwrap();
    assert_eq!(plain.as_ref().len(), 32, "AES-256");
    assert!(!format!("{keys_a:?}").contains(&base64::engine::general_purpose::STANDARD.encode(plain.as_ref())));
    assert!(unwrap(&b).await.is_err(), "A's wrapped key does not unwrap as B's");

    // A's sealed value moved onto B's bot opens neither there nor as anything else.
    store
        .client()
        .update_item()
        .table_name(store.table_name())
        .key("pk", AttributeValue::S(store::keys::bot_pk(&bot_b)))
        .key("sk", AttributeValue::S("BOT".into()))
        .update_expression("SET channels_sealed = :s")
        .expression_attribute_values(":s", AttributeValue::S(sealed))
        .send()
        .await
        .unwrap();
    assert!(store.get_bot(&bot_b).await.is_err(), "A's secrets do not open as B's bot");
    assert!(store.get_bot(&bot_a).await.unwrap().is_some());

    let without = Store::new(store.client().clone(), store.table_name());
    assert!(without.get_bot(&bot_a).await.is_err(), "without KMS a sealed bot does not read");
}

#[tokio::test]
async fn an_instance_unwraps_each_data_key_once_and_makes_one_only_for_a_workspace_without() {
    let store = fresh_store().await;
    let (a, b) = (workspace(&store).await, workspace(&store).await);
    let (bot_a, _) = provision::bot_with_secrets(&store, &a, "A").await.unwrap();

    let (writer, calls) = instance(&store, &a, None).await;
    let (bot_b, _) = provision::bot_with_secrets(&writer, &b, "B").await.unwrap();
    provision::bot_with_secrets(&writer, &b, "B2").await.unwrap();
    writer.get_bot(&bot_b).await.unwrap().unwrap();
    assert_eq!((calls.of("GenerateDataKey"), calls.of("Decrypt")), (1, 0), "B's first secret made its key");

    let (reader, calls) = instance(&store, &a, None).await;
    let reads = (0..20).map(|_| reader.get_bot(&bot_a));
    for bot in futures::future::join_all(reads).await {
        assert_eq!(bot.unwrap().unwrap().id, bot_a);
    }
    assert_eq!(reader.list_bots(&a).await.unwrap().len(), 1);
    provision::bot_with_secrets(&reader, &a, "A2").await.unwrap();
    assert_eq!(calls.of("Decrypt"), 1, "twenty concurrent reads, a list and a write: one unwrap");
    reader.get_bot(&bot_b).await.unwrap().unwrap();
    assert_eq!(calls.of("Decrypt"), 2, "another workspace, another key");
    assert_eq!(calls.of("GenerateDataKey"), 0, "both workspaces had one");
}

#[tokio::test]
async fn a_rotated_data_key_seals_new_values_and_the_old_ones_still_open() {
    let store = fresh_store().await;
    let ws = workspace(&store).await;
    let (old, _) = provision::bot_with_secrets(&store, &ws, "Old").await.unwrap();
    assert_eq!(store.rotate_data_key(&ws).await.unwrap(), 2);
    let (new, _) = provision::bot_with_secrets(&store, &ws, "New").await.unwrap();
    assert!(sealed_channels(&store, &old).await.starts_with("v2.1."));
    assert!(sealed_channels(&store, &new).await.starts_with("v2.2."));
    let keys = data_key_item(&store, &ws).await;
    assert_eq!(keys["current_version"].as_n().unwrap(), "2");

    let (reader, calls) = instance(&store, &ws, None).await;
    assert!(reader.get_bot(&old).await.unwrap().is_some() && reader.get_bot(&new).await.unwrap().is_some());
    assert_eq!(calls.of("Decrypt"), 2, "one unwrap per version");
    assert_eq!(provision::reseal(&reader, std::slice::from_ref(&ws)).await.unwrap(), (2, 0));
    assert!(sealed_channels(&store, &old).await.starts_with("v2.2."), "sealed again under the current key");
}

/// What the code before KMS wrote: `v1.` and base64 of a nonce and the AES-256-GCM box of
/// `plain` under `key_hex`, with `owner` as associated data.
fn legacy_sealed(key_hex: &str, plain: &[u8], owner: &str) -> String {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let bytes: Vec<u8> = (0..64).step_by(2).map(|i| u8::from_str_radix(&key_hex[i..i + 2], 16).unwrap()).collect();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &bytes).unwrap());
    let nonce = [7u8; 12];
    let mut sealed = plain.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(owner.as_bytes()), &mut sealed)
        .unwrap();
    let mut out = nonce.to_vec();
    out.extend(sealed);
    format!("v1.{}", base64::engine::general_purpose::STANDARD.encode(out))
}

#[tokio::test]
async fn values_sealed_before_kms_open_with_the_legacy_key_until_sealed_again_under_kms() {
    const LEGACY: &str = "10ca1000000000000000000000000000000000000000000000000000000005ec";
    let store = fresh_store().await;
    let ws = workspace(&store).await;
    let (bot, _) = provision::bot_with_secrets(&store, &ws, "Before KMS").await.unwrap();
    let channels = store.get_bot(&bot).await.unwrap().unwrap().channels;
    let v1 = legacy_sealed(LEGACY, &serde_json::to_vec(&channels).unwrap(), &bot.to_string());
    store
        .client()
        .update_item()
        .table_name(store.table_name())
        .key("pk", AttributeValue::S(store::keys::bot_pk(&bot)))
        .key("sk", AttributeValue::S("BOT".into()))
        .update_expression("SET channels_sealed = :s")
        .expression_attribute_values(":s", AttributeValue::S(v1))
        .send()
        .await
        .unwrap();

    let refused = store.get_bot(&bot).await.unwrap_err().to_string();
    assert!(refused.contains("SECRETS_KEY"), "without the legacy key: {refused}");
    let wrong = SecretsKey::from_hex(&"ab".repeat(32)).unwrap();
    assert!(instance(&store, &ws, Some(wrong)).await.0.get_bot(&bot).await.is_err(), "another legacy key");

    let (migrating, _) = instance(&store, &ws, Some(SecretsKey::from_hex(LEGACY).unwrap())).await;
    assert_eq!(migrating.get_bot(&bot).await.unwrap().unwrap().channels, channels);
    assert_eq!(provision::reseal(&migrating, std::slice::from_ref(&ws)).await.unwrap(), (1, 0));
    assert!(sealed_channels(&store, &bot).await.starts_with("v2.1."));
    assert_eq!(store.get_bot(&bot).await.unwrap().unwrap().channels, channels, "opens without the legacy key");
}
