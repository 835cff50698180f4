//! Store errors.
//!
//! Two kinds are kept apart: errors that end one request (a message too large, a full disk, a
//! missing record) and errors that mean the node's data cannot be trusted (corruption found by
//! recovery, an I/O failure while flushing). [`StoreError::is_fatal`] tells them apart.

use std::io;
use std::path::PathBuf;

use apogee_protocol::{DecodeError, NameError};
use thiserror::Error;

/// Everything the store can fail with.
#[derive(Debug, Error)]
pub enum StoreError {
    /// An operating-system call on a store file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("open", "mmap", "fdatasync", ...).
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A commit-log record that must be intact is not: detected by recovery, a read, or verify.
    #[error("corrupt record in {segment} at commit-log offset {offset}: {source}")]
    CorruptRecord {
        /// The segment file.
        segment: PathBuf,
        /// Commit-log offset of the bad record.
        offset: u64,
        /// What is wrong with it.
        #[source]
        source: DecodeError,
    },
    /// A record decodes but contradicts where it is stored.
    #[error("record in {segment} at commit-log offset {offset} is misplaced: {reason}")]
    MisplacedRecord {
        /// The segment file.
        segment: PathBuf,
        /// Commit-log offset of the record.
        offset: u64,
        /// The contradiction, e.g. its PHYSICALOFFSET field.
        reason: String,
    },
    /// A store file has a name, size or header that breaks the store's layout rules.
    #[error("bad store file {path}: {reason}")]
    BadFile {
        /// The offending file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The message body exceeds `maxMessageSize`.
    #[error("message body is {size} bytes; maxMessageSize is {max}")]
    MessageTooLarge {
        /// Body size in bytes.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// The encoded properties exceed what a record can hold.
    #[error("message properties are {size} bytes; the maximum is {max}")]
    PropertiesTooLarge {
        /// Encoded properties size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The topic name is not valid.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// A message id is not an offset message id (32 or 56 hex digits).
    #[error("invalid message id: {0}")]
    InvalidMessageId(#[source] DecodeError),
    /// A queue id is negative or above the store's limit.
    #[error("queue id {queue_id} is out of range 0..{max}")]
    InvalidQueueId {
        /// The queue id asked for.
        queue_id: i32,
        /// The number of queue ids the store accepts per topic.
        max: usize,
    },
    /// A batch was empty or mixed topics/queues.
    #[error("invalid batch: {reason}")]
    InvalidBatch {
        /// Why it was refused.
        reason: &'static str,
    },
    /// Disk usage is above `diskMaxUsedSpaceRatio`: writes are refused until space is freed.
    #[error(
        "disk holding {path} is {used_percent}% full, above diskMaxUsedSpaceRatio {limit_percent}%; \
         writes are refused until retention frees space or the limit is raised"
    )]
    DiskFull {
        /// The store root.
        path: PathBuf,
        /// Current usage, percent.
        used_percent: u32,
        /// The configured limit, percent.
        limit_percent: u32,
    },
    /// The store is shutting down or was shut down.
    #[error("the store is shut down")]
    ShutDown,
    /// A background service hit a fatal error earlier; the store refuses further writes.
    #[error("the store stopped accepting writes after a fatal error: {0}")]
    Poisoned(String),
    /// Another process holds the store directory's lock.
    #[error("store directory {path} is locked by another process")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A configuration value is invalid.
    #[error("invalid store configuration {key} = {value}: {reason}")]
    Config {
        /// The RocketMQ-style key, e.g. `mappedFileSizeCommitLog`.
        key: &'static str,
        /// The offending value.
        value: String,
        /// Why it is invalid.
        reason: &'static str,
    },
}

impl StoreError {
    /// Builds an [`StoreError::Io`] for `op` on `path`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Whether this error means the store's data or files cannot be trusted (as opposed to
    /// an error that only ends the current request).
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::Io { .. }
                | Self::CorruptRecord { .. }
                | Self::MisplacedRecord { .. }
                | Self::BadFile { .. }
                | Self::Poisoned(_)
        )
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
