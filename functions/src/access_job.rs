//! A person's access (portability) document, for the API and the dashboard. The request is
//! recorded first (`pending`). A document assembled within the request's time is its answer,
//! or past the answer's size limit is stored for a signed link; otherwise the jobs worker
//! writes it to the exports bucket, a page of messages at a time, and the record turns
//! `done`. Either way the document is the same stream of JSON: the contact, its notes and
//! possible duplicates, then its conversations one by one, so no run holds a whole history.

use crate::api::conversations::messages::MessageView;
use crate::api::exports::ExportSettings;
use crate::api::gdpr::access::{Document, HeldConversation};
use crate::bucket::{access_document_key, Bucket, StorageError, Upload};
use crate::capture_queue::QueueError;
use crate::http::Problem;
use crate::jobs::{GdprJobs, JobError, JobUnit};
use chrono::{SubsecRound, Utc};
use model::domain::{ContactId, WorkspaceId};
use model::export::{ExportError, Parts};
use model::gdpr::{AccessRequest, AccessStatus};
use model::usecases::gdpr;
use store::{Store, StoreError};

/// Conversations and messages read per call while the document is written.
const CONVERSATION_PAGE: u32 = 100;
const MESSAGE_PAGE: u32 = 500;

/// The most of a document a request holds (the API has 256 MB); a longer one goes to the
/// jobs worker however soon it was read.
const REQUEST_DOCUMENT_CAP: usize = 32 * 1024 * 1024;

/// How an access request was answered.
pub enum Answer {
    /// The document itself, small enough for the answer.
    Document(String),
    /// The document, stored: a signed link to it.
    Link(String),
    /// The jobs worker is writing it: the record, `pending`.
    Pending(AccessRequest),
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("document not stored: {0}")]
    Storage(String),
    #[error("access document not queued: {0}")]
    Queue(#[from] QueueError),
    #[error("the document outgrew the request")]
    TooLarge,
}

impl From<StorageError> for AccessError {
    fn from(e: StorageError) -> Self {
        AccessError::Storage(e.to_string())
    }
}

impl From<ExportError> for AccessError {
    fn from(e: ExportError) -> Self {
        AccessError::Storage(e.to_string())
    }
}

impl From<AccessError> for Problem {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Store(e) => e.into(),
            e => {
                tracing::error!(error = %e, "access document neither answered nor handed on");
                Problem::unavailable("the document could not be prepared; retry shortly")
            }
        }
    }
}

/// Answers an access request for contact `id`: records it, then writes the document within
/// the request's time, else hands it to the jobs worker.
pub async fn answer(
    store: &Store,
    exports: &ExportSettings,
    jobs: &GdprJobs,
    ws: &WorkspaceId,
    id: ContactId,
    requested_by: &str,
) -> Result<Answer, AccessError> {
    let request = gdpr::begin_access(store, ws, id, requested_by).await?;
    let inline = jobs.access_inline.to_std().unwrap_or_default();
    let mut document = Capped(Vec::new());
    let written = tokio::time::timeout(inline, write_document(store, ws, id, &mut document)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(AccessError::Store(StoreError::NotFound))) => return Err(StoreError::NotFound.into()),
        outcome => {
            // Out of time or room, or failed: the jobs worker repeats it (and SQS the worker).
            if let Ok(Err(e)) = outcome.as_ref().map(|r| r.as_ref().map_err(AccessError::to_string)) {
                tracing::warn!(workspace = %ws, request = %request.id, error = %e, "access document handed on");
            }
            let unit = JobUnit::AccessExport { workspace: ws.to_string(), request: request.id.clone() };
            jobs.queue.send(&[unit]).await?;
            tracing::info!(workspace = %ws, request = %request.id, "access document continues in the jobs worker");
            return Ok(Answer::Pending(request));
        }
    }
    let document = document.0;
    let bytes = document.len() as u64;
    let document = String::from_utf8(document).expect("serde_json writes UTF-8");
    if document.len() <= exports.access_inline_bytes {
        store.save_access_request(ws, &request.done(bytes, false, now())).await?;
        return Ok(Answer::Document(document));
    }
    let key = access_document_key(ws, id);
    exports.bucket.put_json(&key, document).await?;
    store.save_access_request(ws, &request.done(bytes, true, now())).await?;
    tracing::info!(workspace = %ws, contact = %id, bytes, "access document answered with a link");
    Ok(Answer::Link(link(exports, ws, id).await?))
}

/// A signed link to the contact's stored access document.
pub async fn link(exports: &ExportSettings, ws: &WorkspaceId, id: ContactId) -> Result<String, AccessError> {
    let disposition = format!("attachment; filename=\"contact-{id}-data.json\"");
    Ok(exports.bucket.download_url(&access_document_key(ws, id), &disposition, exports.link_expiry).await?)
}

