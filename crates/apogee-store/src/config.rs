//! Store configuration, with RocketMQ's key names (`flushDiskType`, `maxMessageSize`, ...).
//!
//! [`StoreConfig::default`] is the only source of defaults; [`StoreConfig::validate`] rejects
//! values that would make the store misbehave, naming the key.

use std::path::PathBuf;
use std::time::Duration;

use apogee_protocol::message::properties::PROPERTIES_BYTES_MAX;
use serde::{Deserialize, Serialize};

use crate::consume_queue::CQ_UNIT_BYTES;
use crate::error::{Result, StoreError};
use crate::limits::{FRAME_BYTES_MAX, MESSAGE_BYTES_MAX_LIMIT, SEGMENT_BYTES_MIN};

/// When a sender's message counts as stored (RocketMQ `flushDiskType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlushDiskType {
    /// The send is acknowledged once an `fdatasync` covers the message (group commit).
    #[serde(rename = "SYNC_FLUSH")]
    SyncFlush,
    /// The send is acknowledged once the message is in the page cache; a background thread
    /// flushes every `flushIntervalCommitLog`.
    #[serde(rename = "ASYNC_FLUSH")]
    AsyncFlush,
}

impl std::str::FromStr for FlushDiskType {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "SYNC_FLUSH" => Ok(Self::SyncFlush),
            "ASYNC_FLUSH" => Ok(Self::AsyncFlush),
            other => Err(format!(
                "unknown flushDiskType {other:?}; expected SYNC_FLUSH or ASYNC_FLUSH"
            )),
        }
    }
}

