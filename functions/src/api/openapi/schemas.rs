//! Schemas of what the API answers with but does not own: the model's values (the model
//! stays free of the document's framework) and the names its enums take on the wire.
//! These types are never built, only described; the API tests validate every response
//! against them, so they cannot drift from what the handlers send.
#![allow(dead_code)]

use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A chat channel.
#[derive(ToSchema)]
#[schema(as = Channel)]
#[serde(rename_all = "lowercase")]
pub enum ChannelName {
    Frame,
    Livechat,
    Messenger,
    Telegram,
    Whatsapp,
}

/// Where a contact stands as a lead.
#[derive(ToSchema)]
#[schema(as = LeadStatus)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatusName {
    New,
    Active,
    FollowUp,
    Archived,
}

/// How likely a contact is to buy.
#[derive(ToSchema)]
#[schema(as = LeadScore)]
#[serde(rename_all = "lowercase")]
pub enum LeadScoreName {
    Hot,
    Warm,
    Cold,
}

/// Whether the contact agreed to be contacted for marketing.
#[derive(ToSchema)]
#[schema(as = ConsentStatus)]
#[serde(rename_all = "lowercase")]
pub enum ConsentStatusName {
    Unknown,
    Granted,
    Withdrawn,
}

/// A consent a request can set (`unknown` is only where nobody said).
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConsentChoice {
    Granted,
    Withdrawn,
}

/// Who set a contact's lead status.
#[derive(ToSchema)]
#[schema(as = StatusSetBy)]
#[serde(rename_all = "lowercase")]
pub enum StatusSetBy {
    Person,
    Activity,
    /// The retention policy archived it.
    Retention,
    /// An integration archived it once its CRM took it.
    Integration,
}

/// A contact's identity within one channel.
#[derive(ToSchema)]
pub struct Identity {
    channel: ChannelName,
    /// Telegram user id, Messenger PSID, WhatsApp wa_id, widget visitor id.
    external_id: String,
    /// The channel's handle, such as a Telegram username; absent when none.
    #[schema(nullable = false)]
    username: Option<String>,
}

/// The current consent with when and where it was given or withdrawn.
#[derive(ToSchema)]
pub struct Consent {
    status: ConsentStatusName,
    /// `api`, `form`, or a channel name; absent when never given.
    #[schema(nullable = false)]
    source: Option<String>,
    /// Absent when never given.
    #[schema(nullable = false, format = DateTime)]
    updated_at: Option<String>,
}

/// How much a field's value can be trusted, by where it came from.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    ChannelProfile,
    UserGiven,
    Person,
}

/// Where a field's current value came from.
#[derive(ToSchema)]
pub struct FieldSource {
    /// A channel name, or `api`.
    source: String,
    /// The event that gave it: `message`, `email_collected`, `contact_form_submitted`, `edit`, …
    event: String,
    #[schema(format = DateTime)]
    at: String,
    trust: Trust,
}

/// What the retention policy does to contacts inactive for too long.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    Flag,
    Archive,
    Delete,
}

/// The workspace's retention policy.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "inactive_after_days": 365, "action": "flag"}))]
pub struct RetentionPolicy {
    enabled: bool,
    #[schema(minimum = 30, maximum = 3650)]
    inactive_after_days: u32,
    action: RetentionAction,
}

/// A channel's contacts, their share of all contacts, and its response time.
#[derive(ToSchema)]
pub struct ChannelShare {
    count: u64,
    share: f64,
    /// Mean wait for a bot or agent reply on this channel in the period, in seconds; `null`
    /// when no reply on it fell in the period.
    #[schema(required = true)]
    avg_response_time_seconds: Option<f64>,
}

/// One day of activity.
#[derive(ToSchema)]
pub struct AnalyticsDay {
    #[schema(format = Date)]
    date: String,
    new_contacts: i64,
    conversations: i64,
    messages: i64,
    /// From the daily snapshot; `null` where none was written.
    #[schema(required = true)]
    total_contacts: Option<i64>,
}

