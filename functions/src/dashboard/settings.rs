//! `/settings`, for admins and owners: the workspace's settings (`PATCH /api/v1/workspace`'s
//! fields) and its retention policy, with a dry run that shows what the policy would do
//! (counts and examples) and a real run. The rules are the API's
//! (`api::workspace::change_settings`, `api::retention::set_policy`, `run_now`).

use super::contacts::time;
use super::format::{link, Form};
use super::layout::{html, page_refreshing, redirect};
use super::notice::Notice;
use super::session::{self, Visitor};
use super::{Dashboard, PageResult};
use crate::api::retention::{run_now, set_policy};
use crate::api::workspace::{change_settings, SettingsBody};
use crate::http::Problem;
use lambda_http::Request;
use maud::{html as markup, Markup};
use model::lead::INTENTS;
use model::retention::{RetentionAction, RetentionPolicy, RetentionRun, RunStatus};
use model::workspace::Workspace;
use std::collections::BTreeMap;

/// What these pages are for, as a refusal names it (admins and owners only).
const MANAGING: &str = "changing the workspace's settings";

/// Contacts a dry run's preview shows as examples.
const SAMPLE: usize = 10;

const ACTIONS: [(RetentionAction, &str, &str); 3] = [
    (RetentionAction::Flag, "flag", "Flag for review (tag inactive-review)"),
    (RetentionAction::Archive, "archive", "Archive (lead status archived)"),
    (RetentionAction::Delete, "delete", "Delete (restorable during the grace period)"),
];

/// The settings form's fields as text: the workspace's, or as sent when refused.
struct Typed {
    name: String,
    region: String,
    zone: String,
    grace: String,
    follow_up: String,
    archive: String,
    /// Per intent, one phrase a line.
    phrases: Vec<(String, String)>,
}

impl Typed {
    fn of(w: &Workspace) -> Self {
        let phrases = INTENTS
            .iter()
            .map(|(intent, _, _)| {
                let list = w.lead_rules.phrases.iter().find(|(i, _)| i == intent).map(|(_, p)| p.join("\n"));
                (intent.to_string(), list.unwrap_or_default())
            })
            .collect();
        Typed {
            name: w.name.clone(),
            region: w.default_region.map(|r| r.code()).unwrap_or_default(),
            zone: w.time_zone.name().to_string(),
            grace: w.deletion_grace_days.to_string(),
            follow_up: w.lead_rules.policy.follow_up_after_days.to_string(),
            archive: w.lead_rules.policy.archive_after_days.to_string(),
            phrases,
        }
    }

    fn sent(form: &Form) -> Self {
        Typed {
            name: form.get("name").into(),
            region: form.get("default_region").into(),
            zone: form.get("time_zone").into(),
            grace: form.get("deletion_grace_days").into(),
            follow_up: form.get("follow_up_after_days").into(),
            archive: form.get("archive_after_days").into(),
            phrases: INTENTS
                .iter()
                .map(|(i, _, _)| (i.to_string(), form.get(&format!("phrases_{i}")).into()))
                .collect(),
        }
    }

    /// The API's body; numbers that are not numbers are refused here, naming the field.
    fn body(&self) -> Result<SettingsBody, Problem> {
        fn number<T: std::str::FromStr>(field: &str, raw: &str) -> Result<T, Problem> {
            raw.trim().parse().map_err(|_| Problem::invalid_field(field, "must be a whole number of days"))
        }
        let phrases: BTreeMap<String, Vec<String>> =
            self.phrases.iter().map(|(i, text)| (i.clone(), text.lines().map(str::to_string).collect())).collect();
        Ok(SettingsBody {
            name: Some(self.name.clone()),
            default_region: Some(self.region.trim().to_string()).filter(|r| !r.is_empty()),
            deletion_grace_days: Some(number("deletion_grace_days", &self.grace)?),
            follow_up_after_days: Some(number("follow_up_after_days", &self.follow_up)?),
            archive_after_days: Some(number("archive_after_days", &self.archive)?),
            time_zone: Some(self.zone.trim().to_string()),
            intent_phrases: Some(Some(phrases)),
        })
    }
}

pub async fn page(d: &Dashboard, req: Request) -> PageResult {
    let v = session::require_admin(d, &req, MANAGING).await?;
    let query = Form::query(&req);
    let notice = if query.filled("saved").is_some() {
        Some(Notice::Done("Settings saved.".into()))
    } else {
        query.filled("policy").map(|_| Notice::Done("Retention policy saved.".into()))
    };
    let run = match query.filled("run") {
        Some(id) if id.len() <= 40 && id.starts_with("rr") && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            d.store.get_retention_run(&v.caller.workspace.id, id).await?
        }
        _ => None,
    };
    render(d, &v, None, notice, None, run).await
}

