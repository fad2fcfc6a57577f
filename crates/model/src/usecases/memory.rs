//! In-memory fakes of the ports, for the use cases' unit tests: the same contract as the
//! DynamoDB store (versions, uniqueness guards, idempotent captures), no emulator.

use super::capture::{CaptureStore, CaptureWrite};
use super::contacts::{ContactList, ContactStore, DeletionStore};
use super::duplicates::{DuplicatePair, DuplicateStore, PairState};
use super::exports::{ExportJobs, ExportRecords, QueueError};
use super::gdpr::{ErasureStore, ExportFiles, FileError};
use super::merge::MergeStore;
use crate::contact::{Contact, ListedContact, PurgeReport};
use crate::domain::{Channel, ContactId, WorkspaceId};
use crate::export::{Export, ExportFilters, ExportFormat, ExportStatus};
use crate::gdpr::{identities_of, ErasureReceipt, Subject};
use crate::listing::{ContactPage, ListRequest, Position};
use crate::merge::{MergeRecord, MergeState, UNDO_WINDOW_DAYS};
use crate::new_contact::NewContact;
use crate::ports::{StoreError, StoreResult};
use crate::workspace::Workspace;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

#[derive(Default)]
struct Tables {
    contacts: BTreeMap<(String, u64), Contact>,
    next_id: u64,
    active: HashMap<ContactId, Vec<String>>,
    captured: BTreeSet<String>,
    /// Erased identities, with when they were erased.
    suppressed: BTreeMap<String, Vec<(String, DateTime<Utc>)>>,
    exports: BTreeMap<(String, String), Export>,
    merges: BTreeMap<String, MergeRecord>,
    erasures: BTreeMap<(String, String), ErasureReceipt>,
    /// Recorded pairs of possible duplicates by workspace and ids (lower first): the pair,
    /// and when it was dismissed.
    pairs: BTreeMap<PairKey, (DuplicatePair, Option<DateTime<Utc>>)>,
    /// What every counter reads, when set (else the number of contacts).
    total: Option<u64>,
}

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

/// The keys a contact holds that no other contact of its workspace may hold.
fn guards(c: &Contact) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    out.extend(c.email.as_ref().map(|e| ("email", e.key())));
    out.extend(c.phone.as_ref().map(|p| ("phone", p.key())));
    out.extend(c.identities.iter().map(|i| ("identity", format!("{}:{}", i.channel, i.external_id))));
    out
}

/// A pair's key: its workspace and ids, the lower first.
type PairKey = (String, u64, u64);

fn pair_key(ws: &WorkspaceId, a: ContactId, b: ContactId) -> PairKey {
    (ws.to_string(), a.0.min(b.0), a.0.max(b.0))
}

impl MemoryStore {
    /// Records two contacts as possible duplicates, as capture does (a dismissed pair stays dismissed).
    pub fn record_pair(&self, ws: &WorkspaceId, a: ContactId, b: ContactId, reason: &str, at: DateTime<Utc>) {
        let key = pair_key(ws, a, b);
        let mut t = self.tables.lock().unwrap();
        let (pair, _) = t.pairs.entry(key.clone()).or_insert_with(|| {
            let pair = DuplicatePair {
                contact: ContactId(key.1),
                other: ContactId(key.2),
                reasons: Vec::new(),
                recorded_at: at,
            };
            (pair, None)
        });
        if !pair.reasons.iter().any(|r| r == reason) {
            pair.reasons.push(reason.to_string());
        }
    }

    pub fn contacts(&self, ws: &WorkspaceId) -> Vec<Contact> {
        let t = self.tables.lock().unwrap();
        t.contacts.iter().filter(|((w, _), _)| w == ws.as_str()).map(|(_, c)| c.clone()).collect()
    }

    pub fn seed(&self, ws: &WorkspaceId, new: NewContact) -> Contact {
        let mut t = self.tables.lock().unwrap();
        t.next_id += 1;
        let contact = new.into_contact(ContactId(t.next_id), Utc::now());
        t.contacts.insert((ws.to_string(), contact.id.0), contact.clone());
        contact
    }