/// The workspace's figures (definitions in docs/leads-and-analytics.md).
#[derive(ToSchema)]
pub struct AnalyticsReport {
    #[schema(format = Date, example = "2025-08-01")]
    from: String,
    #[schema(format = Date, example = "2025-08-31")]
    to: String,
    total_contacts: u64,
    new_this_month: i64,
    new_in_period: i64,
    active_conversations: u64,
    awaiting_follow_up: u64,
    /// Every channel.
    channels: BTreeMap<String, ChannelShare>,
    avg_conversations_per_contact: f64,
    /// `null` when no reply fell in the period.
    #[schema(required = true)]
    avg_response_time_seconds: Option<f64>,
    conversion_rate: f64,
    repeat_visitor_rate: f64,
    scores: BTreeMap<String, u64>,
    statuses: BTreeMap<String, u64>,
    daily: Vec<AnalyticsDay>,
}

/// A note as the data-subject export holds it.
#[derive(ToSchema)]
pub struct StoredNote {
    id: String,
    text: String,
    author: String,
    #[schema(format = DateTime)]
    created_at: String,
}

/// Who wrote a transcript line.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    User,
    Bot,
    Agent,
}

/// An RFC 9457 problem: every error of the API (`application/problem+json`).
#[derive(ToSchema)]
#[schema(example = json!({"type": "about:blank", "title": "Bad Request", "status": 400,
    "detail": "per_page: must be an integer from 1 to 100",
    "errors": [{"field": "per_page", "detail": "must be an integer from 1 to 100"}]}))]
#[schema(as = Problem)]
pub struct ProblemDetails {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    kind: String,
    /// The status's reason phrase.
    title: String,
    status: u16,
    /// What went wrong and how to fix it; a validation error starts with its field's name.
    detail: String,
    /// The fields at fault (400).
    #[schema(nullable = false)]
    errors: Option<Vec<FieldProblem>>,
    /// 412 on a contact: its version now.
    #[schema(nullable = false)]
    current_version: Option<u64>,
    /// 409: the field whose value another contact holds.
    #[schema(nullable = false)]
    field: Option<String>,
    /// 409: the contact that holds it.
    #[schema(nullable = false)]
    contact_id: Option<u64>,
    /// 409 on a delete: the contact's open conversations.
    #[schema(nullable = false)]
    active_conversations: Option<Vec<String>>,
    /// 404 on a deleted contact: when it was deleted.
    #[schema(format = DateTime)]
    deleted_at: Option<String>,
    /// 404 on a deleted contact: until when it can be restored.
    #[schema(nullable = false)]
    purge_after: Option<String>,
    /// 404 on a merged contact: the contact it was merged into.
    #[schema(nullable = false)]
    merged_into: Option<u64>,
    /// 404 on a merged contact: where that contact is.
    #[schema(nullable = false)]
    see: Option<String>,
    /// 404 on a merged contact: the merge.
    #[schema(nullable = false)]
    merge_id: Option<String>,
}

/// One field at fault.
#[derive(ToSchema)]
pub struct FieldProblem {
    field: String,
    detail: String,
}

/// The list's filters and paging (docs/api.md, "GET /api/v1/contacts"). Each may be given once.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParameters {
    /// The channel of first contact.
    channel: Option<ChannelName>,
    /// Created since 00:00 today, or in the last 7 or 30 days (today and the 6 or 29 days before), in the workspace's `time_zone`; not with `created_after`.
    range: Option<Range>,
    /// Inclusive (rounded up to the whole second).
    #[param(format = DateTime)]
    created_after: Option<String>,
    /// Inclusive (the whole second); not before the start of the range.
    #[param(format = DateTime)]
    created_before: Option<String>,
    /// Search in names, emails and phones (docs/api.md, "Search").
    q: Option<String>,
    status: Option<LeadStatusName>,
    score: Option<LeadScoreName>,
    tag: Option<String>,
    has_email: Option<bool>,
    has_phone: Option<bool>,
    consent: Option<ConsentStatusName>,
    /// Active within this many days, `1d` to `3650d`.
    #[param(pattern = "^[0-9]+d$", example = "30d")]
    active_within: Option<String>,
    /// The only order (newest first); may be omitted.
    sort: Option<Sort>,
    /// `(page − 1) × per_page` may be at most 10,000; further pages are reached with `cursor`.
    #[param(minimum = 1, default = 1)]
    page: Option<u32>,
    #[param(minimum = 1, maximum = 100, default = 25)]
    per_page: Option<u32>,
    /// `next_cursor` of the previous page, with the same filters and `per_page`.
    cursor: Option<String>,
    /// The change feed instead of the list: contacts changed at or after this time, oldest
    /// change first, removed ones as tombstones; only `per_page` and `cursor` go with it.
    #[param(format = DateTime)]
    updated_since: Option<String>,
}

