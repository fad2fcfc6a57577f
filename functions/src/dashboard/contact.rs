//! `GET /contacts/{id}`: a contact's profile, its edit form, its conversation history
//! with the transcript of each conversation, and its state in each integration.

use super::contacts::{channel_label, display_name, score_label, status_label, time};
use super::edit_form::{self, EditForm};
use super::format::{date_time, duration, link, Form};
use super::integration_form::kind_label;
use super::integrations::sync_error;
use super::layout::{html, page as shell};
use super::merge_undo;
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::http::{request, Problem};
use chrono_tz::Tz;
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::channels::MessageRole;
use model::contact::Contact;
use model::conversation::{Conversation, ConversationStatus, Message};
use model::domain::{ConsentStatus, ContactId};
use model::integration::{ContactSync, Integration};
use model::listing::Paging;
use model::note::Note;

/// Conversations per page of the history.
const CONVERSATIONS_PER_PAGE: u32 = 10;
/// Messages shown of one transcript; the API pages through longer ones.
const MESSAGES_SHOWN: u32 = 200;
/// Notes shown on the page, newest first.
const NOTES_SHOWN: u32 = 50;

pub fn contact_id(req: &Request) -> Result<ContactId, Problem> {
    request::path_param(req, "id", str::parse::<ContactId>)
}

/// The contact, unless it was deleted or merged into another (the 404 says which).
pub async fn load(d: &Dashboard, v: &Visitor, id: ContactId) -> Result<Contact, Problem> {
    let ws = &v.caller.workspace.id;
    match d.store.get_contact(ws, id).await? {
        Some(c) if c.is_visible() => Ok(c),
        Some(c) => Err(Problem::not_found(format!(
            "contact {id} was deleted; it can be restored until {}",
            c.purge_after.map(|t| date_time(t, v.caller.workspace.time_zone)).unwrap_or_default()
        ))),
        None => match d.store.merged_into(ws, id).await? {
            Some((survivor, _)) => Err(Problem::not_found(format!("contact {id} was merged into contact {survivor}"))),
            None => Err(Problem::not_found(format!("there is no contact {id} in this workspace"))),
        },
    }
}

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let visitor = session::require(d, &req).await?;
    let id = contact_id(&req)?;
    let query = Form::query(&req);
    let contact = load(d, &visitor, id).await?;
    let notice = match query.get("saved") {
        "1" => Some(Notice::Saved("Changes saved.")),
        "0" => Some(Notice::Saved("Nothing changed.")),
        _ if query.get("restored") == "1" => Some(Notice::Saved("Contact restored.")),
        _ if query.get("note") == "added" => Some(Notice::Saved("Note added.")),
        _ if query.get("note") == "deleted" => Some(Notice::Saved("Note deleted.")),
        _ if query.filled("merged").is_some() => Some(Notice::Saved("The contacts were merged into this one.")),
        _ if query.filled("unmerged").is_some() => {
            Some(Notice::Saved("Merge undone: both contacts are back as they were."))
        }
        _ => None,
    };
    render(d, &visitor, &contact, query.get("cursor"), &Draft::of(&contact), notice, 200).await
}

/// What the page's forms show: the edit form's values and errors, and a note being written.
pub struct Draft {
    pub edit: EditForm,
    pub note: String,
    pub note_error: Option<String>,
}

impl Draft {
    pub fn of(c: &Contact) -> Self {
        Draft { edit: EditForm::of(c), note: String::new(), note_error: None }
    }
}

