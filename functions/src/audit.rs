//! Recording the audit log for the API and the dashboard alike (changes, and the reads in
//! [`AUDITED_READS`]): the handler that
//! authenticates a caller notes who it is ([`note`]), and once a change succeeds the
//! function's entry point records the route, the ids in its path and the names of the
//! fields sent ([`Change::of`], [`record`]). Values are never recorded. Scheduled jobs record
//! what they change themselves ([`record_job`]).

use crate::http::auth::Caller;
use chrono::{Duration, Utc};
use lambda_http::{Request, RequestExt};
use model::audit::{AuditActor, AuditEntry};
use model::domain::WorkspaceId;
use std::cell::RefCell;
use std::future::Future;
use store::Store;

tokio::task_local! {
    static WHO: RefCell<Option<(WorkspaceId, AuditActor)>>;
    static CHANGED: RefCell<Option<Vec<String>>>;
}

/// What a handler noted while it ran: who it acted as, and the fields it changed when it
/// knows them better than the request's body does.
#[derive(Default)]
pub struct Noted {
    pub who: Option<(WorkspaceId, AuditActor)>,
    pub fields: Option<Vec<String>>,
}

/// Runs a request's handling, and answers what its handler noted.
pub async fn noting<F: Future>(f: F) -> (F::Output, Noted) {
    WHO.scope(RefCell::new(None), async {
        CHANGED
            .scope(RefCell::new(None), async {
                let out = f.await;
                let noted =
                    Noted { who: WHO.with(|w| w.borrow().clone()), fields: CHANGED.with(|c| c.borrow().clone()) };
                (out, noted)
            })
            .await
    })
    .await
}

/// Notes the caller a request acts as (outside [`noting`], nothing happens).
pub fn note(caller: &Caller) {
    let actor = match &caller.user {
        Some(id) => AuditActor::Person { id: id.to_string(), name: caller.key.name.clone() },
        None => AuditActor::Key { name: caller.key.name.clone() },
    };
    note_as(&caller.workspace.id, actor);
}

/// Notes who a request acts as when no [`Caller`] exists yet (a sign-in).
pub fn note_as(ws: &WorkspaceId, actor: AuditActor) {
    let _ = WHO.try_with(|w| *w.borrow_mut() = Some((ws.clone(), actor)));
}

/// Tells the entry which fields the request changed, for a handler that knows better than
/// the body (a dashboard form sends all its fields; the edit is what differs).
pub fn note_fields(fields: &[&str]) {
    let _ = CHANGED.try_with(|c| *c.borrow_mut() = Some(fields.iter().map(|f| f.to_string()).collect()));
}

/// What a request asks to change, read before it is handled: its method, the ids in its
/// path and the names of the fields in its body.
pub struct Change {
    changes: bool,
    targets: Vec<String>,
    fields: Vec<String>,
}

/// Form fields that are the form's machinery, not a change.
const FORM_MACHINERY: [&str; 1] = ["csrf"];

/// Reads that are recorded too: a person's whole data handed out (GDPR access).
const AUDITED_READS: [&str; 2] = ["GET /api/v1/contacts/{id}/export", "GET /contacts/{id}/gdpr-export"];

impl Change {
    /// `route` is the route key the request matched.
    pub fn of(req: &Request, route: &str) -> Self {
        let changes = AUDITED_READS.contains(&route) || !matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
        if !changes {
            return Change { changes, targets: Vec::new(), fields: Vec::new() };
        }
        let mut targets: Vec<String> = req
            .path_parameters_ref()
            .map(|p| p.iter().filter(|(name, _)| *name != "link").map(|(_, v)| v.to_string()).collect())
            .unwrap_or_default();
        targets.sort();
        let body = req.body().as_ref();
        let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        // An uploaded file (the import page's) is read for no names: its contents are data.
        let fields = if content_type.starts_with("multipart/") {
            Vec::new()
        } else {
            match serde_json::from_slice::<serde_json::Value>(body) {
                Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
                Ok(_) => Vec::new(),
                Err(_) => form_urlencoded(body),
            }
        };
        Change { changes, targets, fields }
    }
}

fn form_urlencoded(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter_map(|pair| pair.split('=').next())
        .filter(|name| !name.is_empty() && name.len() <= 64)
        .filter(|name| name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .filter(|name| !FORM_MACHINERY.contains(name))
        .map(str::to_string)
        .collect()
}

/// How long entries are kept: `AUDIT_RETENTION_DAYS`, else a year.
pub fn retention_days() -> i64 {
    std::env::var("AUDIT_RETENTION_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .filter(|d| *d > 0)
        .unwrap_or(model::audit::DEFAULT_RETENTION_DAYS)
}

/// Records a change that succeeded (a 2xx or 3xx answer) by a noted caller. A failed
/// write is logged, not answered: the change itself is done.
pub async fn record(store: &Store, noted: Noted, route: &str, change: Change, status: u16) {
    let (Some((ws, actor)), true, true) = (noted.who, change.changes, status < 400) else { return };
    let now = Utc::now();
    let fields = noted.fields.unwrap_or(change.fields);
    let entry = AuditEntry::new(&ws, now, actor, route.to_string(), change.targets, fields, status);
    if let Err(e) = store.put_audit_entry(&entry, now + Duration::days(retention_days())).await {
        tracing::error!(workspace = %ws, route, error = %e, "the audit entry was not recorded");
    }
}

/// Records a change a scheduled job made in a workspace (no request, no person): `job`
/// names it (`retention`), `action` says what it did.
pub async fn record_job(store: &Store, ws: &WorkspaceId, job: &str, action: &str, targets: Vec<String>) {
    let now = Utc::now();
    let actor = AuditActor::Job { name: job.to_string() };
    let entry = AuditEntry::new(ws, now, actor, action.to_string(), targets, Vec::new(), 200);
    if let Err(e) = store.put_audit_entry(&entry, now + Duration::days(retention_days())).await {
        tracing::error!(workspace = %ws, job, action, error = %e, "the audit entry was not recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_give_their_field_names_without_the_csrf_token() {
        let names = form_urlencoded(b"csrf=abc&name=Olivia+B&email=o%40x.io&tags=a&tags=b");
        assert_eq!(names, ["name", "email", "tags", "tags"]);
        assert!(form_urlencoded(b"").is_empty());
    }
}
