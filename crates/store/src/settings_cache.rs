//! Workspace settings kept for a while by one execution environment (the capture worker's:
//! every captured event needs its workspace's region and lead rules, which change rarely).
//! Shared by every clone of a `Store`.

use model::domain::WorkspaceId;
use model::workspace::Workspace;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Settings by workspace, with when they were read (`None`: no such workspace).
type Entries = HashMap<WorkspaceId, (Instant, Option<Workspace>)>;

#[derive(Debug, Clone)]
pub(crate) struct SettingsCache {
    ttl: Duration,
    entries: Arc<Mutex<Entries>>,
}

impl SettingsCache {
    pub fn new(ttl: Duration) -> Self {
        SettingsCache { ttl, entries: Arc::default() }
    }

    /// The settings read less than the time to live ago (`Some(None)`: no such workspace then).
    pub fn get(&self, ws: &WorkspaceId) -> Option<Option<Workspace>> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(ws).filter(|(read, _)| read.elapsed() < self.ttl).map(|(_, w)| w.clone())
    }

    pub fn keep(&self, ws: &WorkspaceId, settings: Option<Workspace>) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.insert(ws.clone(), (Instant::now(), settings));
    }
}