async fn render(
    d: &Dashboard,
    v: &Visitor,
    typed: Option<Typed>,
    notice: Option<Notice>,
    policy_notice: Option<Notice>,
    run: Option<RetentionRun>,
) -> PageResult {
    let ws = &v.caller.workspace.id;
    let typed = match typed {
        Some(t) => t,
        None => Typed::of(&d.store.get_workspace(ws).await?.ok_or_else(|| Problem::not_found("no such workspace"))?),
    };
    let policy = d.store.retention_policy(ws).await?;
    let sample = match &run {
        Some(r) if r.dry_run && r.status == RunStatus::Done => d.store.retention_sample(ws, r, SAMPLE).await?,
        _ => Vec::new(),
    };
    let runs = d.store.list_retention_runs(ws, 5).await?;
    let status = [&notice, &policy_notice].into_iter().flatten().map(Notice::status).max().unwrap_or(200);
    // A run still going shows its progress: the page reloads until it is done.
    let refresh = run.as_ref().filter(|r| r.status == RunStatus::Running).map(|_| 2);
    let zone = v.caller.workspace.time_zone;
    let content = markup! {
        h1 { "Settings" }
        @if let Some(n) = &notice { (n.render()) }
        section.card #workspace-settings {
            h2 { "Workspace" }
            form.settings method="post" action="/settings" {
                input type="hidden" name="csrf" value=(v.csrf);
                label for="ws-name" { "Name" }
                input #ws-name type="text" name="name" required maxlength="100" value=(typed.name);
                label for="ws-region" { "Default phone region" }
                input #ws-region type="text" name="default_region" maxlength="2" value=(typed.region)
                    aria-describedby="ws-region-hint" autocomplete="off";
                p.hint #ws-region-hint { "ISO country code (US, DE…) for phone numbers written without +country code. Blank leaves it as it is." }
                label for="ws-zone" { "Time zone" }
                input #ws-zone type="text" name="time_zone" required value=(typed.zone) aria-describedby="ws-zone-hint" autocomplete="off";
                p.hint #ws-zone-hint { "An IANA name such as Europe/Berlin or UTC: the pages' times and the list's days." }
                label for="ws-grace" { "Deletion grace period (days)" }
                input #ws-grace type="number" name="deletion_grace_days" min="0" max="365" required value=(typed.grace) aria-describedby="ws-grace-hint";
                p.hint #ws-grace-hint { "0 to 365: how long a deleted contact can be restored; 0 deletes at once." }
                fieldset {
                    legend { "Lead rules" }
                    label for="ws-follow-up" { "Follow up after (days without activity)" }
                    input #ws-follow-up type="number" name="follow_up_after_days" min="1" max="365" required value=(typed.follow_up);
                    label for="ws-archive" { "Archive after (days without activity)" }
                    input #ws-archive type="number" name="archive_after_days" min="2" max="3650" required value=(typed.archive);
                    @for (intent, text) in &typed.phrases {
                        label for=(format!("ws-phrases-{intent}")) { "Phrases that mean " strong { (intent) } " (one a line)" }
                        textarea #(format!("ws-phrases-{intent}")) name=(format!("phrases_{intent}")) rows="3" { (text) }
                    }
                }
                button.primary type="submit" { "Save settings" }
            }
        }
        section.card #retention {
            h2 { "Retention" }
            @if let Some(n) = &policy_notice { (n.render()) }
            p.hint { "What happens to contacts inactive for longer than the policy allows. The daily job runs an enabled policy." }
            form.settings method="post" action="/settings/retention" {
                input type="hidden" name="csrf" value=(v.csrf);
                label.check { input type="checkbox" name="enabled" checked[policy.enabled]; " Run daily" }
                label for="rt-days" { "Inactive after (days)" }
                input #rt-days type="number" name="inactive_after_days" min="30" max="3650" required value=(policy.inactive_after_days);
                label for="rt-action" { "Then" }
                select #rt-action name="action" {
                    @for (action, value, label) in ACTIONS {
                        option value=(value) selected[policy.action == action] { (label) }
                    }
                }
                button.primary type="submit" { "Save policy" }
            }
            form.settings.inline method="post" action="/settings/retention/runs" {
                input type="hidden" name="csrf" value=(v.csrf);
                input type="hidden" name="dry_run" value="1";
                button.secondary type="submit" { "Preview (dry run)" }
            }
            form.settings method="post" action="/settings/retention/runs" {
                input type="hidden" name="csrf" value=(v.csrf);
                input type="hidden" name="dry_run" value="0";
                label.check { input type="checkbox" name="confirm" required; " Apply the saved policy to the contacts now" }
                button.danger type="submit" { "Run now" }
            }
            @if let Some(r) = &run { (run_status(r, &sample, zone)) }
            @if !runs.is_empty() { (recent(&runs, zone)) }
        }
    };
    Ok(html(status, page_refreshing("Settings", Some(v), refresh, content)))
}