#[derive(ToSchema)]
pub enum Range {
    #[serde(rename = "today")]
    Today,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
}

#[derive(ToSchema)]
pub enum Sort {
    #[serde(rename = "-created_at")]
    NewestFirst,
}

/// Paging by cursor (conversations, exports): 25 a page unless said otherwise.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorPaging {
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The log's filters, besides `per_page` and `cursor`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A person's id (`usr_…`) or `key:<key name>`.
    actor: Option<String>,
    /// Part of the action, e.g. `contacts` or `DELETE`.
    action: Option<String>,
    /// RFC 3339; entries at or after it.
    #[param(format = DateTime)]
    from: Option<String>,
    /// RFC 3339; entries at or before it.
    #[param(format = DateTime)]
    to: Option<String>,
    /// 1 to 100, default 50.
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
    cursor: Option<String>,
}

/// Paging of a segment's members: numbered pages or cursors, as the list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberPaging {
    #[param(minimum = 1, default = 1)]
    page: Option<u32>,
    #[param(minimum = 1, maximum = 100, default = 25)]
    per_page: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The analytics period: UTC days, both ends included, at most 366 days.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Default `to` − 29 days; not after `to`. A date, or an RFC 3339 timestamp whose date counts.
    #[param(example = "2025-08-01")]
    from: Option<String>,
    /// Default today (UTC).
    #[param(example = "2025-08-31")]
    to: Option<String>,
}

/// A contact named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ContactPath {
    /// The contact's id.
    #[param(minimum = 1, maximum = 999_999_999_999.0)]
    id: u64,
}

/// Guards an edit against lost updates: `412` when the item is at another version.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The strong ETag of the version the change was made on, such as `"3"`.
    #[param(rename = "If-Match", pattern = r#"^\s*"[0-9]+"\s*$"#, example = "\"3\"")]
    if_match: Option<String>,
}

/// Whether a conversation is still going on.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    Open,
    Closed,
}

/// Where a merge is.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MergeState {
    /// Conversations and notes may still be moving; reading the merge with `write` finishes it.
    Started,
    Done,
    Undone,
}

/// Where a retention run is.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Done,
    Failed,
}

/// Where an export is.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    Queued,
    Running,
    Ready,
    Failed,
}

/// Where an import is.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    AwaitingUpload,
    Queued,
    Running,
    Done,
    Failed,
}

/// An imported file's format, told from its first bytes.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportFileFormat {
    Csv,
    Xlsx,
}

/// A contact field a file column can fill.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportField {
    Name,
    Email,
    Phone,
    Tags,
    Notes,
    Status,
    Channel,
    Consent,
}

/// What a row whose email or phone belongs to a contact does.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateRule {
    Skip,
    FillEmpty,
    Overwrite,
}

/// An export's file format.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Json,
}

/// What a bulk request does to each contact.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkActionName {
    Tag,
    Untag,
    SetStatus,
    Delete,
}

/// Which contact's value a merge keeps, per field (`model::merge::CHOOSABLE`).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeChoices {
    #[schema(nullable = false)]
    name: Option<MergeSide>,
    #[schema(nullable = false)]
    email: Option<MergeSide>,
    #[schema(nullable = false)]
    phone: Option<MergeSide>,
    #[schema(nullable = false)]
    notes: Option<MergeSide>,
    #[schema(nullable = false)]
    status: Option<MergeSide>,
}

/// Which contact's value a merge keeps.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MergeSide {
    This,
    Other,
}

/// A filter's value: as in the list's query string, or a boolean for `has_email` and `has_phone`.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum FilterValue {
    Text(String),
    Flag(bool),
}

/// A contact id (a positive integer below 10^12), where a body gives it as a number.
pub struct ContactIdNumber;

impl utoipa::PartialSchema for ContactIdNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{ObjectBuilder, Type};
        ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(999_999_999_999_i64)).into()
    }
}

impl ToSchema for ContactIdNumber {
    fn name() -> std::borrow::Cow<'static, str> {
        "ContactId".into()
    }
}

/// The ids of a bulk action: 1 to 100 contact ids, each once.
pub fn bulk_contact_ids() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name(ContactIdNumber::name()))
        .min_items(Some(1))
        .max_items(Some(100))
        .unique_items(true)
        .description(Some("1 to 100 contact ids, each once"))
        .build()
}
