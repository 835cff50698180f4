//! Reading: by queue offset (pulls), queue bounds, search by time, by key and by offset.

use apogee_protocol::message::message_id::decode_offset_msg_id;
use apogee_protocol::message::properties::{self, KEY_SEPARATOR, KEYS, UNIQ_KEY};
use apogee_protocol::message::record;
use bytes::Bytes;

use super::MessageStore;
use crate::consume_queue::{ConsumeQueue, CqUnit};
use crate::error::{Result, StoreError};
use crate::limits::{READ_BYTES_MAX, READ_MESSAGES_MAX, READ_SCAN_UNITS_MAX};
use crate::message::{GetResult, GetStatus, StoredMessage};

impl MessageStore {
    /// Reads up to `max_msgs` messages (and about `max_bytes`, at least one message) from
    /// `topic`/`queue_id` starting at logical `offset`, keeping those whose tag code passes
    /// `filter`. Statuses and next offsets follow RocketMQ's `getMessage`.
    ///
    /// # Errors
    /// [`StoreError::CorruptRecord`] and similar if a referenced record is damaged: a corrupt
    /// record is never served.
    pub fn get_messages(
        &self,
        topic: &str,
        queue_id: i32,
        offset: u64,
        max_msgs: usize,
        max_bytes: usize,
        filter: &dyn Fn(i64) -> bool,
    ) -> Result<GetResult> {
        let Some(cq) = self.inner.queues.get(topic, queue_id) else {
            return Ok(empty(GetStatus::NoMatchedLogicQueue, 0, 0, 0));
        };
        let (min, max) = (cq.min_offset(), cq.max_offset());
        let early = match offset {
            _ if max == 0 => Some((GetStatus::NoMessageInQueue, 0)),
            o if o < min => Some((GetStatus::OffsetTooSmall, min)),
            o if o == max => Some((GetStatus::OffsetOverflowOne, o)),
            o if o > max => Some((GetStatus::OffsetOverflowBadly, max)),
            _ => None,
        };
        if let Some((status, next)) = early {
            return Ok(empty(status, next, min, max));
        }
        let max_msgs = max_msgs.clamp(1, READ_MESSAGES_MAX);
        let max_bytes = max_bytes.clamp(1, READ_BYTES_MAX);
        let mut messages = Vec::new();
        let (mut bytes, mut next, mut removed) = (0usize, offset, false);
        for (queue_offset, unit) in cq.read(offset, READ_SCAN_UNITS_MAX) {
            if messages.len() >= max_msgs
                || (!messages.is_empty() && bytes + unit.size as usize > max_bytes)
            {
                break;
            }
            next = queue_offset + 1;
            if !filter(unit.tags_code) {
                continue;
            }
            match self.read_unit(&cq, queue_offset, &unit)? {
                Some(record) => {
                    bytes += record.len();
                    messages.push(StoredMessage {
                        queue_offset,
                        physical_offset: unit.phy_offset,
                        tags_code: unit.tags_code,
                        bytes: record,
                    });
                }
                None => removed = true,
            }
        }
        let status = match (messages.is_empty(), removed) {
            (false, _) => GetStatus::Found,
            (true, true) => GetStatus::MessageWasRemoving,
            (true, false) => GetStatus::NoMatchedMessage,
        };
        Ok(GetResult {
            status,
            next_begin_offset: next,
            min_offset: min,
            max_offset: max,
            messages,
        })
    }

    fn read_unit(
        &self,
        cq: &ConsumeQueue,
        queue_offset: u64,
        unit: &CqUnit,
    ) -> Result<Option<Bytes>> {
        let check_crc = self.inner.config.check_crc_on_read;
        let Some(record) = self.inner.log.read_record(unit.phy_offset, check_crc)? else {
            return Ok(None);
        };
        if record.len() != unit.size as usize {
            return Err(StoreError::MisplacedRecord {
                segment: self.inner.log.dir().to_path_buf(),
                offset: unit.phy_offset,
                reason: format!(
                    "{}/{} unit {queue_offset} says {} bytes, record has {}",
                    cq.topic(),
                    cq.queue_id(),
                    unit.size,
                    record.len()
                ),
            });
        }
        Ok(Some(record))
    }

    /// Waits until `topic`/`queue_id` holds a message at logical `offset` or beyond, or until
    /// `timeout`; returns whether it does. This is what a long-polling pull waits on.
    pub async fn wait_for_message(
        &self,
        topic: &str,
        queue_id: i32,
        offset: u64,
        timeout: std::time::Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut arrivals = self.subscribe_arrivals();
        loop {
            if let Some(cq) = self.inner.queues.get(topic, queue_id) {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                return cq.wait_beyond(offset, left).await;
            }
            // The queue does not exist yet: wait for anything to be dispatched, then look again.
            match tokio::time::timeout_at(deadline, arrivals.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return false,
            }
        }
    }

    /// Smallest readable logical offset of a queue (0 if the queue does not exist).
    #[must_use]
    pub fn min_offset(&self, topic: &str, queue_id: i32) -> u64 {
        self.inner
            .queues
            .get(topic, queue_id)
            .map_or(0, |cq| cq.min_offset())
    }

