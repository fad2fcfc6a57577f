//! The table's stream read the way a Lambda event source mapping reads it: each shard from
//! its trim horizon, in order, in batches of the template's size; a batch the function
//! fails is delivered again, whole, up to the retry limit, and then described on the
//! failure destination queue, as Lambda does (`DDBStreamBatchInfo`).
//!
//! Locally the mapping's `FilterCriteria` are not applied: the function receives every
//! record and ignores those it does not count, so the result is the same.

use crate::function::BoxFuture;
use aws_lambda_events::event::dynamodb::{Event, EventRecord, StreamRecord};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use chrono::{TimeZone, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// A stream consumer: a batch in; an error has the batch delivered again.
pub type StreamHandler = Arc<dyn Fn(Event) -> BoxFuture<Result<(), String>> + Send + Sync>;

/// How the local mapping delivers batches (the template's event source properties).
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Start at the stream's newest record (`LATEST`) rather than its oldest (`TRIM_HORIZON`).
    pub from_latest: bool,
    pub batch_size: usize,
    pub max_retries: u32,
    /// The failure destination's queue URL.
    pub on_failure: Option<String>,
    /// Wait before delivering a failed batch again (Lambda backs off for seconds).
    pub retry_after: Duration,
}

/// How far a follower has read: the number of polls that found nothing new, so a caller
/// can wait for one that started after its own writes.
#[derive(Clone)]
pub struct Progress {
    empty_polls: watch::Receiver<u64>,
    wake: Arc<Notify>,
}

