//! `GET /contacts`: the contacts table with its filters and pagination. The filters live
//! in the URL (a view can be shared and reloaded) and are translated into the API's list
//! parameters, parsed by the API's own `ListRequest::parse`.

use super::bulk_form::{self, Draft};
use super::format::{date_time, link, Form};
pub use super::labels::{channel_label, score_label, status_label};
use super::layout::{html, page as shell};
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::contact::{Contact, ListedContact};
use model::domain::{Channel, ContactId, LeadStatus, Name, Tag};
use model::lead::Score;
use model::listing::{api_time, day_start, FieldError, ListRequest};
use model::usecases::contacts::ListedPage;
use model::workspace::Counters;

/// The page's own parameters, as they appear in its URL.
const FILTERS: [&str; 8] = ["q", "channel", "range", "from", "to", "status", "score", "tag"];

pub const RANGES: [(&str, &str); 5] =
    [("", "Any time"), ("today", "Today"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("custom", "Custom range")];

/// The filters of a view, as the person chose them.
struct View<'a> {
    query: &'a Form,
    /// The workspace's time zone, whose days the date filters pick.
    zone: Tz,
}

impl View<'_> {
    fn get(&self, name: &str) -> &str {
        self.query.get(name).trim()
    }

    fn custom_range(&self) -> bool {
        let range = self.get("range");
        range == "custom" || (range.is_empty() && (!self.get("from").is_empty() || !self.get("to").is_empty()))
    }

    /// The filters, for links that keep them.
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        FILTERS
            .iter()
            .map(|k| (*k, self.get(k)))
            .filter(|(k, _)| self.custom_range() || !matches!(*k, "from" | "to"))
            .collect()
    }

    /// The API's list parameters for this view.
    fn list_parameters(&self) -> Result<Vec<(String, String)>, FieldError> {
        let mut out = Vec::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                out.push((k.to_string(), v.to_string()));
            }
        };
        for k in ["q", "channel", "status", "score", "tag", "page", "cursor"] {
            put(k, self.get(k));
        }
        if self.custom_range() {
            put("created_after", &day_bound(self.get("from"), "created_after", self.zone, false)?);
            put("created_before", &day_bound(self.get("to"), "created_before", self.zone, true)?);
        } else {
            put("range", self.get("range"));
        }
        Ok(out)
    }
}

/// The API's list parameters for a view given as a query string or form; custom dates are
/// days of `zone`, the workspace's time zone.
pub fn list_parameters(form: &Form, zone: Tz) -> Result<Vec<(String, String)>, FieldError> {
    View { query: form, zone }.list_parameters()
}

/// A date from a date input as an API timestamp: the first second of that day in `zone`,
/// or with `end_of_day` its last (days of 23 or 25 hours included).
fn day_bound(raw: &str, field: &str, zone: Tz, end_of_day: bool) -> Result<String, FieldError> {
    if raw.is_empty() {
        return Ok(String::new());
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| d.succ_opt().is_some())
        .ok_or_else(|| FieldError::new(field, format!("`{raw}` is not a date such as 2025-08-22")))?;
    let bound = match end_of_day {
        false => day_start(&zone, day),
        true => day_start(&zone, day.succ_opt().expect("checked above")) - Duration::seconds(1),
    };
    Ok(api_time(bound))
}

/// The label of an API parameter on this page.
fn field_label(field: &str) -> &str {
    match field {
        "q" => "Search",
        "channel" => "Channel",
        "range" => "Date",
        "created_after" => "From",
        "created_before" => "To",
        "status" => "Status",
        "score" => "Score",
        "tag" => "Tag",
        "page" | "cursor" | "per_page" => "Page",
        other => other,
    }
}

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let visitor = session::require(d, &req).await?;
    render(d, &visitor, &Form::query(&req), Returned::default(), 200).await
}

/// A form of this page sent back with a problem: shown again as it was sent.
#[derive(Default)]
pub struct Returned<'a> {
    pub bulk: Option<Draft<'a>>,
    /// "Save as segment": the name typed and what is wrong with it.
    pub segment: Option<(&'a str, String)>,
}