    /// Next logical offset to be written in a queue (0 if the queue does not exist).
    #[must_use]
    pub fn max_offset(&self, topic: &str, queue_id: i32) -> u64 {
        self.inner
            .queues
            .get(topic, queue_id)
            .map_or(0, |cq| cq.max_offset())
    }

    /// Queue ids of `topic` that hold or held messages.
    #[must_use]
    pub fn queue_ids(&self, topic: &str) -> Vec<i32> {
        self.inner.queues.queue_ids(topic)
    }

    /// When the queue's oldest message still stored was stored (ms since the epoch); `None`
    /// for an empty or unknown queue.
    ///
    /// # Errors
    /// If that record is corrupt.
    pub fn earliest_store_time(&self, topic: &str, queue_id: i32) -> Result<Option<i64>> {
        let Some(cq) = self.inner.queues.get(topic, queue_id) else {
            return Ok(None);
        };
        self.store_timestamp_at(&cq, cq.min_offset())
    }

    /// The first logical offset whose message was stored at or after `timestamp_ms`; the
    /// queue's maximum if every message is older, its minimum if every message is newer.
    ///
    /// # Errors
    /// If a record consulted during the search is corrupt.
    pub fn offset_by_time(&self, topic: &str, queue_id: i32, timestamp_ms: i64) -> Result<u64> {
        let Some(cq) = self.inner.queues.get(topic, queue_id) else {
            return Ok(0);
        };
        let (mut lo, mut hi) = (cq.min_offset(), cq.max_offset());
        // Store timestamps never decrease along the log, so bisect on them.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.store_timestamp_at(&cq, mid)? {
                Some(ts) if ts < timestamp_ms => lo = mid + 1,
                Some(_) => hi = mid,
                None => lo = mid + 1, // Removed by retention: treat as older.
            }
        }
        Ok(lo)
    }

    fn store_timestamp_at(&self, cq: &ConsumeQueue, offset: u64) -> Result<Option<i64>> {
        let Some(unit) = cq.get(offset) else {
            return Ok(None);
        };
        let Some(record) = self.read_unit(cq, offset, &unit)? else {
            return Ok(None);
        };
        let view = record::decode(&record).map_err(|source| StoreError::CorruptRecord {
            segment: self.inner.log.dir().to_path_buf(),
            offset: unit.phy_offset,
            source,
        })?;
        Ok(Some(view.store_timestamp))
    }

    /// The record stored at commit-log `offset` (an offset from outside, e.g. a message id),
    /// validated; `None` if no record starts there.
    ///
    /// An offset into the middle of a record, or past the end, is a bad request rather than
    /// damage, so it gives `None`: bytes that do not decode as a record whose PHYSICALOFFSET is
    /// `offset` are not a record. A record that does sit there but fails its body CRC is
    /// corrupt and gives an error.
    ///
    /// # Errors
    /// [`StoreError::CorruptRecord`] if the record at `offset` fails its CRC.
    pub fn record_at(&self, offset: u64) -> Result<Option<Bytes>> {
        match self.inner.log.read_record(offset, true) {
            Err(
                e @ StoreError::CorruptRecord {
                    source: apogee_protocol::DecodeError::BodyCrcMismatch { .. },
                    ..
                },
            ) => Err(e),
            Err(StoreError::CorruptRecord { .. } | StoreError::MisplacedRecord { .. }) => Ok(None),
            other => other,
        }
    }

    /// The record named by an offset message id (VIEW_MESSAGE_BY_ID); the store host in the id
    /// is not checked here.
    ///
    /// # Errors
    /// [`StoreError::InvalidMessageId`] if the id is malformed; corruption errors.
    pub fn record_by_offset_id(&self, id: &str) -> Result<Option<Bytes>> {
        // A malformed id is a bad request, not damage in the store.
        let (_, offset) = decode_offset_msg_id(id).map_err(StoreError::InvalidMessageId)?;
        match u64::try_from(offset) {
            Ok(offset) => self.record_at(offset),
            Err(_) => Ok(None),
        }
    }

    /// Records of `topic` whose UNIQ_KEY or one of whose KEYS equals `key`, stored within
    /// `[begin_ms, end_ms]`, newest first, at most `max`. Every index hit is verified against
    /// the record itself, so hash collisions never leak into results.
    ///
    /// # Errors
    /// If a candidate record is corrupt.
    pub fn query_by_key(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Bytes>> {
        let Some(index) = &self.inner.index else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for offset in index.query(topic, key, max, begin_ms, end_ms) {
            let Some(record) = self.record_at(offset)? else {
                continue;
            };
            let Ok(view) = record::decode(&record) else {
                continue;
            };
            let has_key = properties::get(view.properties, UNIQ_KEY) == Some(key)
                || properties::get(view.properties, KEYS)
                    .is_some_and(|keys| keys.split(KEY_SEPARATOR).any(|k| k == key));
            let in_range = (begin_ms..=end_ms).contains(&view.store_timestamp);
            if view.topic == topic && has_key && in_range {
                out.push(record.clone());
            }
        }
        Ok(out)
    }
}

fn empty(status: GetStatus, next: u64, min: u64, max: u64) -> GetResult {
    GetResult {
        status,
        next_begin_offset: next,
        min_offset: min,
        max_offset: max,
        messages: Vec::new(),
    }
}
