//! The exports queue: a standard SQS queue that hands requested exports to the export
//! worker. Order does not matter; each message names one export by id, and the export's
//! record says what is left to do, so a redelivered message is harmless.

use crate::capture_queue::{sqs_error, QueueError};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct ExportQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl ExportQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        ExportQueue { client, url: url.into() }
    }

    pub async fn send<T: Serialize>(&self, message: &T) -> Result<(), QueueError> {
        let body = serde_json::to_string(message).map_err(|e| QueueError::Sqs(e.to_string()))?;
        self.client.send_message().queue_url(&self.url).message_body(body).send().await.map(|_| ()).map_err(sqs_error)
    }
}
