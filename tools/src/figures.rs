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