/// The jobs worker's run of a pending access request: the document written to the exports
/// bucket in one multipart upload. A failed run leaves the request pending for SQS to
/// repeat; a contact erased meanwhile ends it `failed`, without a file.
pub async fn work(
    store: &Store,
    files: &Bucket,
    workspace: &str,
    request: &str,
) -> Result<(String, Option<JobUnit>), JobError> {
    let ws = WorkspaceId::parse(workspace).map_err(|e| JobError::Malformed(e.to_string()))?;
    let Some(pending) = store.get_access_request(&ws, request).await? else {
        return Err(JobError::Malformed(format!("no access request {request} in {ws}")));
    };
    if pending.status != AccessStatus::Pending {
        return Ok((format!("access request {request} already {}", pending.status.as_str()), None));
    }
    let id = ContactId(pending.contact_id);
    let key = access_document_key(&ws, id);
    let disposition = format!("attachment; filename=\"contact-{id}-data.json\"");
    let upload = files.start_upload(&key, "application/json", &disposition).await.map_err(AccessError::from)?;
    let mut parts = Parts::new(upload);
    let written = write_document(store, &ws, id, &mut parts).await;
    let (upload, bytes, _) = match written {
        Ok(()) => parts.finish().await.map_err(AccessError::from)?,
        Err(e) => {
            let upload_id = parts.sink().upload_id.clone();
            if let Err(abort) = files.abort_upload(&key, &upload_id).await {
                tracing::warn!(workspace = %ws, request, error = %abort, "access document upload not aborted");
            }
            return match e {
                AccessError::Store(StoreError::NotFound) => gone(store, &ws, pending).await,
                e => Err(e.into()),
            };
        }
    };
    upload.complete().await.map_err(AccessError::from)?;
    // An erasure that ran while the document was written deleted the file before it existed.
    if store.get_contact(&ws, id).await?.is_none() {
        files.delete(&key).await.map_err(AccessError::from)?;
        return gone(store, &ws, pending).await;
    }
    store.save_access_request(&ws, &pending.done(bytes, true, now())).await?;
    Ok((format!("access request {request} done ({bytes} bytes)"), None))
}

async fn gone(store: &Store, ws: &WorkspaceId, pending: AccessRequest) -> Result<(String, Option<JobUnit>), JobError> {
    let id = pending.id.clone();
    let failed = pending.failed("the contact was erased or merged into another before its document was written", now());
    store.save_access_request(ws, &failed).await?;
    Ok((format!("access request {id} failed: the contact is gone"), None))
}

fn now() -> chrono::DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// Where the document's bytes go: the answer's buffer or a multipart upload.
trait DocumentSink: Send {
    fn push(&mut self, bytes: &[u8]) -> impl std::future::Future<Output = Result<(), AccessError>> + Send;
}

/// The request's buffer, which refuses to grow past [`REQUEST_DOCUMENT_CAP`].
struct Capped(Vec<u8>);

impl DocumentSink for Capped {
    async fn push(&mut self, bytes: &[u8]) -> Result<(), AccessError> {
        if self.0.len() + bytes.len() > REQUEST_DOCUMENT_CAP {
            return Err(AccessError::TooLarge);
        }
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

impl DocumentSink for Parts<Upload> {
    async fn push(&mut self, bytes: &[u8]) -> Result<(), AccessError> {
        Parts::push(self, bytes).await?;
        Ok(())
    }
}

/// Writes everything held about contact `id` as one JSON [`Document`]: its head serialized
/// with no conversations, opened again, then each conversation with its messages a page at
/// a time.
async fn write_document(
    store: &Store,
    ws: &WorkspaceId,
    id: ContactId,
    out: &mut impl DocumentSink,
) -> Result<(), AccessError> {
    let contact = store.get_contact(ws, id).await?.ok_or(StoreError::NotFound)?;
    let notes = store.list_notes(ws, id).await?;
    let duplicates = store.duplicate_candidates(ws, id).await?;
    let integrations = store.contact_integrations(ws, id).await?;
    let head = Document::head(ws, now(), &contact, &notes, &duplicates, integrations);
    out.push(reopened(&head).as_bytes()).await?;
    let mut after = None;
    let mut first = true;
    loop {
        let (page, next) = store.list_conversations(ws, id, CONVERSATION_PAGE, after).await?;
        for conversation in page {
            if !first {
                out.push(b",").await?;
            }
            first = false;
            out.push(reopened(&HeldConversation::opening(&conversation)).as_bytes()).await?;
            write_messages(store, ws, &conversation.id, out).await?;
            out.push(b"]}").await?;
        }
        after = next;
        if after.is_none() {
            break;
        }
    }
    out.push(b"]}").await
}

/// `value` serialized with its last field, an empty list, open again for what follows.
fn reopened(value: &impl serde::Serialize) -> String {
    let mut json = serde_json::to_string(value).expect("documents serialize");
    assert!(json.ends_with("[]}"), "a document part ends with its list");
    json.truncate(json.len() - 2);
    json
}

async fn write_messages(
    store: &Store,
    ws: &WorkspaceId,
    conversation: &str,
    out: &mut impl DocumentSink,
) -> Result<(), AccessError> {
    let mut from = None;
    let mut first = true;
    loop {
        let (batch, more) = store.list_messages(ws, conversation, MESSAGE_PAGE, from).await?;
        let mut chunk = String::new();
        for message in &batch {
            if !first {
                chunk.push(',');
            }
            first = false;
            chunk.push_str(&serde_json::to_string(&MessageView::from(message)).expect("views serialize"));
        }
        out.push(chunk.as_bytes()).await?;
        from = more;
        if from.is_none() {
            return Ok(());
        }
    }
}
