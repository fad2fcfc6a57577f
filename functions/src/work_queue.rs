//! A queue of work for a worker: a standard SQS queue that hands requested exports to the
//! export worker, and started imports to the import worker. Order does not matter; each
//! message names one export or import by id, and its record says what is left to do, so
//! a redelivered message is harmless.

use crate::capture_queue::{sqs_error, QueueError};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde::Serialize;
use std::fmt::Display;
use std::future::Future;
use store::meter::metered;

#[derive(Debug, Clone)]
pub struct WorkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl WorkQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        WorkQueue { client, url: url.into() }
    }

    pub async fn send<T: Serialize>(&self, message: &T) -> Result<(), QueueError> {
        let body = serde_json::to_string(message).map_err(|e| QueueError::Sqs(e.to_string()))?;
        self.client.send_message().queue_url(&self.url).message_body(body).send().await.map(|_| ()).map_err(sqs_error)
    }
}

/// A worker's batch: `process` runs on each message, metered and logged as `what` (an
/// export, an import); a message that failed is reported for SQS to deliver again, the
/// others are done.
pub async fn each_message<'a, E: Display, Fut>(
    event: &'a SqsEvent,
    what: &str,
    process: impl Fn(&'a SqsMessage) -> Fut,
) -> SqsBatchResponse
where
    Fut: Future<Output = Result<&'static str, E>>,
{
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let (result, usage) = metered(process(record)).await;
        match result {
            Ok(outcome) => tracing::info!(message = %id, outcome, ddb_calls = usage.calls, "{what} handled"),
            Err(e) => {
                tracing::error!(message = %id, error = %e, "{what} attempt failed; it will be retried");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}