/// The page for the view in `query` (the URL's query, or a form that carries the view).
pub async fn render(d: &Dashboard, visitor: &Visitor, query: &Form, returned: Returned<'_>, status: u16) -> PageResult {
    let zone = visitor.caller.workspace.time_zone;
    let view = View { query, zone };
    let ws = &visitor.caller.workspace.id;
    let (counters, tags) = tokio::try_join!(d.store.counters(ws), d.store.tag_counts(ws))?;
    let listed = match view
        .list_parameters()
        .and_then(|p| ListRequest::parse(ws, &p, Utc::now().with_timezone(&zone), &d.cursors))
    {
        Ok(list) => {
            let page = model::usecases::contacts::list(&d.store, ws, &list, &d.cursors).await?;
            Ok((list, page))
        }
        Err(e) => Err(e),
    };
    let status = if listed.is_ok() { status } else { 400 };
    let pairs = view.pairs();
    let content = markup! {
        h1 { "Contacts" }
        @if let Some(id) = query.filled("deleted").and_then(|id| id.parse::<u64>().ok()) {
            div.notice role="status" {
                @if visitor.caller.workspace.deletion_grace_days == 0 {
                    "Contact " (id) " was deleted, with its conversation history."
                } @else {
                    "Contact " (id) " was deleted. It can be restored for " (visitor.caller.workspace.deletion_grace_days) " days. "
                    @if visitor.can_write() {
                        form.inline method="post" action={ "/contacts/" (id) "/restore" } {
                            input type="hidden" name="csrf" value=(visitor.csrf);
                            button.link-button type="submit" { "Undo" }
                        }
                    }
                }
            }
        }
        @if let (Some(id), Some(receipt)) = (
            query.filled("erased").and_then(|id| id.parse::<u64>().ok()),
            query.filled("receipt").filter(|r| model::gdpr::is_erasure_id(r)),
        ) {
            div.notice role="status" {
                @if query.filled("pending").is_some() {
                    "Contact " (id) " is hidden and its identities are suppressed; its history is being erased in the background (receipt " (receipt) ")."
                } @else {
                    "Contact " (id) " was erased, with its conversation history (receipt " (receipt) ")."
                }
            }
        }
        (filters(&view, &counters, &tags))
        @match &listed {
            Ok((list, result)) => {
                @if visitor.can_write() {
                    (save_segment_form(visitor, &pairs, returned.segment.as_ref()))
                    form #bulk method="post" action="/contacts/bulk" aria-label="Bulk actions" {
                        input type="hidden" name="csrf" value=(visitor.csrf);
                        (hidden_view(&pairs, query))
                        (bulk_form::controls(result.total, returned.bulk.as_ref()))
                        (results(visitor, "/contacts", &pairs, list, result, Some(returned.bulk.as_ref())))
                    }
                } @else {
                    (results(visitor, "/contacts", &pairs, list, result, None))
                }
                @if visitor.is_admin() && d.exports.is_some() { (export_form(visitor, "this view", &pairs)) }
            },
            Err(e) => p.error role="alert" { (field_label(&e.field)) ": " (e.message) },
        }
    };
    Ok(html(status, shell("Contacts", Some(visitor), content)))
}

