//! Creates on the emulator (or any account) the resources the template declares.

use crate::template::Table;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
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
            .map(|k| KeySchemaElement::builder().attribute_name(&k.attribute).key_type(KeyType::from(k.key_type.as_str())).build().expect("key element"))
            .collect()
    };
    let mut create = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest).set_key_schema(Some(keys(&spec.key_schema)));
    for (attr, kind) in &spec.attributes {
        create = create.attribute_definitions(
            AttributeDefinition::builder().attribute_name(attr).attribute_type(ScalarAttributeType::from(kind.as_str())).build().expect("attribute"),
        );
    }
    for index in &spec.indexes {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(keys(&index.key_schema)))
                .projection(Projection::builder().projection_type(ProjectionType::from(index.projection.as_str())).build())
                .build()
                .expect("index"),
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
            .time_to_live_specification(TimeToLiveSpecification::builder().attribute_name(attr).enabled(true).build().expect("ttl"))
            .send()
            .await
            .map_err(|e| format!("enabling TTL on {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    }
    Ok(())
}
