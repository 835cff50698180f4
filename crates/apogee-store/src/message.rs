//! What goes into the store and what comes out of it.

use std::net::{Ipv4Addr, SocketAddr};

use apogee_protocol::message::record::RecordDraft;
use bytes::Bytes;

use crate::commit_log::AppendResult;

/// A message to store, as the broker hands it over (RocketMQ's `MessageExtBrokerInner`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutMessage {
    /// Destination topic.
    pub topic: String,
    /// Destination queue id.
    pub queue_id: i32,
    /// User flag.
    pub flag: i32,
    /// Message sysflag (transaction type, compression, ...).
    pub sys_flag: i32,
    /// Producer timestamp, ms since the epoch.
    pub born_timestamp: i64,
    /// Producer address.
    pub born_host: SocketAddr,
    /// This broker's address, as clients reach it.
    pub store_host: SocketAddr,
    /// Times the message was re-consumed.
    pub reconsume_times: i32,
    /// Half-message offset for committed transactional messages.
    pub prepared_transaction_offset: i64,
    /// Body as sent.
    pub body: Bytes,
    /// Encoded properties (`apogee_protocol::message::properties`).
    pub properties: String,
}

impl PutMessage {
    /// A plain message with loopback hosts and no properties; for tools and tests.
    #[must_use]
    pub fn new(topic: impl Into<String>, queue_id: i32, body: impl Into<Bytes>) -> Self {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Self {
            topic: topic.into(),
            queue_id,
            flag: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: loopback,
            store_host: loopback,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: body.into(),
            properties: String::new(),
        }
    }

    /// The record draft of this message.
    #[must_use]
    pub fn draft(&self) -> RecordDraft<'_> {
        RecordDraft {
            topic: &self.topic,
            queue_id: self.queue_id,
            flag: self.flag,
            sys_flag: self.sys_flag,
            born_timestamp: self.born_timestamp,
            born_host: self.born_host,
            store_host: self.store_host,
            reconsume_times: self.reconsume_times,
            prepared_transaction_offset: self.prepared_transaction_offset,
            body: &self.body,
            properties: &self.properties,
        }
    }
}

/// How a successful put ended (RocketMQ `PutMessageStatus`, the stored cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutStatus {
    /// Stored, and as durable as `flushDiskType` promises.
    PutOk,
    /// SYNC_FLUSH only: stored, but not known to be on disk within `syncFlushTimeout`.
    FlushDiskTimeout,
}

/// The outcome of a put: where the message went and how durable it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    /// Durability status.
    pub status: PutStatus,
    /// Offsets and sizes.
    pub append: AppendResult,
}

/// How a read from a consume queue went (RocketMQ `GetMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetStatus {
    /// Messages were found.
    Found,
    /// Messages exist in the range but none passed the filter.
    NoMatchedMessage,
    /// The queue exists but holds no message.
    NoMessageInQueue,
    /// The requested offset is below the queue's minimum.
    OffsetTooSmall,
    /// The requested offset is the queue's maximum: nothing new yet.
    OffsetOverflowOne,
    /// The requested offset is beyond the queue's maximum.
    OffsetOverflowBadly,
    /// The queue does not exist.
    NoMatchedLogicQueue,
    /// The unit exists but its record was deleted by retention.
    MessageWasRemoving,
}

/// One message read from a consume queue: its raw stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Logical offset in the queue.
    pub queue_offset: u64,
    /// Commit-log offset.
    pub physical_offset: u64,
    /// Tag code from the consume queue.
    pub tags_code: i64,
    /// The record, byte for byte as stored (what pull responses carry).
    pub bytes: Bytes,
}

/// The result of [`crate::MessageStore::get_messages`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetResult {
    /// What happened.
    pub status: GetStatus,
    /// Where the next read should start.
    pub next_begin_offset: u64,
    /// The queue's minimum offset.
    pub min_offset: u64,
    /// The queue's maximum offset (next to be written).
    pub max_offset: u64,
    /// The messages, in queue order.
    pub messages: Vec<StoredMessage>,
}