impl Progress {
    /// Returns once every record written before the call has been handed to the function
    /// (and its batch finished): two polls that came back empty, the second of which started
    /// after the call. Wakes an idle follower rather than waiting for its next poll.
    pub async fn settled(&self) {
        let mut rx = self.empty_polls.clone();
        let start = *rx.borrow_and_update();
        while *rx.borrow_and_update() < start + 2 {
            self.wake.notify_one();
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

/// How often an idle follower polls a shard (Lambda: four times a second).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// How often the list of shards is read again.
const DESCRIBE_EVERY: Duration = Duration::from_secs(5);

/// Follows the stream of `table` until the task is aborted.
pub async fn follow(
    sdk: &aws_config::SdkConfig,
    dynamodb: &aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    table: &str,
    mapping: Mapping,
    handler: StreamHandler,
) -> Result<(Progress, tokio::task::JoinHandle<()>), String> {
    let described = dynamodb.describe_table().table_name(table).send().await.map_err(|e| e.to_string())?;
    let arn =
        described.table.and_then(|t| t.latest_stream_arn).ok_or_else(|| format!("table {table} has no stream"))?;
    let client = Client::new(sdk);
    let (tx, rx) = watch::channel(0u64);
    let wake = Arc::new(Notify::new());
    let woken = wake.clone();
    let task = tokio::spawn(async move {
        let follower = Follower { client, sqs, arn, mapping, handler, empty_polls: tx, wake: woken };
        follower.run().await;
    });
    Ok((Progress { empty_polls: rx, wake }, task))
}

/// Records that a [`Recorder`] has been handed so far.
pub type Recorded = Arc<std::sync::Mutex<Vec<EventRecord>>>;

/// A follower that keeps the records instead of handing them to a function (benchmarks and
/// tests count them later, as they choose).
pub struct Recorder {
    pub records: Recorded,
    pub progress: Progress,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    /// Follows `table` from its oldest record, or from its newest (`from_latest`: only what
    /// is written from now on); returns once it reads.
    pub async fn start(
        sdk: &aws_config::SdkConfig,
        dynamodb: &aws_sdk_dynamodb::Client,
        table: &str,
        from_latest: bool,
    ) -> Result<Recorder, String> {
        let records: Recorded = Arc::default();
        let sink = records.clone();
        let handler: StreamHandler = Arc::new(move |event: Event| {
            sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend(event.records);
            Box::pin(async { Ok(()) })
        });
        let mapping =
            Mapping { from_latest, batch_size: 100, max_retries: 0, on_failure: None, retry_after: Duration::ZERO };
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let (progress, task) = follow(sdk, dynamodb, sqs, table, mapping, handler).await?;
        progress.settled().await;
        Ok(Recorder { records, progress, task })
    }

    /// Every record written before the call, and stops.
    pub async fn finish(self) -> Vec<EventRecord> {
        self.progress.settled().await;
        self.task.abort();
        let records = std::mem::take(&mut *self.records.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        records
    }
}

struct Follower {
    client: Client,
    sqs: aws_sdk_sqs::Client,
    arn: String,
    mapping: Mapping,
    handler: StreamHandler,
    empty_polls: watch::Sender<u64>,
    wake: Arc<Notify>,
}

impl Follower {
    async fn run(&self) {
        // Shard iterators by shard id (moto keeps one shard per table).
        let mut iterators: HashMap<String, Option<String>> = HashMap::new();
        let mut shards = Vec::new();
        let mut described = tokio::time::Instant::now() - DESCRIBE_EVERY;
        loop {
            if described.elapsed() >= DESCRIBE_EVERY {
                match self.shards().await {
                    Ok(ids) => (shards, described) = (ids, tokio::time::Instant::now()),
                    Err(e) => tracing::warn!(error = %e, "stream not described"),
                }
            }
            match self.poll(&shards, &mut iterators).await {
                Ok(0) => {
                    self.empty_polls.send_modify(|n| *n += 1);
                    tokio::select! {
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                        _ = self.wake.notified() => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "stream poll failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    async fn shards(&self) -> Result<Vec<String>, String> {
        let stream = self.client.describe_stream().stream_arn(&self.arn).send().await.map_err(|e| e.to_string())?;
        Ok(stream
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.shard_id)
            .collect())
    }

    /// Reads one batch from each shard and hands it over; returns how many records it read.
    async fn poll(&self, shards: &[String], iterators: &mut HashMap<String, Option<String>>) -> Result<usize, String> {
        let mut read = 0;
        for shard_id in shards {
            let iterator = match iterators.get(shard_id) {
                Some(Some(it)) => it.clone(),
                Some(None) => continue, // closed and read to the end
                None => self
                    .client
                    .get_shard_iterator()
                    .stream_arn(&self.arn)
                    .shard_id(shard_id)
                    .shard_iterator_type(if self.mapping.from_latest {
                        ShardIteratorType::Latest
                    } else {
                        ShardIteratorType::TrimHorizon
                    })
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .shard_iterator
                    .ok_or("no shard iterator")?,
            };
            let out = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(self.mapping.batch_size as i32)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let records = out.records.unwrap_or_default();
            read += records.len();
            if !records.is_empty() {
                self.deliver(shard_id, records).await;
            }
            iterators.insert(shard_id.clone(), out.next_shard_iterator);
        }
        Ok(read)
    }

    /// Hands a batch to the function until it succeeds or the retries run out.
    async fn deliver(&self, shard_id: &str, records: Vec<Record>) {
        let mut event = Event::default();
        event.records = records.iter().map(|r| lambda_record(r, &self.arn)).collect();
        for attempt in 0..=self.mapping.max_retries {
            match (self.handler)(event.clone()).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, records = records.len(), "stream batch failed");
                    tokio::time::sleep(self.mapping.retry_after).await;
                }
            }
        }
        self.on_failure(shard_id, &event).await;
    }

    /// What Lambda sends the failure destination: where the batch lies in the stream.
    async fn on_failure(&self, shard_id: &str, event: &Event) {
        let Some(url) = &self.mapping.on_failure else { return };
        let sequence = |r: Option<&EventRecord>| r.and_then(|r| r.change.sequence_number.clone());
        let body = serde_json::json!({
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": self.mapping.max_retries + 1},
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": sequence(event.records.first()),
                "endSequenceNumber": sequence(event.records.last()),
                "batchSize": event.records.len(),
                "streamArn": self.arn,
            }
        });
        if let Err(e) = self.sqs.send_message().queue_url(url).message_body(body.to_string()).send().await {
            tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "stream batch lost: failure destination unreachable");
        }
    }
}

/// A stream record as Lambda hands it to a function.
fn lambda_record(r: &Record, stream_arn: &str) -> EventRecord {
    let mut record = EventRecord::default();
    record.event_id = r.event_id.clone().unwrap_or_default();
    record.event_name = r.event_name.as_ref().map(|n| n.as_str().to_string()).unwrap_or_default();
    record.event_source = Some("aws:dynamodb".into());
    record.event_version = r.event_version.clone();
    record.event_source_arn = Some(stream_arn.to_string());
    record.aws_region = r.aws_region.clone().unwrap_or_default();
    let mut change = StreamRecord::default();
    if let Some(d) = &r.dynamodb {
        let item = |m: &Option<HashMap<String, AttributeValue>>| {
            serde_dynamo::Item::from(
                m.iter().flatten().map(|(k, v)| (k.clone(), attribute(v))).collect::<HashMap<_, _>>(),
            )
        };
        change.keys = item(&d.keys);
        change.new_image = item(&d.new_image);
        change.old_image = item(&d.old_image);
        change.sequence_number = d.sequence_number.clone();
        change.size_bytes = d.size_bytes.unwrap_or_default();
        if let Some(at) = d.approximate_creation_date_time.and_then(|t| Utc.timestamp_opt(t.secs(), 0).single()) {
            change.approximate_creation_date_time = at;
        }
    }
    record.change = change;
    record
}

fn attribute(v: &AttributeValue) -> serde_dynamo::AttributeValue {
    use serde_dynamo::AttributeValue as Out;
    match v {
        AttributeValue::S(s) => Out::S(s.clone()),
        AttributeValue::N(n) => Out::N(n.clone()),
        AttributeValue::Bool(b) => Out::Bool(*b),
        AttributeValue::Null(b) => Out::Null(*b),
        AttributeValue::B(b) => Out::B(b.clone().into_inner()),
        AttributeValue::Ss(v) => Out::Ss(v.clone()),
        AttributeValue::Ns(v) => Out::Ns(v.clone()),
        AttributeValue::Bs(v) => Out::Bs(v.iter().map(|b| b.clone().into_inner()).collect()),
        AttributeValue::L(v) => Out::L(v.iter().map(attribute).collect()),
        AttributeValue::M(m) => Out::M(m.iter().map(|(k, v)| (k.clone(), attribute(v))).collect()),
        _ => Out::Null(true),
    }
}
