//! Consume queues: per topic/queue lists of 20-byte units pointing into the commit log.
//!
//! - [`unit`](mod@unit): the unit format.
//! - [`queue`]: one queue's files, reads, appends, truncation and retention.
//! - [`ConsumeQueueTable`] (here): every queue of the store, by topic and queue id, stored
//!   under `consumequeue/<topic>/<queueId>/`.

pub mod queue;
pub mod unit;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

pub use queue::ConsumeQueue;
pub use unit::{CQ_UNIT_BYTES, CqUnit};

use crate::error::{Result, StoreError};

/// All consume queues of a store.
#[derive(Debug)]
pub struct ConsumeQueueTable {
    dir: PathBuf,
    file_bytes: usize,
    queues: RwLock<HashMap<String, HashMap<i32, Arc<ConsumeQueue>>>>,
}

impl ConsumeQueueTable {
    /// Loads every queue under `dir` (created if missing).
    ///
    /// # Errors
    /// I/O errors, or [`StoreError::BadFile`] for a malformed queue directory or file.
    pub fn load(dir: &Path, file_bytes: usize) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io("mkdir", dir, e))?;
        let mut queues: HashMap<String, HashMap<i32, Arc<ConsumeQueue>>> = HashMap::new();
        for topic_entry in read_dir(dir)? {
            let topic_dir = topic_entry.path();
            let Some(topic) = topic_entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !topic_dir.is_dir() || apogee_protocol::names::validate_topic(&topic).is_err() {
                continue;
            }
            for queue_entry in read_dir(&topic_dir)? {
                let name = queue_entry.file_name();
                let Some(queue_id) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
                    continue;
                };
                let cq = ConsumeQueue::open(&queue_entry.path(), &topic, queue_id, file_bytes)?;
                queues
                    .entry(topic.clone())
                    .or_default()
                    .insert(queue_id, Arc::new(cq));
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            file_bytes,
            queues: RwLock::new(queues),
        })
    }

    /// The queue of `topic`/`queue_id`, if it exists.
    #[must_use]
    pub fn get(&self, topic: &str, queue_id: i32) -> Option<Arc<ConsumeQueue>> {
        self.queues.read().get(topic)?.get(&queue_id).cloned()
    }

    /// The queue of `topic`/`queue_id`, created empty if needed (files appear on first put).
    ///
    /// # Errors
    /// I/O errors.
    pub fn get_or_create(&self, topic: &str, queue_id: i32) -> Result<Arc<ConsumeQueue>> {
        if let Some(cq) = self.get(topic, queue_id) {
            return Ok(cq);
        }
        let mut queues = self.queues.write();
        let per_topic = queues.entry(topic.to_owned()).or_default();
        if let Some(cq) = per_topic.get(&queue_id) {
            return Ok(cq.clone());
        }
        let dir = self.dir.join(topic).join(queue_id.to_string());
        let cq = Arc::new(ConsumeQueue::open(&dir, topic, queue_id, self.file_bytes)?);
        per_topic.insert(queue_id, cq.clone());
        Ok(cq)
    }

    /// Every queue, in no particular order.
    #[must_use]
    pub fn all(&self) -> Vec<Arc<ConsumeQueue>> {
        self.queues
            .read()
            .values()
            .flat_map(|per_topic| per_topic.values().cloned())
            .collect()
    }

    /// Queue ids of `topic` that have a consume queue, sorted.
    #[must_use]
    pub fn queue_ids(&self, topic: &str) -> Vec<i32> {
        let mut ids: Vec<i32> = self
            .queues
            .read()
            .get(topic)
            .map(|q| q.keys().copied().collect())
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    /// Topics that have at least one consume queue, sorted.
    #[must_use]
    pub fn topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self.queues.read().keys().cloned().collect();
        topics.sort_unstable();
        topics
    }

    /// Writes every queue's unflushed units back to disk.
    ///
    /// # Errors
    /// The first write-back error.
    pub fn flush(&self) -> Result<()> {
        for cq in self.all() {
            cq.flush()?;
        }
        Ok(())
    }
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    std::fs::read_dir(dir)
        .and_then(|entries| entries.collect::<std::io::Result<Vec<_>>>())
        .map_err(|e| StoreError::io("read dir", dir, e))
}
