//! What `make bench` and `make load` share when they record their figures: the commit
//! measured, and the tables put between markers in the docs.

/// The commit checked out (empty outside a git clone).
pub fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Replaces what stands between the `begin` and `end` markers of the file at `path`.
pub fn replace_between(path: &str, begin: &str, end: &str, text: &str) -> Result<(), String> {
    let doc = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) else {
        return Err(format!("{path} lacks the {begin} and {end} markers"));
    };
    let updated = format!("{}{begin}\n{text}{}", &doc[..a], &doc[b..]);
    std::fs::write(path, updated).map_err(|e| format!("{path}: {e}"))
}

/// A `kB` field of a /proc file, e.g. `proc_kb("/proc/meminfo", "MemTotal:")`.
pub fn proc_kb(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// Resident memory of a process (`VmRSS`, kB); `pid` may be `self`.
pub fn rss_kb(pid: &str) -> u64 {
    proc_kb(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// This process's peak resident memory since the last [`reset_peak_memory`] (`VmHWM`, kB).
pub fn peak_kb() -> u64 {
    proc_kb("/proc/self/status", "VmHWM:")
}

/// Resets this process's peak resident memory (`VmHWM`) to what it holds now.
pub fn reset_peak_memory() {
    // Linux: writing 5 to clear_refs resets the peak RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The CPU time this process has used, user and system (`/proc/self/stat`, at Linux's 100
/// ticks a second).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / 100.0
}
