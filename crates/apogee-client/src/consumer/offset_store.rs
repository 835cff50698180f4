//! Where a consumer's offsets are committed: on the brokers for clustering
//! (`RemoteBrokerOffsetStore`) or in a local file for broadcasting (`LocalFileOffsetStore`).
//! Both keep the latest offsets in memory and persist them on demand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::error::ConsumerError;
use crate::error::ClientError;
use crate::instance::ClientInstance;
use crate::message::MessageQueue;

/// The file broadcasting offsets are kept in, under `<dir>/<clientId>/<group>/`.
pub const OFFSETS_FILE: &str = "offsets.json";

/// A consumer group's committed offsets (the next offset to consume, per queue).
#[derive(Debug)]
pub struct OffsetStore {
    instance: Arc<ClientInstance>,
    group: String,
    /// `None` for the broker; the file for broadcasting.
    file: Option<PathBuf>,
    table: Mutex<BTreeMap<MessageQueue, i64>>,
}

/// The JSON of the offset file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OffsetFile {
    offsets: Vec<OffsetEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OffsetEntry {
    topic: String,
    broker_name: String,
    queue_id: i32,
    offset: i64,
}

impl OffsetStore {
    /// Offsets committed on the brokers (clustering).
    #[must_use]
    pub fn remote(instance: Arc<ClientInstance>, group: &str) -> Self {
        Self {
            instance,
            group: group.to_owned(),
            file: None,
            table: Mutex::new(BTreeMap::new()),
        }
    }

    /// Offsets kept in `<dir>/<clientId>/<group>/offsets.json` (broadcasting), loaded now.
    /// `dir` defaults to `$HOME/.apogee/offsets`.
    ///
    /// # Errors
    /// [`ConsumerError::OffsetFile`] if an existing file cannot be read.
    pub fn local(
        instance: Arc<ClientInstance>,
        group: &str,
        dir: Option<&Path>,
    ) -> Result<Self, ConsumerError> {
        let dir = dir.map_or_else(default_dir, Path::to_path_buf);
        let file = dir
            .join(instance.client_id())
            .join(group)
            .join(OFFSETS_FILE);
        let table = read_file(&file)?;
        Ok(Self {
            instance,
            group: group.to_owned(),
            file: Some(file),
            table: Mutex::new(table),
        })
    }

    /// The offset file, for a broadcasting store.
    #[must_use]
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Records `offset` for `queue` in memory; with `increase_only`, a smaller one is ignored.
    pub fn update(&self, queue: &MessageQueue, offset: i64, increase_only: bool) {
        let mut table = self.table.lock();
        match table.get_mut(queue) {
            Some(current) if increase_only => *current = (*current).max(offset),
            Some(current) => *current = offset,
            None => {
                table.insert(queue.clone(), offset);
            }
        }
    }

    /// The offset in memory, if any.
    #[must_use]
    pub fn read_memory(&self, queue: &MessageQueue) -> Option<i64> {
        self.table.lock().get(queue).copied()
    }

    /// The offset committed on the broker (or in the file), `None` when there is none; a
    /// found offset replaces the one in memory (`READ_FROM_STORE`).
    ///
    /// # Errors
    /// Broker errors, [`ConsumerError::OffsetFile`].
    pub async fn read_store(&self, queue: &MessageQueue) -> Result<Option<i64>, ConsumerError> {
        self.read(queue, false).await
    }

    /// As [`OffsetStore::read_store`], but a broker applies its "young queue" rule (see
    /// [`ClientInstance::query_consumer_start_offset`]): where a newly assigned queue starts.
    ///
    /// # Errors
    /// Broker errors, [`ConsumerError::OffsetFile`].
    pub async fn read_start(&self, queue: &MessageQueue) -> Result<Option<i64>, ConsumerError> {
        self.read(queue, true).await
    }

    async fn read(&self, queue: &MessageQueue, start: bool) -> Result<Option<i64>, ConsumerError> {
        let found = match &self.file {
            Some(file) => read_file(file)?.get(queue).copied(),
            None => {
                let addr = broker_addr(&self.instance, queue).await?;
                if start {
                    self.instance
                        .query_consumer_start_offset(&addr, &self.group, queue)
                        .await?
                } else {
                    self.instance
                        .query_consumer_offset(&addr, &self.group, queue)
                        .await?
                }
            }
        };
        if let Some(offset) = found {
            self.update(queue, offset, false);
        }
        Ok(found)
    }

