//! Committed consumer offsets (RocketMQ `ConsumerOffsetManager`): per consumer group, topic
//! and queue, the next offset the group will consume. Kept in memory, written to
//! `config/consumerOffset.json` every `flushConsumerOffsetInterval` and at shutdown, and
//! restored at start.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::error::BrokerError;
use crate::json_file::JsonFile;

/// Separator between topic and group in the table's keys (RocketMQ's `TOPIC_GROUP_SEPARATOR`).
pub const TOPIC_GROUP_SEPARATOR: char = '@';

/// The file form: `{"offsetTable":{"topic@group":{"0":12}}}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OffsetFile {
    #[serde(default)]
    offset_table: BTreeMap<String, BTreeMap<i32, u64>>,
}

/// Every group's committed offsets.
#[derive(Debug)]
pub struct ConsumerOffsets {
    table: RwLock<BTreeMap<String, BTreeMap<i32, u64>>>,
    file: JsonFile,
    dirty: AtomicBool,
}

fn key(topic: &str, group: &str) -> String {
    format!("{topic}{TOPIC_GROUP_SEPARATOR}{group}")
}

impl ConsumerOffsets {
    /// Loads the offsets stored in `file` (none if it does not exist).
    ///
    /// # Errors
    /// [`BrokerError::Metadata`] if the file exists but cannot be read.
    pub fn load(file: JsonFile) -> Result<Self, BrokerError> {
        let stored: OffsetFile = file.load()?.unwrap_or_default();
        Ok(Self {
            table: RwLock::new(stored.offset_table),
            file,
            dirty: AtomicBool::new(false),
        })
    }

    /// Records that `group` will next consume `offset` from `topic`/`queue_id`.
    pub fn commit(&self, group: &str, topic: &str, queue_id: i32, offset: u64) {
        self.table
            .write()
            .entry(key(topic, group))
            .or_default()
            .insert(queue_id, offset);
        self.dirty.store(true, Ordering::Release);
    }

    /// The committed offset of `group` on `topic`/`queue_id`, if any.
    #[must_use]
    pub fn query(&self, group: &str, topic: &str, queue_id: i32) -> Option<u64> {
        self.table
            .read()
            .get(&key(topic, group))
            .and_then(|queues| queues.get(&queue_id).copied())
    }

    /// All committed offsets of `group` on `topic`, by queue.
    #[must_use]
    pub fn offsets(&self, group: &str, topic: &str) -> BTreeMap<i32, u64> {
        self.table
            .read()
            .get(&key(topic, group))
            .cloned()
            .unwrap_or_default()
    }

    /// Groups that have committed offsets on `topic`.
    #[must_use]
    pub fn groups_of(&self, topic: &str) -> Vec<String> {
        let prefix = format!("{topic}{TOPIC_GROUP_SEPARATOR}");
        self.table
            .read()
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    /// Forgets every offset of `topic` (the topic was deleted).
    pub fn remove_topic(&self, topic: &str) {
        let prefix = format!("{topic}{TOPIC_GROUP_SEPARATOR}");
        self.table.write().retain(|k, _| !k.starts_with(&prefix));
        self.dirty.store(true, Ordering::Release);
    }

    /// Writes the table to its file if anything changed since the last write.
    ///
    /// # Errors
    /// [`BrokerError::Metadata`] if the write fails (the table stays dirty and is retried).
    pub fn persist(&self) -> Result<(), BrokerError> {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let snapshot = OffsetFile {
            offset_table: self.table.read().clone(),
        };
        self.file.save(&snapshot).inspect_err(|_| {
            self.dirty.store(true, Ordering::Release);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets commit, query, persist and come back after a reload.
    #[test]
    fn commit_persist_reload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config/consumerOffset.json");
        let offsets = ConsumerOffsets::load(JsonFile::new(&path)).expect("load");
        assert_eq!(offsets.query("g", "T", 0), None);
        offsets.commit("g", "T", 0, 12);
        offsets.commit("g", "T", 3, 7);
        offsets.commit("h", "T", 0, 1);
        offsets.commit("g", "U", 0, 5);
        assert_eq!(offsets.query("g", "T", 0), Some(12));
        assert_eq!(offsets.offsets("g", "T"), BTreeMap::from([(0, 12), (3, 7)]));
        let mut groups = offsets.groups_of("T");
        groups.sort();
        assert_eq!(groups, vec!["g".to_owned(), "h".to_owned()]);
        offsets.persist().expect("persist");
        let text = std::fs::read_to_string(&path).expect("file");
        assert!(text.contains("\"T@g\""), "{text}");
        let reloaded = ConsumerOffsets::load(JsonFile::new(&path)).expect("reload");
        assert_eq!(reloaded.query("g", "T", 3), Some(7));
        reloaded.remove_topic("T");
        assert_eq!(reloaded.query("g", "T", 3), None);
        assert_eq!(reloaded.query("g", "U", 0), Some(5));
    }
}