/// A message above the page's content.
pub enum Notice {
    Saved(&'static str),
    Problem(String),
}

/// The page, with the edit form as given (its values and errors) and the history page at `cursor`.
pub async fn render(
    d: &Dashboard,
    v: &Visitor,
    c: &Contact,
    cursor: &str,
    draft: &Draft,
    notice: Option<Notice>,
    status: u16,
) -> PageResult {
    let ws = &v.caller.workspace.id;
    let ((notes, more_notes), duplicates, syncs, merges) = tokio::try_join!(
        d.store.notes_page(ws, c.id, NOTES_SHOWN, None),
        d.store.find_duplicates(ws, c),
        d.store.contact_integrations(ws, c.id),
        d.store.merges_into(ws, c.id)
    )?;
    let scope = format!("conversations:{}", c.id);
    let params: Vec<(String, String)> = if cursor.is_empty() { vec![] } else { vec![("cursor".into(), cursor.into())] };
    let paging = Paging::parse(ws, &scope, &params, CONVERSATIONS_PER_PAGE, &d.cursors)?;
    let (conversations, next) = d.store.list_conversations(ws, c.id, paging.per_page, paging.position.clone()).await?;
    let mut history = Vec::with_capacity(conversations.len());
    for conversation in conversations {
        let (messages, more) = d.store.list_messages(ws, &conversation.id, MESSAGES_SHOWN, None).await?;
        history.push((conversation, messages, more.is_some()));
    }
    let older = next
        .map(|p| link(&format!("/contacts/{}", c.id), &[("cursor", &paging.next_cursor(ws, &scope, p, &d.cursors))]));
    let name = display_name(c);
    let content = markup! {
        p.crumbs { a href="/contacts" { "← All contacts" } }
        h1 { (name) }
        @match &notice {
            Some(Notice::Saved(text)) => p.notice role="status" { (text) },
            Some(Notice::Problem(text)) => p.error role="alert" { (text) },
            None => {},
        }
        div.columns {
            section.card aria-labelledby="profile-heading" {
                h2 #profile-heading { "Profile" }
                (profile(c, v.caller.workspace.time_zone))
            }
            @if v.can_write() {
                section.card #edit aria-labelledby="edit-heading" {
                    h2 #edit-heading { "Edit contact" }
                    (edit_form::form_markup(v, c, &draft.edit))
                }
            }
        }
        div.columns {
            (notes_section(v, c, &notes, more_notes.is_some(), &draft.note, draft.note_error.as_deref()))
            (duplicates_section(v, c, &duplicates))
        }
        (merge_undo::section(v, c, &merges))
        section aria-labelledby="history-heading" {
            h2 #history-heading { "Conversation history" }
            @if history.is_empty() {
                p.empty { @if paging.page > 1 { "No older conversations." } @else { "No conversations yet." } }
            }
            @for (i, (conversation, messages, truncated)) in history.iter().enumerate() {
                (conversation_markup(conversation, messages, *truncated, paging.page == 1 && i == 0, v.caller.workspace.time_zone))
            }
            @if let Some(href) = &older {
                p { a href=(href) { "Older conversations →" } }
            }
        }
        (sync_section(v, &syncs))
        section.card aria-labelledby="gdpr-heading" {
            h2 #gdpr-heading { "Privacy (GDPR)" }
            p { "Everything held about " (name) ": profile, consent history, notes and every transcript." }
            @if v.is_admin() {
                a.button href={ "/contacts/" (c.id) "/gdpr-export" } { "Download their data (JSON)" }
                " "
                a.button.danger href={ "/contacts/" (c.id) "/erase" } { "Erase " (name) "…" }
            }
        }
        @if v.can_write() {
            section.card.danger-zone aria-labelledby="delete-heading" {
                h2 #delete-heading { "Delete contact" }
                p { "Deleting a contact removes all of their conversation history." }
                a.button.danger href={ "/contacts/" (c.id) "/delete" } { "Delete " (name) "…" }
            }
        }
    };
    Ok(html(status, shell(&name, Some(v), content)))
}

