//! The model's ports, implemented by the table: each method is the store's own access
//! pattern of the same name (see docs/data-model.md for its calls and cost).

use crate::{Store, StoreResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use model::analytics::DayStats;
use model::contact::{Contact, PurgeReport};
use model::conversation::{Conversation, Message};
use model::domain::Email;
use model::domain::{Channel, ContactId, WorkspaceId};
use model::export::Export;
use model::gdpr::{AccessRequest, ErasureReceipt, Subject};
use model::listing::Position;
use model::listing::{ContactPage, ListRequest, TotalCounter};
use model::merge::MergeRecord;
use model::note::Note;
use model::people::{OneTimeLink, Role, User, UserId};
use model::usecases::analytics::AnalyticsStore;
use model::usecases::capture::{CaptureStore, CaptureWrite};
use model::usecases::contacts::{ContactList, ContactStore, DeletionStore};
use model::usecases::duplicates::{DuplicatePair, DuplicateStore, PairState};
use model::usecases::exports::ExportRecords;
use model::usecases::gdpr::{AccessRequests, ErasureStore, HistoryStore};
use model::usecases::merge::MergeStore;
use model::usecases::people::{AddRefused, PeopleStore};
use model::workspace::{Counters, Workspace};
use std::collections::BTreeMap;

impl ContactStore for Store {
    async fn get_contact(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Option<Contact>> {
        Store::get_contact(self, ws, id).await
    }
    async fn allocate_contact_id(&self, ws: &WorkspaceId) -> StoreResult<ContactId> {
        Store::allocate_contact_id(self, ws).await
    }
    async fn insert_contact(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<()> {
        Store::insert_contact(self, ws, contact).await
    }
    async fn replace_contact(&self, ws: &WorkspaceId, current: &Contact, next: &Contact) -> StoreResult<()> {
        Store::replace_contact(self, ws, current, next).await
    }
}

impl ContactList for Store {
    async fn list_contacts(&self, ws: &WorkspaceId, request: &ListRequest) -> StoreResult<ContactPage> {
        Store::list_contacts(self, ws, request).await
    }
}

impl DeletionStore for Store {
    async fn active_conversations(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<Vec<String>> {
        Store::active_conversations(self, ws, contact).await
    }
    async fn soft_delete_contact(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
        if_match: Option<u64>,
        grace: Duration,
    ) -> StoreResult<Contact> {
        Store::soft_delete_contact(self, ws, id, if_match, grace).await
    }
    async fn purge_contact_until(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
        stop_at: DateTime<Utc>,
    ) -> StoreResult<PurgeReport> {
        Store::purge_contact_until(self, ws, id, Some(stop_at)).await
    }
}

impl CaptureStore for Store {
    async fn workspace(&self, ws: &WorkspaceId) -> StoreResult<Option<Workspace>> {
        if let Some(cached) = self.settings.as_ref().and_then(|c| c.get(ws)) {
            return Ok(cached);
        }
        let settings = Store::get_workspace(self, ws).await?;
        if let Some(cache) = &self.settings {
            cache.keep(ws, settings.clone());
        }
        Ok(settings)
    }
    async fn contact_for_identity(
        &self,
        ws: &WorkspaceId,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<Contact>> {
        Store::contact_for_identity(self, ws, channel, external_id).await
    }
    async fn erased_at(&self, ws: &WorkspaceId, contact: &Contact) -> StoreResult<Option<DateTime<Utc>>> {
        Store::erased_at(self, ws, contact).await
    }
    async fn duplicate_dismissed(&self, ws: &WorkspaceId, contact: ContactId, other: ContactId) -> StoreResult<bool> {
        Ok(matches!(Store::duplicate_pair(self, ws, contact, other).await?, Some(PairState::Dismissed { .. })))
    }
    async fn record_capture(&self, ws: &WorkspaceId, write: &CaptureWrite<'_>) -> StoreResult<()> {
        Store::record_capture(self, ws, write).await
    }
}

impl AnalyticsStore for Store {
    async fn counters(&self, ws: &WorkspaceId) -> StoreResult<Counters> {
        Store::counters(self, ws).await
    }
    async fn day_stats(&self, ws: &WorkspaceId, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<DayStats>> {
        Store::day_stats(self, ws, from, to).await
    }
    async fn snapshots(
        &self,
        ws: &WorkspaceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<BTreeMap<NaiveDate, BTreeMap<String, i64>>> {
        Store::snapshots(self, ws, from, to).await
    }
}

impl DuplicateStore for Store {
    async fn duplicate_pairs(
        &self,
        ws: &WorkspaceId,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<DuplicatePair>, Option<Position>)> {
        Store::duplicate_pairs(self, ws, limit, after).await
    }
    async fn profiles_by_id(&self, ws: &WorkspaceId, ids: &[ContactId]) -> StoreResult<Vec<Contact>> {
        Store::profiles_by_id(self, ws, ids).await
    }
    async fn duplicate_pair(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
    ) -> StoreResult<Option<PairState>> {
        Store::duplicate_pair(self, ws, contact, other).await
    }
    async fn dismiss_duplicate_pair(
        &self,
        ws: &WorkspaceId,
        contact: ContactId,
        other: ContactId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        Store::dismiss_duplicate_pair(self, ws, contact, other, at).await
    }
}

impl HistoryStore for Store {
    async fn list_notes(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Vec<Note>> {
        Store::list_notes(self, ws, id).await
    }
    async fn duplicate_candidates(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Vec<(ContactId, String)>> {
        Store::duplicate_candidates(self, ws, id).await
    }
    async fn list_conversations(
        &self,
        ws: &WorkspaceId,
        id: ContactId,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<Conversation>, Option<Position>)> {
        Store::list_conversations(self, ws, id, limit, after).await
    }
    async fn list_messages(
        &self,
        ws: &WorkspaceId,
        conversation: &str,
        limit: u32,
        after: Option<Position>,
    ) -> StoreResult<(Vec<Message>, Option<Position>)> {
        Store::list_messages(self, ws, conversation, limit, after).await
    }
}

impl AccessRequests for Store {
    async fn save_access_request(&self, ws: &WorkspaceId, request: &AccessRequest) -> StoreResult<()> {
        Store::save_access_request(self, ws, request).await
    }
    async fn get_access_request(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<AccessRequest>> {
        Store::get_access_request(self, ws, id).await
    }
}

impl ErasureStore for Store {
    async fn find_subject(&self, ws: &WorkspaceId, subject: &Subject) -> StoreResult<Option<Contact>> {
        Store::find_subject(self, ws, subject).await
    }
    async fn merged_into(&self, ws: &WorkspaceId, id: ContactId) -> StoreResult<Option<ContactId>> {
        Ok(Store::merged_into(self, ws, id).await?.map(|(survivor, _)| survivor))
    }
    async fn merged_into_survivor(&self, ws: &WorkspaceId, survivor: ContactId) -> StoreResult<Vec<Contact>> {
        Store::merged_into_survivor(self, ws, survivor).await
    }
    async fn all_exports(&self, ws: &WorkspaceId) -> StoreResult<Vec<Export>> {
        Store::all_exports(self, ws).await
    }
    async fn delete_export(&self, ws: &WorkspaceId, id: &str) -> StoreResult<()> {
        Store::delete_export(self, ws, id).await
    }
    async fn record_erasure(
        &self,
        ws: &WorkspaceId,
        receipt: &ErasureReceipt,
        identities: &[String],
    ) -> StoreResult<()> {
        Store::record_erasure(self, ws, receipt, identities).await
    }
    async fn save_erasure(&self, ws: &WorkspaceId, receipt: &ErasureReceipt) -> StoreResult<()> {
        Store::save_erasure(self, ws, receipt).await
    }
}

impl ExportRecords for Store {
    async fn count(&self, ws: &WorkspaceId, counter: &TotalCounter) -> StoreResult<u64> {
        Store::total(self, ws, counter).await
    }
    async fn recent_exports(&self, ws: &WorkspaceId, limit: u32) -> StoreResult<Vec<Export>> {
        Ok(Store::list_exports(self, ws, limit, None).await?.0)
    }
    async fn put_export(&self, ws: &WorkspaceId, export: &Export, expires_at: DateTime<Utc>) -> StoreResult<()> {
        Store::put_export(self, ws, export, expires_at).await
    }
    async fn fail_export(&self, ws: &WorkspaceId, id: &str, reason: &str, at: DateTime<Utc>) -> StoreResult<()> {
        Store::fail_export(self, ws, id, reason, at).await.map(|_| ())
    }
}

impl MergeStore for Store {
    async fn commit_merge(
        &self,
        ws: &WorkspaceId,
        this: &Contact,
        that: &Contact,
        merged: &Contact,
    ) -> StoreResult<MergeRecord> {
        Store::commit_merge(self, ws, this, that, merged).await
    }
    async fn get_merge(&self, ws: &WorkspaceId, id: &str) -> StoreResult<Option<MergeRecord>> {
        Store::get_merge(self, ws, id).await
    }
    async fn finish_merge(&self, ws: &WorkspaceId, record: &MergeRecord) -> StoreResult<()> {
        Store::finish_merge(self, ws, record).await
    }
    async fn revert_merge(
        &self,
        ws: &WorkspaceId,
        record: &MergeRecord,
        survivor_now: &Contact,
    ) -> StoreResult<MergeRecord> {
        Store::revert_merge(self, ws, record, survivor_now).await
    }
}

impl PeopleStore for Store {
    async fn get_user(&self, ws: &WorkspaceId, id: &UserId) -> StoreResult<Option<User>> {
        Store::get_user(self, ws, id).await
    }
    async fn user_by_email(&self, ws: &WorkspaceId, email: &Email) -> StoreResult<Option<User>> {
        Store::user_by_email(self, ws, email).await
    }
    async fn list_users(&self, ws: &WorkspaceId) -> StoreResult<Vec<User>> {
        Store::list_users(self, ws).await
    }
    async fn add_user(&self, user: &User, link: Option<&str>) -> StoreResult<Result<(), AddRefused>> {
        Store::add_user(self, user, link).await
    }
    async fn set_user_role(&self, ws: &WorkspaceId, id: &UserId, role: Role) -> StoreResult<bool> {
        Store::set_user_role(self, ws, id, role).await
    }
    async fn set_user_password(&self, ws: &WorkspaceId, id: &UserId, phc: &str) -> StoreResult<bool> {
        Store::set_user_password(self, ws, id, phc).await
    }
    async fn reset_password(&self, token_hash: &str, ws: &WorkspaceId, id: &UserId, phc: &str) -> StoreResult<bool> {
        Store::reset_password(self, token_hash, ws, id, phc).await
    }
    async fn remove_user(&self, ws: &WorkspaceId, user: &User) -> StoreResult<bool> {
        Store::remove_user(self, ws, user).await
    }
    async fn record_sign_in(&self, ws: &WorkspaceId, id: &UserId, now: DateTime<Utc>) -> StoreResult<()> {
        Store::record_sign_in(self, ws, id, now).await
    }
    async fn put_link(&self, token_hash: &str, link: &OneTimeLink) -> StoreResult<()> {
        Store::put_link(self, token_hash, link).await
    }
    async fn get_link(
        &self,
        ws: &WorkspaceId,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<OneTimeLink>> {
        Store::get_link(self, ws, token_hash, now).await
    }
    async fn sign_in_failures(
        &self,
        ws: &WorkspaceId,
        subjects: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        Store::sign_in_failures(self, ws, subjects, now).await
    }
    async fn count_sign_in_failure(
        &self,
        ws: &WorkspaceId,
        subjects: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        Store::count_sign_in_failure(self, ws, subjects, now).await
    }
}
