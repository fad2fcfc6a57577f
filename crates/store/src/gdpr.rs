//! Data-subject requests: finding a contact by what a person names (email, phone,
//! channel identity), and what an erasure leaves behind: a receipt without personal data,
//! and a salted hash of each erased identity so that a person who comes back stays
//! opted out (capture checks the hashes of every new contact).

use super::keys::{self, GUARD};
use super::table::{get_n, get_s, key, s, Item};
use super::{Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use model::contact::Contact;
use model::domain::{ContactId, WorkspaceId};
use model::gdpr::{identities_of, AccessRequest, ErasureReceipt, Subject};
use model::listing::api_time;
use sha2::Sha256;

impl Store {
    /// The contact a subject names, through its uniqueness guard (or its id).
    pub async fn find_subject(&self, ws: &WorkspaceId, subject: &Subject) -> StoreResult<Option<Contact>> {
        let guard = match subject {
            Subject::Contact(id) => return self.get_contact(ws, *id).await,
            Subject::Email(e) => keys::email_guard_pk(ws, &e.key()),
            Subject::Phone(p) => keys::phone_guard_pk(ws, &p.key()),
            Subject::Identity(c, id) => keys::identity_guard_pk(ws, *c, id),
        };
        match self.get_item(key(guard, GUARD), true).await?.and_then(|g| get_n(&g, "contact_id")) {
            Some(id) => self.get_contact(ws, ContactId(id as u64)).await,
            None => Ok(None),
        }
    }

    /// Records the salted hashes of erased identities, then the receipt.
    pub async fn record_erasure(
        &self,
        ws: &WorkspaceId,
        receipt: &ErasureReceipt,
        identities: &[String],
    ) -> StoreResult<()> {
        let salt = self.erasure_salt(ws).await?;
        for identity in identities {
            let mut item = key(keys::erased_identity_pk(ws, &salted_hash(&salt, identity)), keys::ERASED_SK);
            item.extend([
                ("entity".to_string(), s("erased_identity")),
                ("erased_at".to_string(), s(api_time(receipt.erased_at))),
                ("receipt_id".to_string(), s(&receipt.id)),
            ]);
            self.put(item).await?;
        }
        self.save_erasure(ws, receipt).await
    }

    /// Writes the receipt as it is now (pending, with its counts so far, or done).
    pub async fn save_erasure(&self, ws: &WorkspaceId, receipt: &ErasureReceipt) -> StoreResult<()> {
        let mut item: Item = serde_dynamo::to_item(receipt).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend([
            ("pk".to_string(), s(keys::erasure_pk(ws, &receipt.id))),
            ("sk".to_string(), s(keys::ERASURE_SK)),
            ("entity".to_string(), s("erasure_receipt")),
        ]);
        self.put(item).await
    }

    pub async fn get_erasure(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<ErasureReceipt>> {
        let item = self.get_item(key(keys::erasure_pk(ws, id), keys::ERASURE_SK), true).await?;
        item.map(|i| serde_dynamo::from_item(i).map_err(|e| StoreError::Corrupt(format!("erasure receipt: {e}"))))
            .transpose()
    }

    /// Writes an access request's record as it is now.
    pub async fn save_access_request(&self, ws: &WorkspaceId, request: &AccessRequest) -> StoreResult<()> {
        let mut item: Item = serde_dynamo::to_item(request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend([
            ("pk".to_string(), s(keys::access_request_pk(ws, &request.id))),
            ("sk".to_string(), s(keys::ACCESS_REQUEST_SK)),
            ("entity".to_string(), s("access_request")),
        ]);
        self.put(item).await
    }

    pub async fn get_access_request(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<AccessRequest>> {
        let item = self.get_item(key(keys::access_request_pk(ws, id), keys::ACCESS_REQUEST_SK), true).await?;
        item.map(|i| serde_dynamo::from_item(i).map_err(|e| StoreError::Corrupt(format!("access request: {e}"))))
            .transpose()
    }

    /// When one of the contact's identities was last erased, if ever.
    pub async fn erased_at(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<Option<DateTime<Utc>>> {
        let identities = identities_of(contact);
        if identities.is_empty() {
            return Ok(None);
        }
        let Some(salt) = self
            .get_item(key(keys::meta_pk(ws), keys::ERASURE_SALT_SK), false)
            .await?
            .and_then(|i| get_s(&i, "salt").map(str::to_string))
        else {
            return Ok(None);
        };
        let keys = identities
            .iter()
            .map(|i| key(keys::erased_identity_pk(ws, &salted_hash(&salt, i)), keys::ERASED_SK))
            .collect();
        let erased = self.batch_get(keys, false).await?;
        // An item without its time (written before it was recorded) counts as erased long ago.
        Ok(erased
            .iter()
            .map(|i| {
                get_s(i, "erased_at").and_then(|t| t.parse::<DateTime<Utc>>().ok()).unwrap_or(DateTime::UNIX_EPOCH)
            })
            .max())
    }

    /// The workspace's salt, created at its first erasure. It never leaves the table, so
    /// the hashes cannot be reversed by guessing emails without it.
    async fn erasure_salt(&self, ws: &WorkspaceId) -> StoreResult<String> {
        let salt_key = key(keys::meta_pk(ws), keys::ERASURE_SALT_SK);
        if let Some(salt) =
            self.get_item(salt_key.clone(), true).await?.and_then(|i| get_s(&i, "salt").map(str::to_string))
        {
            return Ok(salt);
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let salt = model::hex::encode(&bytes);
        let mut item = salt_key.clone();
        item.insert("salt".into(), s(&salt));
        if self.put_one(item, true).await? {
            return Ok(salt);
        }
        // Another erasure created it first: use theirs.
        let item = self.get_item(salt_key, true).await?;
        item.and_then(|i| get_s(&i, "salt").map(str::to_string))
            .ok_or_else(|| StoreError::Corrupt("erasure salt vanished".into()))
    }

    async fn put(&self, item: Item) -> StoreResult<()> {
        self.put_one(item, false).await.map(|_| ())
    }
}

fn salted_hash(salt: &str, identity: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(salt.as_bytes()).expect("HMAC takes any key length");
    mac.update(identity.as_bytes());
    model::hex::encode(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_depend_on_the_salt_and_hide_the_identity() {
        let a = salted_hash("salt-a", "email:olivia@lumoco.dev");
        assert_eq!(a.len(), 64);
        assert_ne!(a, salted_hash("salt-b", "email:olivia@lumoco.dev"));
        assert_eq!(a, salted_hash("salt-a", "email:olivia@lumoco.dev"));
        assert!(!a.contains("olivia"));
    }
}
