//! Creates on the emulator (or any account) the resources the template declares.

use crate::template::Table;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

/// Creates the table unless it exists, with the template's keys, indexes and TTL.
pub async fn create_table(client: &Client, spec: &Table, name: &str) -> Result<(), String> {
    let exists = client.describe_table().table_name(name).send().await.is_ok();
    if exists {
        return Ok(());
    }
    let keys = |elements: &[crate::template::KeyElement]| -> Vec<KeySchemaElement> {
        elements
            .iter()
            .map(|k| {
                KeySchemaElement::builder()
                    .attribute_name(&k.attribute)
                    .key_type(KeyType::from(k.key_type.as_str()))
                    .build()
                    .expect("key element")
            })
            .collect()
    };
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(keys(&spec.key_schema)));
    for (attr, kind) in &spec.attributes {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .expect("attribute"),
        );
    }
    for index in &spec.indexes {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(keys(&index.key_schema)))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(index.projection.as_str()))
                        .set_non_key_attributes(
                            (!index.non_key_attributes.is_empty()).then(|| index.non_key_attributes.clone()),
                        )
                        .build(),
                )
                .build()
                .expect("index"),
        );
    }
    if let Some(view) = &spec.stream_view {
        create = create.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view.as_str()))
                .build()
                .expect("stream specification"),
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
        Err(e) => return Err(format!("creating table {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e))),
    }
    if let Some(attr) = &spec.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name(attr).enabled(true).build().expect("ttl"),
            )
            .send()
            .await
            .map_err(|e| format!("enabling TTL on {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    }
    Ok(())
}

/// Creates the template's queues (dead-letter queues first, then those that redrive to
/// them); returns each queue's URL by logical id. Names are `{prefix}-{logical id}`.
pub async fn create_queues(
    sqs: &aws_sdk_sqs::Client,
    queues: &[crate::template::Queue],
    prefix: &str,
) -> Result<std::collections::HashMap<String, String>, String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let mut urls = std::collections::HashMap::new();
    let mut arns = std::collections::HashMap::new();
    let (plain, redriven): (Vec<_>, Vec<_>) = queues.iter().partition(|q| q.redrive.is_none());
    for queue in plain.into_iter().chain(redriven) {
        let name = format!("{prefix}-{}{}", queue.logical_id, if queue.fifo { ".fifo" } else { "" });
        let mut create = sqs.create_queue().queue_name(&name);
        if queue.fifo {
            create = create.attributes(QueueAttributeName::FifoQueue, "true");
        }
        if let Some(timeout) = queue.visibility_timeout {
            create = create.attributes(QueueAttributeName::VisibilityTimeout, timeout.to_string());
        }
        if let Some((dlq, max_receives)) = &queue.redrive {
            let arn: &String =
                arns.get(dlq).ok_or_else(|| format!("{} redrives to unknown queue {dlq}", queue.logical_id))?;
            let policy = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives}).to_string();
            create = create.attributes(QueueAttributeName::RedrivePolicy, policy);
        }
        let url = create
            .send()
            .await
            .map_err(|e| format!("creating queue {name}: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?
            .queue_url
            .ok_or("no queue URL")?;
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| format!("reading queue {name}: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let arn = attrs.attributes.and_then(|mut a| a.remove(&QueueAttributeName::QueueArn)).ok_or("no queue ARN")?;
        arns.insert(queue.logical_id.clone(), arn);
        urls.insert(queue.logical_id.clone(), url);
    }
    Ok(urls)
}

/// Creates the template's buckets, named `{prefix}-{logical id in lower case}`, with their
/// expiration rules (`days` resolves parameters); returns each bucket's name by logical id.
pub async fn create_buckets(
    s3: &aws_sdk_s3::Client,
    buckets: &[crate::template::Bucket],
    prefix: &str,
    days: impl Fn(&crate::template::EnvValue) -> Option<i32>,
) -> Result<std::collections::HashMap<String, String>, String> {
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    };
    let mut names = std::collections::HashMap::new();
    for bucket in buckets {
        let name = format!("{prefix}-{}", bucket.logical_id.to_lowercase());
        match s3.create_bucket().bucket(&name).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => {}
            Err(e) => return Err(format!("creating bucket {name}: {}", aws_sdk_s3::error::DisplayErrorContext(e))),
        }
        let mut rules = Vec::new();
        for (i, (prefix, value)) in bucket.expirations.iter().enumerate() {
            let days =
                days(value).ok_or_else(|| format!("{}: cannot resolve the expiration {value:?}", bucket.logical_id))?;
            rules.push(
                LifecycleRule::builder()
                    .id(format!("expire-{i}"))
                    .status(ExpirationStatus::Enabled)
                    .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
                    .expiration(LifecycleExpiration::builder().days(days).build())
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        if !rules.is_empty() {
            s3.put_bucket_lifecycle_configuration()
                .bucket(&name)
                .lifecycle_configuration(
                    BucketLifecycleConfiguration::builder()
                        .set_rules(Some(rules))
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await
                .map_err(|e| format!("lifecycle of bucket {name}: {}", aws_sdk_s3::error::DisplayErrorContext(e)))?;
        }
        names.insert(bucket.logical_id.clone(), name);
    }
    Ok(names)
}

/// The alias a template's KMS key has locally: `alias/{prefix}-{logical id}`.
pub fn kms_alias(prefix: &str, logical_id: &str) -> String {
    format!("alias/{prefix}-{logical_id}")
}

/// Creates the template's KMS keys (symmetric, for encryption), each with its local alias
/// ([`kms_alias`]), unless that alias exists: an emulator kept across runs keeps its keys,
/// and so what they sealed opens again. Returns each key's ARN by logical id.
pub async fn create_kms_keys(
    kms: &aws_sdk_kms::Client,
    keys: &[String],
    prefix: &str,
) -> Result<std::collections::HashMap<String, String>, String> {
    fn error(what: String, e: impl std::error::Error) -> String {
        format!("{what}: {}", aws_sdk_kms::error::DisplayErrorContext(e))
    }
    let mut arns = std::collections::HashMap::new();
    for logical_id in keys {
        let alias = kms_alias(prefix, logical_id);
        let existing = match kms.describe_key().key_id(&alias).send().await {
            Ok(found) => found.key_metadata.and_then(|k| k.arn),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found_exception()) => None,
            Err(e) => return Err(error(format!("reading key {alias}"), e)),
        };
        let arn = match existing {
            Some(arn) => arn,
            None => {
                let made = kms
                    .create_key()
                    .description(format!("{prefix} {logical_id}"))
                    .send()
                    .await
                    .map_err(|e| error(format!("creating key {logical_id}"), e))?;
                let key = made.key_metadata.ok_or("no key metadata")?;
                kms.create_alias()
                    .alias_name(&alias)
                    .target_key_id(&key.key_id)
                    .send()
                    .await
                    .map_err(|e| error(format!("naming key {alias}"), e))?;
                key.arn.ok_or("no key ARN")?
            }
        };
        arns.insert(logical_id.clone(), arn);
    }
    Ok(arns)
}