    pub fn seed_export(&self, ws: &WorkspaceId) -> Export {
        let filters = ExportFilters::parse(ws, BTreeMap::new(), Utc::now()).unwrap();
        let export = Export::new(ws, ExportFormat::Csv, filters, "ops", Utc::now());
        self.tables.lock().unwrap().exports.insert((ws.to_string(), export.id.clone()), export.clone());
        export
    }

    pub fn set_total(&self, total: u64) {
        self.tables.lock().unwrap().total = Some(total);
    }

    pub fn set_active_conversations(&self, id: ContactId, conversations: Vec<String>) {
        self.tables.lock().unwrap().active.insert(id, conversations);
    }

    /// The identities recorded as erased.
    pub fn suppressed(&self, ws: &WorkspaceId) -> Vec<String> {
        let tables = self.tables.lock().unwrap();
        tables.suppressed.get(ws.as_str()).into_iter().flatten().map(|(i, _)| i.clone()).collect()
    }

    pub fn erasure(&self, ws: &WorkspaceId, id: &str) -> Option<ErasureReceipt> {
        self.tables.lock().unwrap().erasures.get(&(ws.to_string(), id.to_string())).cloned()
    }

    pub fn export(&self, ws: &WorkspaceId, id: &str) -> Option<Export> {
        self.tables.lock().unwrap().exports.get(&(ws.to_string(), id.to_string())).cloned()
    }

    pub fn exports(&self, ws: &WorkspaceId) -> Vec<Export> {
        let t = self.tables.lock().unwrap();
        t.exports.iter().filter(|((w, _), _)| w == ws.as_str()).map(|(_, e)| e.clone()).collect()
    }

    /// Refuses `contact` when another contact of the workspace holds one of its guards.
    fn check_guards(t: &Tables, ws: &WorkspaceId, contact: &Contact) -> StoreResult<()> {
        let mine = guards(contact);
        for ((w, id), other) in &t.contacts {
            if w != ws.as_str() || *id == contact.id.0 {
                continue;
            }
            if let Some((field, _)) = guards(other).into_iter().find(|g| mine.contains(g)) {
                return Err(StoreError::Taken { field, owner: other.id });
            }
        }
        Ok(())
    }

    fn replace(&self, ws: &WorkspaceId, current: &Contact, next: &Contact) -> StoreResult<()> {
        let mut t = self.tables.lock().unwrap();
        let stored = t.contacts.get(&(ws.to_string(), current.id.0)).ok_or(StoreError::NotFound)?;
        if stored.version != current.version {
            return Err(StoreError::VersionMismatch { current: stored.version });
        }
        Self::check_guards(&t, ws, next)?;
        t.contacts.insert((ws.to_string(), next.id.0), next.clone());
        Ok(())
    }
}