fn action_word(policy: &RetentionPolicy) -> &'static str {
    match policy.action {
        RetentionAction::Flag => "flagged",
        RetentionAction::Archive => "archived",
        RetentionAction::Delete => "deleted",
    }
}

fn count(r: &RetentionRun, what: &str) -> u64 {
    r.counts.get(what).copied().unwrap_or(0)
}

fn run_status(r: &RetentionRun, sample: &[model::contact::Contact], zone: chrono_tz::Tz) -> Markup {
    let word = action_word(&r.policy);
    let (title, state) = match (r.dry_run, r.status) {
        (true, RunStatus::Running) => ("Preview", "running…"),
        (true, RunStatus::Done) => ("Preview", "done: nothing was changed"),
        (false, RunStatus::Running) => ("Run", "running… (this page reloads)"),
        (false, RunStatus::Done) => ("Run", "done"),
        (_, RunStatus::Failed) => ("Run", "failed"),
    };
    markup! {
        div.run role="status" #run-status {
            h3 { (title) " " (r.id) ": " (state) }
            p {
                "Contacts inactive since before " (time(r.cutoff, zone)) " (" (r.policy.inactive_after_days) " days). "
                "Examined " strong { (count(r, "examined")) } "; "
                @if r.dry_run { "would be " } (word) " " strong.retention-count { (count(r, word)) } "."
            }
            @if let Some(e) = &r.error { p.error role="alert" { (e) } }
            @if r.dry_run && r.status == RunStatus::Done {
                @if sample.is_empty() {
                    p.empty { "No contact would be changed." }
                } @else {
                    p { "For example (longest inactive first):" }
                    ul.plain.sample {
                        @for c in sample {
                            li { a href=(format!("/contacts/{}", c.id)) { (c.name.as_ref().map_or("(no name)", |n| n.as_str())) } " · last active " (time(c.last_activity_at, zone)) }
                        }
                    }
                }
            }
        }
    }
}

fn recent(runs: &[RetentionRun], zone: chrono_tz::Tz) -> Markup {
    markup! {
        h3 { "Latest runs" }
        div.table-wrap {
            table.listing.runs {
                thead { tr { th scope="col" { "Started" } th scope="col" { "Kind" } th scope="col" { "Status" } th scope="col" { "Changed" } } }
                tbody {
                    @for r in runs {
                        tr {
                            td data-label="Started" { a href=(link("/settings", &[("run", &r.id)])) { (time(r.started_at, zone)) } }
                            td data-label="Kind" { @if r.dry_run { "preview" } @else { "run" } }
                            td data-label="Status" { (format!("{:?}", r.status).to_lowercase()) }
                            td data-label="Changed" { (count(r, action_word(&r.policy))) " " (action_word(&r.policy)) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn save(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let typed = Typed::sent(&form);
    let saved = match typed.body() {
        Ok(body) => change_settings(&d.store, &d.auth, &v.caller, body).await.map(|_| ()),
        Err(p) => Err(p),
    };
    match saved {
        Ok(()) => Ok(redirect("/settings?saved=1")),
        Err(p) => render(d, &v, Some(typed), Some(Notice::of(p)?), None, None).await,
    }
}

pub async fn save_policy(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let action = ACTIONS.iter().find(|(_, value, _)| *value == form.get("action")).map(|(a, _, _)| *a);
    let days = form.get("inactive_after_days").trim().parse::<u32>();
    let policy = match (action, days) {
        (Some(action), Ok(inactive_after_days)) => {
            let policy = RetentionPolicy { enabled: form.get("enabled") == "on", inactive_after_days, action };
            set_policy(&d.store, &v.caller, policy).await.map(|_| ())
        }
        (None, _) => Err(Problem::invalid_field("action", "choose flag, archive or delete")),
        (_, Err(_)) => Err(Problem::invalid_field("inactive_after_days", "must be a whole number of days")),
    };
    match policy {
        Ok(()) => Ok(redirect("/settings?policy=1#retention")),
        Err(p) => render(d, &v, None, None, Some(Notice::of(p)?), None).await,
    }
}

pub async fn run(d: &Dashboard, req: Request) -> PageResult {
    let (v, form) = session::admin_form(d, &req, MANAGING).await?;
    let dry_run = form.get("dry_run") != "0";
    if !dry_run && form.get("confirm") != "on" {
        let notice = Notice::Problem(
            "Tick \u{201c}Apply the saved policy to the contacts now\u{201d} to run it for real.".into(),
        );
        return render(d, &v, None, None, Some(notice), None).await;
    }
    let run = run_now(&d.store, &v.caller, dry_run).await?;
    Ok(redirect(&format!("{}#run-status", link("/settings", &[("run", &run.id)]))))
}