fn sync_section(v: &Visitor, syncs: &[(Integration, ContactSync)]) -> Markup {
    let (dash, zone) = ("—", v.caller.workspace.time_zone);
    markup! {
        section.card #sync aria-labelledby="sync-heading" {
            h2 #sync-heading { "CRM sync" }
            @if syncs.is_empty() {
                p.empty { "Not sent to any CRM or webhook yet." }
            } @else {
                div.table-wrap {
                    table.listing.syncs {
                        caption.visually-hidden { "This contact in each integration" }
                        thead { tr { th scope="col" { "Integration" } th scope="col" { "Remote ID" } th scope="col" { "Synced at" } th scope="col" { "Last error" } } }
                        tbody {
                            @for (i, s) in syncs {
                                tr data-integration-id=(i.id) {
                                    td data-label="Integration" {
                                        span {
                                            @if v.is_admin() { a href="/integrations" { (i.name) } } @else { (i.name) }
                                            " " span.hint { "(" (kind_label(i.target.kind())) ")" }
                                        }
                                    }
                                    td data-label="Remote ID" { (s.remote_id.as_deref().unwrap_or(dash)) }
                                    td data-label="Synced at" { @match s.synced_at { Some(t) => (time(t, zone)), None => (dash) } }
                                    td data-label="Last error" { @match &s.last_error { Some(e) => (sync_error(e, zone)), None => (dash) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn profile(c: &Contact, zone: Tz) -> Markup {
    let dash = "—";
    markup! {
        dl.profile {
            dt { "ID" } dd { (c.id) }
            dt { "Name" } dd { (c.name.as_ref().map_or(dash, |n| n.as_str())) }
            dt { "Email" } dd {
                @if let Some(e) = &c.email { a href={ "mailto:" (e.as_str()) } { (e.as_str()) } } @else { (dash) }
            }
            dt { "Phone" } dd {
                @if let Some(p) = &c.phone {
                    (p.raw())
                    @if !p.is_valid() { " " span.hint { "(not a valid number)" } }
                } @else { (dash) }
            }
            dt { "Channel" } dd { (c.channel.as_str()) " (" (channel_label(c.channel)) ")" }
            dt { "Status" } dd { span class={ "status status-" (c.status.as_str()) } { (status_label(c.status)) } }
            dt { "Score" } dd {
                @let reasons = model::lead::score(c, chrono::Utc::now()).1;
                span class={ "score score-" (c.score.as_str()) } { (score_label(c.score)) }
                @if !reasons.is_empty() {
                    ul.reasons { @for r in &reasons { li { (r) } } }
                }
            }
            dt { "Tags" } dd {
                @if c.tags.is_empty() { (dash) }
                @for t in &c.tags { span.tag { (t.as_str()) } " " }
            }
            dt { "First contact" } dd { (time(c.created_at, zone)) }
            dt { "Last activity" } dd { (time(c.last_activity_at, zone)) }
            dt { "Marketing consent" } dd {
                (match c.consent.status { ConsentStatus::Unknown => "Not asked", ConsentStatus::Granted => "Granted", ConsentStatus::Withdrawn => "Withdrawn (opted out)" })
            }
            @if !c.identities.is_empty() {
                dt { "Channel identities" } dd {
                    ul.plain {
                        @for i in &c.identities {
                            li { (i.channel.as_str()) ": " (i.username.as_deref().map_or(i.external_id.as_str(), |u| u)) }
                        }
                    }
                }
            }
            dt { "Notes" } dd.notes { (c.notes.as_deref().unwrap_or(dash)) }
        }
    }
}

fn conversation_markup(c: &Conversation, messages: &[Message], truncated: bool, open: bool, zone: Tz) -> Markup {
    let status = match c.status {
        ConversationStatus::Open => "Open",
        ConversationStatus::Closed => "Closed",
    };
    markup! {
        details.conversation open[open] data-conversation-id=(c.id) {
            summary {
                span.conversation-title { "Conversation · " (time(c.started_at, zone)) }
                dl.facts {
                    div { dt { "Channel" } dd { (channel_label(c.channel)) } }
                    div { dt { "Duration" } dd { (duration(c.duration())) } }
                    div { dt { "Messages" } dd { (c.message_count) } }
                    div { dt { "Status" } dd { (status) } }
                }
            }
            @if messages.is_empty() {
                p.empty { "This conversation has no messages." }
            } @else {
                ol.transcript aria-label="Transcript" {
                    @for m in messages {
                        @let role = match m.role { MessageRole::User => "Visitor", MessageRole::Bot => "Bot", MessageRole::Agent => "Agent" };
                        li class={ "message from-" (role.to_lowercase()) } {
                            div.meta { strong { (role) } " · " (time(m.occurred_at, zone)) }
                            div.text {
                                @match &m.text {
                                    Some(t) => (t),
                                    None => em { "(" (m.message_type) ")" },
                                }
                            }
                        }
                    }
                }
                @if truncated { p.hint { "The first " (MESSAGES_SHOWN) " messages are shown; the API pages through the rest." } }
            }
        }
    }
}

fn notes_section(v: &Visitor, c: &Contact, notes: &[Note], more: bool, draft: &str, error: Option<&str>) -> Markup {
    let zone = v.caller.workspace.time_zone;
    markup! {
        section.card #notes aria-labelledby="notes-heading" {
            h2 #notes-heading { "Notes" }
            @if notes.is_empty() { p.empty { "No notes yet." } }
            @if more {
                p.hint { "The newest " (NOTES_SHOWN) " notes; the data download (Privacy) and the API hold them all." }
            }
            ol.notes {
                @for n in notes {
                    li.note {
                        div.meta { strong { (n.author) } " · " (time(n.created_at, zone)) }
                        div.text { (n.text) }
                        @if v.can_write() {
                            form.inline method="post" action={ "/contacts/" (c.id) "/notes/" (n.id) "/delete" } {
                                input type="hidden" name="csrf" value=(v.csrf);
                                button.link-button type="submit" aria-label={ "Delete the note of " (date_time(n.created_at, zone)) } { "Delete note" }
                            }
                        }
                    }
                }
            }
            @if v.can_write() {
                form method="post" action={ "/contacts/" (c.id) "/notes" } {
                    input type="hidden" name="csrf" value=(v.csrf);
                    div.field {
                        label for="note" { "New note" }
                        textarea #note name="text" rows="3" aria-invalid=[error.map(|_| "true")] { (draft) }
                        @if let Some(e) = error { p.field-error role="alert" { (e) } }
                    }
                    button.primary type="submit" { "Add note" }
                }
            }
        }
    }
}

fn duplicates_section(v: &Visitor, c: &Contact, duplicates: &[(Contact, Vec<String>)]) -> Markup {
    markup! {
        section.card #duplicates aria-labelledby="duplicates-heading" {
            h2 #duplicates-heading { "Possible duplicates" }
            @if duplicates.is_empty() { p.empty { "None found." } }
            ul.plain.duplicates {
                @for (other, reasons) in duplicates {
                    li {
                        a href={ "/contacts/" (other.id) } { (display_name(other)) } " (contact " (other.id) ", " (other.channel.as_str()) ")"
                        @if !reasons.is_empty() { div.hint { (reasons.join("; ")) } }
                        @if v.can_write() {
                            a href=(link(&format!("/contacts/{}/merge", c.id), &[("other", &other.id.to_string())])) { "Review merge…" }
                        }
                    }
                }
            }
        }
    }
}
