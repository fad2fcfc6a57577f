//! Standard SQS queues that hand background jobs (exports, retention runs) to their
//! workers. Order does not matter for these; each message names one job by id, and the
//! job's record says what is left to do, so a redelivered message is harmless.

use serde::Serialize;

#[derive(Debug, Clone)]
pub struct JobQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl JobQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        JobQueue { client, url: url.into() }
    }

    pub async fn send<T: Serialize>(&self, message: &T) -> Result<(), String> {
        let body = serde_json::to_string(message).map_err(|e| e.to_string())?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("SQS: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))
    }
}
