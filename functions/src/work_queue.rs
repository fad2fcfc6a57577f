//! A queue of work for a worker: a standard SQS queue that hands requested exports to the
//! export worker, and started imports to the import worker. Order does not matter; each
//! message names one export or import by id, and its record says what is left to do, so
//! a redelivered message is harmless.

use crate::capture_queue::{sqs_error, QueueError};
use serde::Serialize;

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
