//! Apogee's durable message store.
//!
//! One append-only commit log holds every message of every topic in RocketMQ's record layout;
//! per-queue consume queues and a key index are derived from it by a dispatcher and can always
//! be rebuilt from it. The store knows nothing about the network.
//!
//! # Durability
//! With `SYNC_FLUSH` a put returns only once an `msync` covers the record (group commit shares
//! one sync among all concurrent senders). With `ASYNC_FLUSH` a put returns once the record is
//! in the page cache; a background thread flushes every `flushIntervalCommitLog`. After a crash,
//! recovery validates the log from the last checkpoint, cuts a torn tail, refuses to open on
//! corruption elsewhere, and rebuilds consume queues and index past their checkpoint.
//!
//! # Layout
//! - [`store`]: [`MessageStore`], the public face: open (recovery), put, get, query, shutdown.
//! - [`commit_log`]: segments, the single writer, reads, flushing, truncation.
//! - [`consume_queue`]: per-queue 20-byte units.
//! - [`index`]: lookup by message key and unique id.
//! - [`dispatch`]: builds consume queues and index from the commit log.
//! - [`flush`]: group commit (SYNC_FLUSH) and periodic flushing (ASYNC_FLUSH).
//! - [`flush_waiters`]: puts waiting for a SYNC_FLUSH, woken only by the flush that covers them.
//! - [`recovery`]: finding the true end of the log after any stop.
//! - [`checkpoint`]: what is known durable, to bound recovery.
//! - [`message`]: put and get types.
//! - [`config`], [`limits`], [`error`]: settings, named limits, errors.
//! - [`mapped_file`], [`segment_files`], [`doorbell`], [`disk`]: building blocks.
//!
//! # Place in the workspace
//! `apogee-protocol` ← **`apogee-store`** ← broker ← `apogee` (binary).
#![warn(missing_docs)]

pub mod checkpoint;
pub mod commit_log;
pub mod config;
pub mod consume_queue;
pub mod disk;
pub mod dispatch;
pub mod doorbell;
pub mod error;
pub mod flush;
pub mod flush_waiters;
pub mod index;
pub mod limits;
pub mod mapped_file;
pub mod message;
pub mod recovery;
pub mod segment_files;
pub mod store;

pub use commit_log::AppendResult;
pub use config::{FlushDiskType, StoreConfig};
pub use error::{Result, StoreError};
pub use message::{GetResult, GetStatus, PutMessage, PutResult, PutStatus, StoredMessage};
pub use recovery::RecoveryReport;
pub use store::{MessageStore, Positions, RetentionReport};
