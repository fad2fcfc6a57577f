//! How the local stack invokes a function, by the event that triggers it on AWS. The
//! server, the queue pollers and the schedules call these; `handlers` builds them.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::{Body, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// An HTTP function's handler, as the Lambda runtime would call it.
pub type HttpHandler = Arc<dyn Fn(Request) -> BoxFuture<Response<Body>> + Send + Sync>;
/// A queue consumer: a batch in, the batch item failures out.
pub type QueueHandler = Arc<dyn Fn(SqsEvent) -> BoxFuture<SqsBatchResponse> + Send + Sync>;
/// A scheduled job: a summary of what it did, or why it failed.
pub type JobHandler = Arc<dyn Fn() -> BoxFuture<Result<String, String>> + Send + Sync>;

/// A function, by how it is invoked.
#[derive(Clone)]
pub enum Local {
    Http(HttpHandler),
    Queue(QueueHandler),
    Job(JobHandler),
    Stream(crate::streams::StreamHandler),
}