/// The view's filters and place as hidden fields, so a form's answer can show the same view.
fn hidden_view(pairs: &[(&'static str, &str)], query: &Form) -> Markup {
    markup! {
        @for (k, val) in pairs { @if !val.is_empty() { input type="hidden" name=(k) value=(val); } }
        @for k in ["page", "cursor"] { @if let Some(val) = query.filled(k) { input type="hidden" name=(k) value=(val); } }
    }
}

/// "Save as segment": the view's filters ride along as hidden fields.
fn save_segment_form(v: &Visitor, pairs: &[(&'static str, &str)], returned: Option<&(&str, String)>) -> Markup {
    let name = returned.map_or("", |(n, _)| n);
    let error = returned.map(|(_, e)| e.as_str());
    markup! {
        form.save-segment method="post" action="/segments" aria-label="Save as segment" {
            input type="hidden" name="csrf" value=(v.csrf);
            @for (k, val) in pairs { @if !val.is_empty() { input type="hidden" name=(k) value=(val); } }
            label for="segment-name" { "Save these filters as a segment" }
            input #segment-name type="text" name="name" value=(name) maxlength="100" required placeholder="Segment name"
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "segment-error")];
            button.secondary type="submit" { "Save as segment" }
            @if let Some(e) = error { p.error #segment-error role="alert" { (e) } }
        }
    }
}

fn filters(view: &View, counters: &Counters, tags: &[(Tag, u64)]) -> Markup {
    let selected = |name: &str, value: &str| view.get(name) == value;
    markup! {
        form.filters method="get" action="/contacts" role="search" aria-label="Filter contacts" {
            div.field.grow {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(view.get("q")) placeholder="Name, email or phone";
            }
            div.field {
                label for="channel" { "Channel" }
                select #channel name="channel" {
                    option value="" selected[selected("channel", "")] { "All channels (" (counters.total) ")" }
                    @for c in Channel::ALL {
                        option value=(c.as_str()) selected[selected("channel", c.as_str())] {
                            (c.as_str()) " (" (counters.channels.get(&c).copied().unwrap_or(0)) ")"
                        }
                    }
                }
            }
            div.field {
                label for="range" { "Date" }
                select #range name="range" data-custom-range {
                    @for (value, text) in RANGES {
                        option value=(value) selected[if value == "custom" { view.custom_range() } else { !view.custom_range() && selected("range", value) }] { (text) }
                    }
                }
            }
            fieldset.field.custom-range #custom-range hidden[!view.custom_range()] {
                legend { "Custom range" }
                label for="from" { "From" }
                input #from type="date" name="from" value=(view.get("from"));
                label for="to" { "To" }
                input #to type="date" name="to" value=(view.get("to"));
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" selected[selected("status", "")] { "Any status" }
                    @for s in LeadStatus::ALL {
                        option value=(s.as_str()) selected[selected("status", s.as_str())] { (status_label(s)) }
                    }
                }
            }
            div.field {
                label for="score" { "Score" }
                select #score name="score" {
                    option value="" selected[selected("score", "")] { "Any score" }
                    @for sc in Score::ALL {
                        option value=(sc.as_str()) selected[selected("score", sc.as_str())] {
                            (score_label(sc)) " (" (counters.scores.get(sc.as_str()).copied().unwrap_or(0)) ")"
                        }
                    }
                }
            }
            div.field {
                label for="tag" { "Tag" }
                select #tag name="tag" {
                    option value="" selected[selected("tag", "")] { "Any tag" }
                    @for (tag, count) in tags {
                        option value=(tag.as_str()) selected[selected("tag", tag.as_str())] { (tag.as_str()) " (" (count) ")" }
                    }
                }
            }
            div.actions {
                button.primary type="submit" { "Apply filters" }
                a href="/contacts" { "Clear filters" }
            }
        }
    }
}

/// The table of a page of contacts with its summary and page links (to `base` with `pairs`).
/// `selection`: rows get checkboxes for the bulk form around it (`Some(None)`: none checked).
pub fn results(
    visitor: &Visitor,
    base: &str,
    pairs: &[(&str, &str)],
    list: &ListRequest,
    result: &ListedPage,
    selection: Option<Option<&Draft>>,
) -> Markup {
    let pages = result.total.map(|t| t.div_ceil(u64::from(list.per_page)).max(1));
    let previous = (list.page > 1).then(|| {
        let page = (list.page - 1).to_string();
        let mut pairs = pairs.to_vec();
        if list.page > 2 {
            pairs.push(("page", &page));
        }
        link(base, &pairs)
    });
    let next = result.next_cursor.as_ref().map(|cursor| {
        let mut pairs = pairs.to_vec();
        pairs.push(("cursor", cursor));
        link(base, &pairs)
    });
    markup! {
        p.summary #summary role="status" {
            @match result.total {
                Some(1) => { "1 contact" }
                Some(t) => { (t) " contacts" }
                None => { "Contacts matching the filters" }
            }
            @if result.contacts.is_empty() { "" } @else { " · page " (list.page) @if let Some(p) = pages { " of " (p) } }
        }
        @if result.contacts.is_empty() {
            p.empty { "No contacts match these filters." }
        } @else {
            div.table-wrap {
                table.contacts aria-describedby="summary" {
                    thead {
                        tr {
                            th scope="col" { "ID" }
                            th scope="col" { "Name" }
                            th scope="col" { "Email" }
                            th scope="col" { "Phone" }
                            th scope="col" { "Channel" }
                            th scope="col" { "Created At" }
                            th scope="col" { "Actions" }
                        }
                    }
                    tbody {
                        @for c in &result.contacts { (row(visitor, c, selection.map(|d| d.is_some_and(|d| d.checked(c.id))))) }
                    }
                }
            }
        }
        @if previous.is_some() || next.is_some() {
            nav.pagination aria-label="Pages" {
                @if let Some(href) = &previous { a rel="prev" href=(href) { "← Previous" } } @else { span {} }
                span { "Page " (list.page) @if let Some(p) = pages { " of " (p) } }
                @if let Some(href) = &next { a rel="next" href=(href) { "Next →" } } @else { span {} }
            }
        }
    }
}

