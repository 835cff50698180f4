//! Disk usage of the file system holding the store.

use std::path::Path;

use crate::error::{Result, StoreError};

/// Percent of the file system in use, as `df` reports it: used / (used + available to
/// unprivileged users).
///
/// # Errors
/// [`StoreError::Io`] if `statvfs` fails.
pub fn used_percent(path: &Path) -> Result<f64> {
    let stat = rustix::fs::statvfs(path).map_err(|e| StoreError::io("statvfs", path, e.into()))?;
    let used = stat.f_blocks.saturating_sub(stat.f_bfree);
    let total = used + stat.f_bavail;
    if total == 0 {
        return Ok(0.0);
    }
    Ok(used as f64 * 100.0 / total as f64)
}

#[cfg(test)]
mod tests {
    /// The test directory's file system reports a sane percentage.
    #[test]
    fn reports_a_percentage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let used = super::used_percent(dir.path()).expect("statvfs");
        assert!((0.0..=100.0).contains(&used), "{used}");
    }
}
