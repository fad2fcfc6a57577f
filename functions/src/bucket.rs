//! The exports and imports buckets: export files uploaded in parts, downloaded through
//! presigned links, deleted on erasure; imported files uploaded through presigned links
//! and read back by the import worker. The only code that talks to S3.

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use model::domain::{ContactId, WorkspaceId};
use model::export::Export;
use model::export::{ExportError, PartSink, UploadedPart};
use model::usecases::gdpr::{ExportFiles, FileError};
use std::time::Duration;

/// S3 refused or could not be reached; the message has the whole chain of causes.
#[derive(Debug, thiserror::Error)]
#[error("S3: {0}")]
pub struct StorageError(String);

fn s3_error<E: std::error::Error + 'static>(e: E) -> StorageError {
    StorageError(aws_sdk_s3::error::DisplayErrorContext(e).to_string())
}

/// An S3 client for `sdk`. Emulators serve buckets by path (`http://host/bucket/key`),
/// not as subdomains, so an explicit endpoint switches to path-style addressing.
pub fn client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
    aws_sdk_s3::Client::from_conf(config)
}

#[derive(Debug, Clone)]
pub struct Bucket {
    client: aws_sdk_s3::Client,
    name: String,
}

impl Bucket {
    pub fn new(client: aws_sdk_s3::Client, name: impl Into<String>) -> Self {
        Bucket { client, name: name.into() }
    }

    /// Starts a multipart upload of a file that downloads as `content_disposition`.
    pub async fn start_upload(
        &self,
        key: &str,
        content_type: &str,
        content_disposition: &str,
    ) -> Result<Upload, StorageError> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.name)
            .key(key)
            .content_type(content_type)
            .content_disposition(content_disposition)
            .send()
            .await
            .map_err(s3_error)?;
        let upload_id = out.upload_id.ok_or_else(|| StorageError("no upload id in the answer".into()))?;
        Ok(Upload { bucket: self.clone(), key: key.to_string(), upload_id, parts: Vec::new() })
    }

    /// Goes on with a multipart upload of which `parts` are uploaded already.
    pub fn resume_upload(&self, key: &str, upload_id: &str, parts: &[UploadedPart]) -> Upload {
        let parts =
            parts.iter().map(|p| CompletedPart::builder().part_number(p.number).e_tag(&p.etag).build()).collect();
        Upload { bucket: self.clone(), key: key.to_string(), upload_id: upload_id.to_string(), parts }
    }

    /// Stores a small object whole (an export's carry between runs of the worker).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let put = self.client.put_object().bucket(&self.name).key(key).body(ByteStream::from(bytes));
        put.send().await.map(|_| ()).map_err(s3_error)
    }

    /// Stores a JSON document whole.
    pub async fn put_json(&self, key: &str, json: String) -> Result<(), StorageError> {
        let put = self.client.put_object().bucket(&self.name).key(key).content_type("application/json");
        put.body(ByteStream::from(json.into_bytes())).send().await.map(|_| ()).map_err(s3_error)
    }

    /// Reads an object whole.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let out = self.client.get_object().bucket(&self.name).key(key).send().await.map_err(s3_error)?;
        let body = out.body.collect().await.map_err(|e| StorageError(e.to_string()))?;
        Ok(body.into_bytes().to_vec())
    }

    /// The object's size, or `None` when there is no such object.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, StorageError> {
        match self.client.head_object().bucket(&self.name).key(key).send().await {
            Ok(out) => Ok(Some(out.content_length.unwrap_or_default().max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(e) => Err(s3_error(e)),
        }
    }

    /// The object's first `bytes` bytes (all of a smaller one).
    pub async fn head_bytes(&self, key: &str, bytes: usize) -> Result<Vec<u8>, StorageError> {
        let range = format!("bytes=0-{}", bytes.saturating_sub(1));
        let out = self.client.get_object().bucket(&self.name).key(key).range(range).send().await.map_err(s3_error)?;
        let body = out.body.collect().await.map_err(|e| StorageError(e.to_string()))?;
        Ok(body.into_bytes().to_vec())
    }

    /// Streams an object into `file` (rewound to its start), chunk by chunk.
    pub async fn download(&self, key: &str, file: &mut std::fs::File) -> Result<u64, StorageError> {
        use std::io::{Seek, Write};
        let out = self.client.get_object().bucket(&self.name).key(key).send().await.map_err(s3_error)?;
        let mut body = out.body;
        let mut size = 0;
        let io = |e: std::io::Error| StorageError(format!("writing the download: {e}"));
        while let Some(chunk) = body.try_next().await.map_err(|e| StorageError(e.to_string()))? {
            file.write_all(&chunk).map_err(io)?;
            size += chunk.len() as u64;
        }
        file.flush().map_err(io)?;
        file.rewind().map_err(io)?;
        Ok(size)
    }

    /// A PUT link that uploads the object at `key` for `expires_in`, without credentials.
    pub async fn upload_url(&self, key: &str, expires_in: Duration) -> Result<String, StorageError> {
        let config = PresigningConfig::expires_in(expires_in).map_err(|e| StorageError(e.to_string()))?;
        let request = self.client.put_object().bucket(&self.name).key(key).presigned(config).await.map_err(s3_error)?;
        Ok(request.uri().to_string())
    }

    /// Drops the parts of an upload that will not be completed (a crashed attempt's).
    pub async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), StorageError> {
        match self.client.abort_multipart_upload().bucket(&self.name).key(key).upload_id(upload_id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_upload()) => Ok(()),
            Err(e) => Err(s3_error(e)),
        }
    }

    /// A GET link that works for `expires_in`, without credentials.
    pub async fn download_url(
        &self,
        key: &str,
        content_disposition: &str,
        expires_in: Duration,
    ) -> Result<String, StorageError> {
        let config = PresigningConfig::expires_in(expires_in).map_err(|e| StorageError(e.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .response_content_disposition(content_disposition)
            .presigned(config)
            .await
            .map_err(s3_error)?;
        Ok(request.uri().to_string())
    }

    /// Deletes a file; deleting one that is not there is fine.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client.delete_object().bucket(&self.name).key(key).send().await.map(|_| ()).map_err(s3_error)
    }
}