/// A contact's display name: its name, or its number.
pub fn display_name(c: &Contact) -> String {
    name_or_number(c.id, c.name.as_ref())
}

fn name_or_number(id: ContactId, name: Option<&Name>) -> String {
    name.map_or_else(|| format!("Contact {id}"), |n| n.as_str().to_string())
}

/// A row; `checked` is `Some` when the row can be selected for a bulk action.
fn row(visitor: &Visitor, c: &ListedContact, checked: Option<bool>) -> Markup {
    let name = name_or_number(c.id, c.name.as_ref());
    markup! {
        tr data-contact-id=(c.id) {
            // The row's box sits in its ID cell: the columns stay the product's.
            td data-label="ID" {
                @if let Some(checked) = checked {
                    input.select type="checkbox" name="id" value=(c.id) checked[checked] aria-label={ "Select " (name) };
                    " "
                }
                (c.id)
            }
            td data-label="Name" { a href={ "/contacts/" (c.id) } { (name) } }
            td data-label="Email" { (c.email.as_ref().map_or("", |e| e.as_str())) }
            // International format, as exports have it; the contact page shows it as given.
            td data-label="Phone" { (c.phone.as_ref().map(|p| p.international()).unwrap_or_default()) }
            td data-label="Channel" { (c.channel.as_str()) }
            td data-label="Created At" { (time(c.created_at, visitor.caller.workspace.time_zone)) }
            td.row-actions data-label="Actions" {
                @if visitor.can_write() {
                    a.icon href={ "/contacts/" (c.id) "#edit" } aria-label={ "Edit " (name) } title={ "Edit " (name) } { "✏️" }
                    a.icon.danger href={ "/contacts/" (c.id) "/delete" } aria-label={ "Delete " (name) } title={ "Delete " (name) } { "✖" }
                } @else {
                    a href={ "/contacts/" (c.id) } aria-label={ "View " (name) } { "View" }
                }
            }
        }
    }
}

/// A time as the page shows it, machine-readable too.
pub fn time(t: DateTime<Utc>, zone: Tz) -> Markup {
    markup! { time datetime=(api_time(t)) { (date_time(t, zone)) } }
}

const FORMATS: [(&str, &str); 3] = [("csv", "CSV"), ("xlsx", "Excel"), ("json", "JSON")];

/// An export form: what to export rides along as hidden fields (the view's filters, or a
/// segment's id); `what` names it ("this view").
pub fn export_form(v: &Visitor, what: &str, hidden: &[(&str, &str)]) -> Markup {
    markup! {
        form.export method="post" action="/exports" aria-label={ "Export " (what) } {
            input type="hidden" name="csrf" value=(v.csrf);
            @for (k, val) in hidden { @if !val.is_empty() { input type="hidden" name=(k) value=(val); } }
            label for="export-format" { "Export " (what) " as" }
            select #export-format name="format" {
                @for (value, text) in FORMATS { option value=(value) { (text) } }
            }
            button.secondary type="submit" { "Export" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameters(query: &str) -> Result<Vec<(String, String)>, FieldError> {
        let form = Form::parse_query(query);
        list_parameters(&form, Tz::UTC)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn filters_become_the_api_list_parameters() {
        assert_eq!(
            parameters("q=olivia&channel=&range=7d&from=2025-01-01&status=&score=hot&tag=vip").unwrap(),
            pairs(&[("q", "olivia"), ("score", "hot"), ("tag", "vip"), ("range", "7d")])
        );
        assert_eq!(
            parameters("range=custom&from=2025-08-01&to=2025-08-31").unwrap(),
            pairs(&[("created_after", "2025-08-01T00:00:00Z"), ("created_before", "2025-08-31T23:59:59Z")])
        );
        assert_eq!(
            parameters("from=2025-08-01").unwrap(),
            pairs(&[("created_after", "2025-08-01T00:00:00Z")]),
            "dates alone mean a custom range"
        );
        assert_eq!(parameters("range=custom&from=yesterday").unwrap_err().field, "created_after");
    }

    #[test]
    fn custom_dates_are_days_of_the_workspaces_zone() {
        let form = Form::parse_query("from=2025-03-09&to=2025-03-09");
        // Los Angeles' 9 March 2025 has 23 hours: it starts in PST and ends in PDT.
        assert_eq!(
            list_parameters(&form, chrono_tz::America::Los_Angeles).unwrap(),
            pairs(&[("created_after", "2025-03-09T08:00:00Z"), ("created_before", "2025-03-10T06:59:59Z")])
        );
    }
}