impl ContactStore for MemoryStore {
    async fn get_contact(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Option<Contact>> {
        Ok(self.tables.lock().unwrap().contacts.get(&(ws.to_string(), id.0)).cloned())
    }

    async fn allocate_contact_id(&self, _: &WorkspaceId) -> StoreResult<ContactId> {
        let mut t = self.tables.lock().unwrap();
        t.next_id += 1;
        Ok(ContactId(t.next_id))
    }

    async fn insert_contact(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<()> {
        let mut t = self.tables.lock().unwrap();
        Self::check_guards(&t, ws, contact)?;
        t.contacts.insert((ws.to_string(), contact.id.0), contact.clone());
        Ok(())
    }

    async fn replace_contact(&self, ws: &WorkspaceId, current: &Contact, next: &Contact) -> StoreResult<()> {
        self.replace(ws, current, next)
    }
}

/// Newest first (by id); the position is the last id of the page.
impl ContactList for MemoryStore {
    async fn list_contacts(&self, ws: &WorkspaceId, request: &ListRequest) -> StoreResult<ContactPage> {
        let after: Option<u64> = match &request.position {
            Some(p) => Some(p.get("after").and_then(|v| v.parse().ok()).ok_or(StoreError::BadCursor)?),
            None => None,
        };
        let mut matching: Vec<ListedContact> = self
            .contacts(ws)
            .into_iter()
            .rev()
            .filter(|c| c.is_visible() && after.is_none_or(|a| c.id.0 < a))
            .map(|c| c.listed())
            .filter(|c| request.filter.matches(c))
            .collect();
        let more = matching.len() > request.per_page as usize;
        matching.truncate(request.per_page as usize);
        let next_position =
            more.then(|| Position::from([("after".to_string(), matching.last().unwrap().id.0.to_string())]));
        Ok(ContactPage { contacts: matching, total: None, next_position })
    }
}

impl DeletionStore for MemoryStore {
    async fn active_conversations(&self, _: &WorkspaceId, contact: &Contact) -> StoreResult<Vec<String>> {
        Ok(self.tables.lock().unwrap().active.get(&contact.id).cloned().unwrap_or_default())
    }

    async fn soft_delete_contact(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
        if_match: Option<u64>,
        grace: Duration,
    ) -> StoreResult<Contact> {
        let current = self.get_contact(ws, id).await?.filter(Contact::is_visible).ok_or(StoreError::NotFound)?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(StoreError::VersionMismatch { current: current.version });
        }
        let mut next = current.clone();
        next.deleted_at = Some(Utc::now());
        next.purge_after = Some(Utc::now() + grace);
        next.version += 1;
        self.replace(ws, &current, &next)?;
        Ok(next)
    }

    async fn purge_contact_until(&self, ws: &WorkspaceId, id: ContactId, _: DateTime<Utc>) -> StoreResult<PurgeReport> {
        let removed = self.tables.lock().unwrap().contacts.remove(&(ws.to_string(), id.0));
        removed.map(|_| PurgeReport { conversations: 0, items: 1, cut_short: false }).ok_or(StoreError::NotFound)
    }
}

impl CaptureStore for MemoryStore {
    async fn workspace(&self, ws: &WorkspaceId) -> StoreResult<Option<Workspace>> {
        Ok(Some(Workspace::with_defaults(ws.clone())))
    }