/// Where a contact's access document is kept when it is too large to answer with: one per
/// contact, replaced by the next, deleted by an erasure or the bucket's lifecycle rule.
pub fn access_document_key(ws: &WorkspaceId, contact: ContactId) -> String {
    format!("exports/{ws}/access/contact-{contact}.json")
}

/// Erasure deletes export files here: the file, and the parts of an upload still running.
impl ExportFiles for Bucket {
    async fn delete_access_document(&self, ws: &WorkspaceId, contact: ContactId) -> Result<(), FileError> {
        self.delete(&access_document_key(ws, contact)).await.map_err(|e| FileError(e.to_string()))
    }

    async fn delete_file(&self, export: &Export) -> Result<(), FileError> {
        self.delete(&export.object_key).await.map_err(|e| FileError(e.to_string()))?;
        if let Some(carry) = export.checkpoint.as_ref().and_then(|c| c.carry.as_deref()) {
            self.delete(carry).await.map_err(|e| FileError(e.to_string()))?;
        }
        match &export.upload_id {
            Some(upload) => self.abort_upload(&export.object_key, upload).await.map_err(|e| FileError(e.to_string())),
            None => Ok(()),
        }
    }
}

/// A multipart upload in progress.
#[derive(Debug)]
pub struct Upload {
    bucket: Bucket,
    key: String,
    pub upload_id: String,
    parts: Vec<CompletedPart>,
}

impl Upload {
    /// The parts uploaded so far, for a checkpoint.
    pub fn parts(&self) -> Vec<UploadedPart> {
        self.parts
            .iter()
            .map(|p| UploadedPart {
                number: p.part_number.unwrap_or_default(),
                etag: p.e_tag.clone().unwrap_or_default(),
            })
            .collect()
    }

    pub async fn complete(self) -> Result<(), StorageError> {
        let parts = CompletedMultipartUpload::builder().set_parts(Some(self.parts)).build();
        self.bucket
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket.name)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .multipart_upload(parts)
            .send()
            .await
            .map(|_| ())
            .map_err(s3_error)
    }

    pub async fn abort(self) -> Result<(), StorageError> {
        self.bucket.abort_upload(&self.key, &self.upload_id).await
    }
}

impl PartSink for Upload {
    async fn upload(&mut self, number: i32, bytes: Vec<u8>) -> Result<(), ExportError> {
        let out = self
            .bucket
            .client
            .upload_part()
            .bucket(&self.bucket.name)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| ExportError::Upload(s3_error(e).to_string()))?;
        // A part uploaded again (a run continuing from a checkpoint) replaces the earlier one.
        self.parts.retain(|p| p.part_number != Some(number));
        self.parts.push(CompletedPart::builder().part_number(number).set_e_tag(out.e_tag).build());
        Ok(())
    }
}
