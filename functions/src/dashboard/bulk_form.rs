//! The bulk-action controls above the contacts table: an action, its tag or status, and
//! "all matching"; the rows' checkboxes are in the table. Shown again as sent, with the
//! problem beside its field, when an action is refused.

use super::format::Form;
use super::labels::status_label;
use crate::api::contacts::bulk::MAX_IDS;
use maud::{html, Markup};
use model::domain::{ContactId, LeadStatus};

pub const ACTIONS: [(&str, &str); 4] =
    [("tag", "Add tag"), ("untag", "Remove tag"), ("set_status", "Set status"), ("delete", "Delete")];

/// A bulk form sent back: what was chosen, and the problem with it (field, message).
pub struct Draft<'a> {
    pub form: &'a Form,
    pub error: Option<(String, String)>,
}

impl Draft<'_> {
    pub fn checked(&self, id: ContactId) -> bool {
        self.form.all("id").iter().any(|v| v.trim() == id.to_string())
    }

    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|(f, _)| f == field)
    }
}

/// The controls; `total` is the number of contacts matching the filters, when known.
pub fn controls(total: Option<u64>, draft: Option<&Draft>) -> Markup {
    let get = |name: &str| draft.map_or("", |d| d.form.get(name));
    let invalid = |field: &str| draft.is_some_and(|d| d.invalid(field));
    let described = |field: &str| invalid(field).then_some("bulk-error");
    html! {
        fieldset.bulk {
            legend { "Bulk action on the selected contacts" }
            div.field {
                label for="bulk-action" { "Action" }
                select #bulk-action name="action" aria-invalid=[invalid("action").then_some("true")] aria-describedby=[described("action")] {
                    @for (value, text) in ACTIONS { option value=(value) selected[get("action") == value] { (text) } }
                }
            }
            div.field {
                label for="bulk-tag" { "Tag (to add or remove)" }
                input #bulk-tag type="text" name="bulk_tag" value=(get("bulk_tag")) maxlength="50" aria-invalid=[invalid("tag").then_some("true")] aria-describedby=[described("tag")];
            }
            div.field {
                label for="bulk-status" { "Status (to set)" }
                select #bulk-status name="bulk_status" aria-invalid=[invalid("status").then_some("true")] aria-describedby=[described("status")] {
                    @for s in LeadStatus::ALL { option value=(s.as_str()) selected[get("bulk_status") == s.as_str()] { (status_label(s)) } }
                }
            }
            div.field.check {
                input #bulk-all type="checkbox" name="all" value="1" checked[get("all") == "1"] aria-invalid=[invalid("ids").then_some("true")] aria-describedby=[described("ids")];
                label for="bulk-all" {
                    @match total {
                        Some(1) => { "Select the 1 contact matching the filters" }
                        Some(n) => { "Select all " (n) " contacts matching the filters" }
                        None => { "Select all contacts matching the filters" }
                    }
                    " (up to " (MAX_IDS) ")"
                }
            }
            button.primary type="submit" { "Apply to selected" }
            @if let Some((_, message)) = draft.and_then(|d| d.error.as_ref()) {
                p.error #bulk-error role="alert" { (message) }
            }
        }
    }
}