    async fn contact_for_identity(
        &self,
        ws: &WorkspaceId,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<Contact>> {
        Ok(self
            .contacts(ws)
            .into_iter()
            .find(|c| c.identities.iter().any(|i| i.channel == channel && i.external_id == external_id)))
    }

    async fn erased_at(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<Option<DateTime<Utc>>> {
        let identities = identities_of(contact);
        let tables = self.tables.lock().unwrap();
        let erased = tables.suppressed.get(ws.as_str()).into_iter().flatten();
        Ok(erased.filter(|(i, _)| identities.contains(i)).map(|(_, at)| *at).max())
    }

    async fn record_capture(&self, ws: &WorkspaceId, write: &CaptureWrite<'_>) -> StoreResult<()> {
        if self.tables.lock().unwrap().captured.contains(write.event_key) {
            return Err(StoreError::AlreadyCaptured);
        }
        // As the table's condition on each pair's records.
        for (_, owner) in write.duplicates {
            if self.duplicate_dismissed(ws, write.after.id, *owner).await? {
                return Err(StoreError::VersionMismatch { current: 0 });
            }
        }
        if write.creates {
            ContactStore::insert_contact(self, ws, write.after).await?;
        } else {
            self.replace(ws, write.before, write.after)?;
        }
        self.tables.lock().unwrap().captured.insert(write.event_key.to_string());
        for (field, owner) in write.duplicates {
            self.record_pair(ws, write.after.id, *owner, &format!("same {field}"), Utc::now());
        }
        Ok(())
    }

    async fn duplicate_dismissed(&self, ws: &WorkspaceId, contact: ContactId, other: ContactId) -> StoreResult<bool> {
        Ok(matches!(self.duplicate_pair(ws, contact, other).await?, Some(PairState::Dismissed { .. })))
    }
}

impl DuplicateStore for MemoryStore {
    async fn duplicate_pairs(
        &self,
        ws: &WorkspaceId,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<DuplicatePair>, Option<Position>)> {
        let t = self.tables.lock().unwrap();
        let mut pairs: Vec<DuplicatePair> = t
            .pairs
            .iter()
            .filter(|((w, _, _), (_, dismissed))| w == ws.as_str() && dismissed.is_none())
            .map(|(_, (p, _))| p.clone())
            .collect();
        pairs.sort_by_key(|p| std::cmp::Reverse((p.recorded_at, p.contact, p.other)));
        let skip: usize = after.and_then(|p| p.get("skip")?.parse().ok()).unwrap_or(0);
        let page: Vec<DuplicatePair> = pairs.iter().skip(skip).take(limit as usize).cloned().collect();
        let next = (skip + page.len() < pairs.len())
            .then(|| Position::from([("skip".to_string(), (skip + page.len()).to_string())]));
        Ok((page, next))
    }

    async fn profiles_by_id(&self, ws: &WorkspaceId, ids: &[ContactId]) -> StoreResult<Vec<Contact>> {
        Ok(self.contacts(ws).into_iter().filter(|c| ids.contains(&c.id)).collect())
    }

    async fn duplicate_pair(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
    ) -> StoreResult<Option<PairState>> {
        let t = self.tables.lock().unwrap();
        Ok(t.pairs.get(&pair_key(ws, contact, other)).map(|(_, dismissed)| match dismissed {
            Some(at) => PairState::Dismissed { at: *at },
            None => PairState::Recorded,
        }))
    }

    async fn dismiss_duplicate_pair(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut t = self.tables.lock().unwrap();
        let (_, dismissed) = t.pairs.get_mut(&pair_key(ws, contact, other)).ok_or(StoreError::NotFound)?;
        *dismissed = Some(at);
        Ok(())
    }
}

impl ErasureStore for MemoryStore {
    async fn find_subject(&self, ws: &WorkspaceId, subject: &Subject) -> StoreResult<Option<Contact>> {
        Ok(self.contacts(ws).into_iter().find(|c| match subject {
            Subject::Contact(id) => c.id == *id,
            named => named.identity().is_some_and(|i| identities_of(c).contains(&i)),
        }))
    }

    async fn merged_into(&self, _: &WorkspaceId, id: ContactId) -> StoreResult<Option<ContactId>> {
        let t = self.tables.lock().unwrap();
        Ok(t.merges.values().find(|m| m.other == id && m.state != MergeState::Undone).map(|m| m.survivor))
    }

    async fn merged_into_survivor(&self, _: &WorkspaceId, survivor: ContactId) -> StoreResult<Vec<Contact>> {
        let t = self.tables.lock().unwrap();
        Ok(t.merges
            .values()
            .filter(|m| m.survivor == survivor && m.state != MergeState::Undone)
            .map(|m| m.other_before.clone())
            .collect())
    }

    async fn all_exports(&self, ws: &WorkspaceId) -> StoreResult<Vec<Export>> {
        Ok(self.exports(ws))
    }

    async fn delete_export(&self, ws: &WorkspaceId, id: &str) -> StoreResult<()> {
        self.tables.lock().unwrap().exports.remove(&(ws.to_string(), id.to_string()));
        Ok(())
    }

    async fn record_erasure(
        &self,
        ws: &WorkspaceId,
        receipt: &ErasureReceipt,
        identities: &[String],
    ) -> StoreResult<()> {
        let erased = identities.iter().map(|i| (i.clone(), receipt.erased_at));
        self.tables.lock().unwrap().suppressed.entry(ws.to_string()).or_default().extend(erased);
        self.save_erasure(ws, receipt).await
    }

    async fn save_erasure(&self, ws: &WorkspaceId, receipt: &ErasureReceipt) -> StoreResult<()> {
        self.tables.lock().unwrap().erasures.insert((ws.to_string(), receipt.id.clone()), receipt.clone());
        Ok(())
    }
}

impl ExportRecords for MemoryStore {
    async fn put_export(&self, ws: &WorkspaceId, export: &Export, _: DateTime<Utc>) -> StoreResult<()> {
        self.tables.lock().unwrap().exports.insert((ws.to_string(), export.id.clone()), export.clone());
        Ok(())
    }

    async fn count(&self, ws: &WorkspaceId, _: &crate::listing::TotalCounter) -> StoreResult<u64> {
        let total = self.tables.lock().unwrap().total;
        Ok(total.unwrap_or(self.contacts(ws).len() as u64))
    }

    async fn recent_exports(&self, ws: &WorkspaceId, limit: u32) -> StoreResult<Vec<Export>> {
        let mut exports = self.exports(ws);
        exports.sort_by(|a, b| b.id.cmp(&a.id));
        exports.truncate(limit as usize);
        Ok(exports)
    }

    async fn fail_export(&self, ws: &WorkspaceId, id: &str, reason: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut t = self.tables.lock().unwrap();
        let export = t.exports.get_mut(&(ws.to_string(), id.to_string())).ok_or(StoreError::NotFound)?;
        export.status = ExportStatus::Failed;
        export.error = Some(reason.to_string());
        export.finished_at = Some(at);
        Ok(())
    }
}

impl MergeStore for MemoryStore {
    async fn commit_merge(
        &self,
        ws: &WorkspaceId,
        this: &Contact,
        that: &Contact,
        merged: &Contact,
    ) -> StoreResult<MergeRecord> {
        // One transaction in the store: the other contact's values pass to the survivor.
        let removed = self.tables.lock().unwrap().contacts.remove(&(ws.to_string(), that.id.0));
        if let Err(e) = self.replace(ws, this, merged) {
            self.tables.lock().unwrap().contacts.extend(removed.map(|c| ((ws.to_string(), c.id.0), c)));
            return Err(e);
        }
        let now = Utc::now();
        let record = MergeRecord {
            id: crate::domain::time_ordered_id("mg", now, 4),
            survivor: this.id,
            other: that.id,
            survivor_before: this.clone(),
            other_before: that.clone(),
            merged: merged.clone(),
            conversations: Vec::new(),
            notes: Vec::new(),
            state: MergeState::Done,
            created_at: now,
            undo_until: now + Duration::days(UNDO_WINDOW_DAYS),
        };
        self.tables.lock().unwrap().merges.insert(record.id.clone(), record.clone());
        Ok(record)
    }

    async fn get_merge(&self, _: &WorkspaceId, id: &str) -> StoreResult<Option<MergeRecord>> {
        Ok(self.tables.lock().unwrap().merges.get(id).cloned())
    }

    async fn finish_merge(&self, _: &WorkspaceId, record: &MergeRecord) -> StoreResult<()> {
        self.tables.lock().unwrap().merges.get_mut(&record.id).ok_or(StoreError::NotFound)?.state = MergeState::Done;
        Ok(())
    }

    async fn revert_merge(
        &self,
        ws: &WorkspaceId,
        record: &MergeRecord,
        current: &Contact,
    ) -> StoreResult<MergeRecord> {
        let survivor = Contact { version: current.version + 1, ..record.survivor_before.clone() };
        self.replace(ws, current, &survivor)?;
        let mut t = self.tables.lock().unwrap();
        let other = Contact { version: record.other_before.version + 1, ..record.other_before.clone() };
        t.contacts.insert((ws.to_string(), record.other.0), other);
        let undone = t.merges.get_mut(&record.id).ok_or(StoreError::NotFound)?;
        undone.state = MergeState::Undone;
        Ok(undone.clone())
    }
}

/// The export queue: remembers what was sent, or refuses everything.
#[derive(Default)]
pub struct MemoryQueue {
    sent: Mutex<Vec<(WorkspaceId, String)>>,
    refuse: bool,
}

impl MemoryQueue {
    pub fn refusing() -> Self {
        MemoryQueue { refuse: true, ..Default::default() }
    }

    pub fn sent(&self) -> Vec<(WorkspaceId, String)> {
        self.sent.lock().unwrap().clone()
    }
}

impl ExportJobs for MemoryQueue {
    async fn enqueue(&self, ws: &WorkspaceId, export_id: &str) -> Result<(), QueueError> {
        if self.refuse {
            return Err(QueueError("refused".into()));
        }
        self.sent.lock().unwrap().push((ws.clone(), export_id.to_string()));
        Ok(())
    }
}

/// Export files: deleted, or failing.
#[derive(Default)]
pub struct MemoryFiles {
    fail: bool,
}

impl MemoryFiles {
    pub fn failing() -> Self {
        MemoryFiles { fail: true }
    }

    fn delete(&self) -> Result<(), FileError> {
        if self.fail {
            Err(FileError("storage unavailable".into()))
        } else {
            Ok(())
        }
    }
}

impl ExportFiles for MemoryFiles {
    async fn delete_access_document(&self, _: &WorkspaceId, _: ContactId) -> Result<(), FileError> {
        self.delete()
    }

    async fn delete_file(&self, _: &Export) -> Result<(), FileError> {
        self.delete()
    }
}
