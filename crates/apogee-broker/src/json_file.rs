//! Durable JSON files for broker metadata (`config/topics.json`, `consumerOffset.json`, ...):
//! written to a temporary file, synced, renamed over the old one and the directory synced,
//! so a crash leaves either the old or the new content, never a torn file.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::BrokerError;

/// A JSON file holding one value of type `T`.
#[derive(Debug, Clone)]
pub struct JsonFile {
    path: PathBuf,
}

impl JsonFile {
    /// The file at `path` (its directory is created on first save).
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored value, or `None` if the file does not exist yet.
    ///
    /// # Errors
    /// [`BrokerError::Metadata`] if the file cannot be read or does not hold a `T`.
    pub fn load<T: DeserializeOwned>(&self) -> Result<Option<T>, BrokerError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error("read", e.to_string())),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| self.error("parse", e.to_string()))
    }

    /// Replaces the stored value with `value`, durably.
    ///
    /// # Errors
    /// [`BrokerError::Metadata`] if any step of the write fails; the old content stays.
    pub fn save<T: Serialize>(&self, value: &T) -> Result<(), BrokerError> {
        let json =
            serde_json::to_vec_pretty(value).map_err(|e| self.error("encode", e.to_string()))?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| self.error("mkdir", e.to_string()))?;
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            std::fs::File::open(dir)?.sync_all()
        };
        write().map_err(|e| self.error("write", e.to_string()))
    }

    fn error(&self, op: &'static str, reason: String) -> BrokerError {
        BrokerError::Metadata {
            op,
            path: self.path.clone(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A saved value loads back; a missing file is `None`; garbage is an error naming the file.
    #[test]
    fn save_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = JsonFile::new(dir.path().join("config/x.json"));
        assert_eq!(file.load::<BTreeMap<String, u64>>().expect("load"), None);
        let value = BTreeMap::from([("a".to_owned(), 1u64)]);
        file.save(&value).expect("save");
        assert_eq!(
            file.load::<BTreeMap<String, u64>>().expect("load"),
            Some(value)
        );
        std::fs::write(file.path(), b"{not json").expect("write");
        let err = file.load::<BTreeMap<String, u64>>().expect_err("garbage");
        assert!(err.to_string().contains("x.json"), "{err}");
    }
}