/// Configuration of one store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `storePathRootDir`: root of all store files. Default `./data`.
    pub store_path_root_dir: PathBuf,
    /// `mappedFileSizeCommitLog`: bytes per commit-log segment. Default 1 GiB.
    pub mapped_file_size_commit_log: usize,
    /// `mappedFileSizeConsumeQueue`: bytes per consume-queue file, a multiple of 20.
    /// Default 300,000 units = 6,000,000 bytes.
    pub mapped_file_size_consume_queue: usize,
    /// `flushDiskType`: SYNC_FLUSH or ASYNC_FLUSH. Default ASYNC_FLUSH.
    pub flush_disk_type: FlushDiskType,
    /// `syncFlushTimeout`: ms a SYNC_FLUSH sender waits before FLUSH_DISK_TIMEOUT. Default 5000.
    pub sync_flush_timeout: u64,
    /// `flushIntervalCommitLog`: ms between ASYNC_FLUSH flushes. Default 500.
    pub flush_interval_commit_log: u64,
    /// `flushCommitLogLeastPages`: dirty 4 KiB pages needed before an ASYNC_FLUSH flush.
    /// Default 4.
    pub flush_commit_log_least_pages: usize,
    /// `flushCommitLogThoroughInterval`: ms after which ASYNC_FLUSH flushes whatever is
    /// dirty. Default 10000.
    pub flush_commit_log_thorough_interval: u64,
    /// `flushIntervalConsumeQueue`: ms between consume-queue/index flushes and checkpoint
    /// updates. Default 1000.
    pub flush_interval_consume_queue: u64,
    /// `maxMessageSize`: largest message body in bytes. Default 4 MiB.
    pub max_message_size: usize,
    /// `fileReservedTime`: hours a commit-log segment is kept after its last write.
    /// Default 72.
    pub file_reserved_time: u64,
    /// `deleteWhen`: hours of the day (local time, `;`-separated) when expired files are
    /// deleted. Default "04".
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio`: percent of the disk the store may fill; above it writes are
    /// refused and expired files are deleted at once. Default 75.
    pub disk_max_used_space_ratio: u32,
    /// `messageIndexEnable`: index messages by key and unique id. Default true.
    pub message_index_enable: bool,
    /// `maxHashSlotNum`: hash slots per index file. Default 5,000,000.
    pub max_hash_slot_num: usize,
    /// `maxIndexNum`: entries per index file. Default 20,000,000.
    pub max_index_num: usize,
    /// `warmMapedFileEnable` (RocketMQ's spelling): prepare each next commit-log segment in
    /// the background zero-filled and synced, so that later syncs of data in it skip extent
    /// conversion (on this machine a 4 KiB write+fdatasync drops from ~180 to ~110 µs). It
    /// costs one extra write of every segment, and while a segment is being zero-filled that
    /// write-back competes with the writer's own syncs (measured: SYNC_FLUSH latency doubles
    /// during it), so, as in RocketMQ, it is off by default. Without it the next segment is
    /// still prepared ahead, only not zero-filled. Default false.
    #[serde(rename = "warmMapedFileEnable")]
    pub warm_maped_file_enable: bool,
    /// `checkCRCOnRead`: verify the body CRC of every record read. Default true.
    #[serde(rename = "checkCRCOnRead")]
    pub check_crc_on_read: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            store_path_root_dir: PathBuf::from("./data"),
            mapped_file_size_commit_log: 1 << 30,
            mapped_file_size_consume_queue: 300_000 * CQ_UNIT_BYTES,
            flush_disk_type: FlushDiskType::AsyncFlush,
            sync_flush_timeout: 5_000,
            flush_interval_commit_log: 500,
            flush_commit_log_least_pages: 4,
            flush_commit_log_thorough_interval: 10_000,
            flush_interval_consume_queue: 1_000,
            max_message_size: 4 << 20,
            file_reserved_time: 72,
            delete_when: "04".to_owned(),
            disk_max_used_space_ratio: 75,
            message_index_enable: true,
            max_hash_slot_num: 5_000_000,
            max_index_num: 20_000_000,
            warm_maped_file_enable: false,
            check_crc_on_read: true,
        }
    }
}

fn bad(key: &'static str, value: impl ToString, reason: &'static str) -> StoreError {
    StoreError::Config {
        key,
        value: value.to_string(),
        reason,
    }
}

impl StoreConfig {
    /// A default configuration rooted at `dir`.
    #[must_use]
    pub fn with_root(dir: impl Into<PathBuf>) -> Self {
        Self {
            store_path_root_dir: dir.into(),
            ..Self::default()
        }
    }

    /// Checks every value and the relationships between them.
    ///
    /// # Errors
    /// [`StoreError::Config`] naming the first bad key.
    pub fn validate(&self) -> Result<()> {
        let seg = self.mapped_file_size_commit_log;
        if seg < SEGMENT_BYTES_MIN || seg % 4096 != 0 {
            return Err(bad(
                "mappedFileSizeCommitLog",
                seg,
                "must be a multiple of 4096 and at least 64 KiB",
            ));
        }
        if self.max_message_size == 0 || self.max_message_size > MESSAGE_BYTES_MAX_LIMIT {
            return Err(bad(
                "maxMessageSize",
                self.max_message_size,
                "must be between 1 byte and 64 MiB",
            ));
        }
        // A largest record (body + properties + topic + header) plus the end-of-segment
        // filler must fit in one segment, or such a message could never be stored.
        if self.max_record_bytes() + 8 > seg {
            return Err(bad(
                "mappedFileSizeCommitLog",
                seg,
                "must hold the largest record (maxMessageSize plus headers and properties)",
            ));
        }
        let cq = self.mapped_file_size_consume_queue;
        if cq == 0 || cq % CQ_UNIT_BYTES != 0 {
            return Err(bad(
                "mappedFileSizeConsumeQueue",
                cq,
                "must be a positive multiple of 20",
            ));
        }
        if self.sync_flush_timeout == 0 {
            return Err(bad("syncFlushTimeout", 0, "must be positive"));
        }
        if self.flush_interval_commit_log == 0 {
            return Err(bad("flushIntervalCommitLog", 0, "must be positive"));
        }
        if self.flush_interval_consume_queue == 0 {
            return Err(bad("flushIntervalConsumeQueue", 0, "must be positive"));
        }
        if !(1..=99).contains(&self.disk_max_used_space_ratio) {
            return Err(bad(
                "diskMaxUsedSpaceRatio",
                self.disk_max_used_space_ratio,
                "must be a percentage between 1 and 99",
            ));
        }
        if self.delete_hours().is_none() {
            return Err(bad(
                "deleteWhen",
                &self.delete_when,
                "must be hours 00-23 separated by ';'",
            ));
        }
        if self.max_hash_slot_num == 0 || self.max_index_num < 2 {
            return Err(bad(
                "maxIndexNum",
                self.max_index_num,
                "maxHashSlotNum must be positive and maxIndexNum at least 2",
            ));
        }
        Ok(())
    }

    /// The largest record this configuration can produce, in bytes.
    #[must_use]
    pub fn max_record_bytes(&self) -> usize {
        // Header with IPv6 hosts, longest V1 topic, longest properties.
        const HEADER_BYTES_MAX: usize = 91 + 24 + 127 + PROPERTIES_BYTES_MAX;
        self.max_message_size + HEADER_BYTES_MAX
    }

    /// The hours of the day in `deleteWhen`, or `None` if it is malformed.
    #[must_use]
    pub fn delete_hours(&self) -> Option<Vec<u32>> {
        self.delete_when
            .split(';')
            .map(|h| h.trim().parse::<u32>().ok().filter(|h| *h < 24))
            .collect()
    }

    /// `syncFlushTimeout` as a duration.
    #[must_use]
    pub fn sync_flush_timeout(&self) -> Duration {
        Duration::from_millis(self.sync_flush_timeout)
    }

    /// Directory of commit-log segments.
    #[must_use]
    pub fn commit_log_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("commitlog")
    }

    /// Directory of consume queues (`<topic>/<queueId>/` below it).
    #[must_use]
    pub fn consume_queue_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("consumequeue")
    }

    /// Directory of index files.
    #[must_use]
    pub fn index_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("index")
    }
}

const _: () = assert!(MESSAGE_BYTES_MAX_LIMIT < FRAME_BYTES_MAX);

#[cfg(test)]
mod tests {
    use super::*;

    /// Defaults are valid and match RocketMQ's; each bad value names its key.
    #[test]
    fn defaults_and_validation() {
        let config = StoreConfig::default();
        config.validate().expect("defaults are valid");
        assert_eq!(config.flush_disk_type, FlushDiskType::AsyncFlush);
        assert_eq!(config.mapped_file_size_consume_queue, 6_000_000);

        let tiny = StoreConfig {
            mapped_file_size_commit_log: 4096,
            ..StoreConfig::default()
        };
        assert!(matches!(
            tiny.validate(),
            Err(StoreError::Config {
                key: "mappedFileSizeCommitLog",
                ..
            })
        ));
        let bad_cq = StoreConfig {
            mapped_file_size_consume_queue: 30,
            ..StoreConfig::default()
        };
        assert!(bad_cq.validate().is_err());
        let bad_hours = StoreConfig {
            delete_when: "04;25".into(),
            ..StoreConfig::default()
        };
        assert!(bad_hours.validate().is_err());
        assert_eq!(
            "SYNC_FLUSH".parse::<FlushDiskType>(),
            Ok(FlushDiskType::SyncFlush)
        );
        assert!("sync".parse::<FlushDiskType>().is_err());
    }
}