    /// Forgets `queue` (it was reassigned).
    pub fn remove(&self, queue: &MessageQueue) {
        self.table.lock().remove(queue);
    }

    /// Commits the in-memory offsets of `queues` (broker: one UPDATE_CONSUMER_OFFSET each,
    /// oneway as Java's periodic persist if `oneway`; file: the whole table, atomically).
    /// Every queue is tried; the first error is returned.
    ///
    /// # Errors
    /// Broker errors, [`ConsumerError::OffsetFile`].
    pub async fn persist_all(
        &self,
        queues: &[MessageQueue],
        oneway: bool,
    ) -> Result<(), ConsumerError> {
        if let Some(file) = &self.file {
            let table = self.table.lock().clone();
            return write_file(file, &table);
        }
        let mut first_error = None;
        for queue in queues {
            let Some(offset) = self.read_memory(queue) else {
                continue;
            };
            let result = async {
                let addr = broker_addr(&self.instance, queue).await?;
                self.instance
                    .update_consumer_offset(&addr, &self.group, queue, offset, oneway)
                    .await
            }
            .await;
            if let Err(error) = result {
                tracing::debug!(?queue, %error, "offset not persisted");
                first_error.get_or_insert(ConsumerError::from(error));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The master address of `queue`'s broker, fetching the topic's route if it is unknown.
pub(crate) async fn broker_addr(
    instance: &ClientInstance,
    queue: &MessageQueue,
) -> Result<String, ClientError> {
    if let Some(addr) = instance.master_addr(&queue.broker_name) {
        return Ok(addr);
    }
    instance.fetch_route(&queue.topic).await?;
    instance
        .master_addr(&queue.broker_name)
        .ok_or_else(|| ClientError::BrokerNotFound {
            broker_name: queue.broker_name.clone(),
            topic: queue.topic.clone(),
        })
}

fn default_dir() -> PathBuf {
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".apogee").join("offsets")
}

fn file_error(path: &Path, source: std::io::Error) -> ConsumerError {
    ConsumerError::OffsetFile {
        path: path.to_path_buf(),
        source,
    }
}

fn read_file(path: &Path) -> Result<BTreeMap<MessageQueue, i64>, ConsumerError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(file_error(path, e)),
    };
    let file: OffsetFile =
        serde_json::from_slice(&text).map_err(|e| file_error(path, std::io::Error::other(e)))?;
    Ok(file
        .offsets
        .into_iter()
        .map(|e| {
            let queue = MessageQueue {
                topic: e.topic,
                broker_name: e.broker_name,
                queue_id: e.queue_id,
            };
            (queue, e.offset)
        })
        .collect())
}

/// Writes the table to `<path>.tmp`, syncs it, and renames it over `path`, so a crash leaves
/// either the old or the new file. The file holds one small entry per queue.
fn write_file(path: &Path, table: &BTreeMap<MessageQueue, i64>) -> Result<(), ConsumerError> {
    let file = OffsetFile {
        offsets: table
            .iter()
            .map(|(q, offset)| OffsetEntry {
                topic: q.topic.clone(),
                broker_name: q.broker_name.clone(),
                queue_id: q.queue_id,
                offset: *offset,
            })
            .collect(),
    };
    let json =
        serde_json::to_vec_pretty(&file).map_err(|e| file_error(path, std::io::Error::other(e)))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| file_error(parent, e))?;
    }
    let tmp = path.with_extension("json.tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut out = std::fs::File::create(&tmp)?;
        out.write_all(&json)?;
        out.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| file_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(id: i32) -> MessageQueue {
        MessageQueue {
            topic: "T".to_owned(),
            broker_name: "b".to_owned(),
            queue_id: id,
        }
    }

    /// The file round-trips, and a missing file reads as empty.
    #[test]
    fn file_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c").join("g").join(OFFSETS_FILE);
        assert!(read_file(&path).expect("missing is empty").is_empty());
        let table: BTreeMap<_, _> = [(queue(0), 5), (queue(1), 7)].into_iter().collect();
        write_file(&path, &table).expect("write");
        assert_eq!(read_file(&path).expect("read"), table);
        assert!(!path.with_extension("json.tmp").exists());
        std::fs::write(&path, b"not json").expect("corrupt");
        assert!(matches!(
            read_file(&path),
            Err(ConsumerError::OffsetFile { .. })
        ));
    }
}
