//! Appending messages: validation, the append itself, and the SYNC_FLUSH wait.

use apogee_protocol::message::properties::{self, PROPERTIES_BYTES_MAX};
use apogee_protocol::message::record::body_crc;
use apogee_protocol::names;
use std::sync::atomic::Ordering;

use super::MessageStore;
use crate::commit_log::{AppendResult, Prepared};
use crate::config::FlushDiskType;
use crate::error::{Result, StoreError};
use crate::limits::{BATCH_MESSAGES_MAX, QUEUES_PER_TOPIC_MAX};
use crate::message::{PutMessage, PutResult, PutStatus};

impl MessageStore {
    /// Stores one message and, with SYNC_FLUSH and `WAIT` not `"false"`, waits until it is on
    /// disk (or `syncFlushTimeout` passes: [`PutStatus::FlushDiskTimeout`]).
    ///
    /// # Errors
    /// Invalid messages (too large, bad topic or queue id), a full disk, a closed or failed
    /// store. A message is stored if and only if this returns `Ok`.
    pub async fn put_message(&self, msg: &PutMessage) -> Result<PutResult> {
        self.put_messages(std::slice::from_ref(msg)).await
    }

    /// Stores a batch of messages for one topic and queue contiguously, with consecutive
    /// queue offsets, as one unit: all or none.
    ///
    /// # Errors
    /// As [`MessageStore::put_message`], plus [`StoreError::InvalidBatch`] for an empty,
    /// oversized or mixed batch.
    pub async fn put_messages(&self, batch: &[PutMessage]) -> Result<PutResult> {
        let wants_wait = batch
            .iter()
            .any(|m| properties::wait_store_ok(&m.properties));
        let wait = self.will_wait(wants_wait);
        let append = self.append(batch)?;
        self.await_durable(append, wait).await
    }

    /// Appends without waiting for a flush: the message is in the page cache when this
    /// returns, and on disk once [`crate::Positions::flushed`] passes
    /// [`AppendResult::end_offset`].
    ///
    /// # Errors
    /// As [`MessageStore::put_messages`].
    pub fn append(&self, batch: &[PutMessage]) -> Result<AppendResult> {
        self.inner.check_writable()?;
        let prepared = self.prepare(batch)?;
        self.inner.log.append(&prepared)
    }

    fn prepare<'a>(&self, batch: &'a [PutMessage]) -> Result<Vec<Prepared<'a>>> {
        let first = batch.first().ok_or(StoreError::InvalidBatch {
            reason: "no messages",
        })?;
        if batch.len() > BATCH_MESSAGES_MAX {
            return Err(StoreError::InvalidBatch {
                reason: "more messages than BATCH_MESSAGES_MAX",
            });
        }
        names::validate_topic(&first.topic)?;
        let in_range = usize::try_from(first.queue_id).is_ok_and(|q| q < QUEUES_PER_TOPIC_MAX);
        if !in_range {
            return Err(StoreError::InvalidQueueId {
                queue_id: first.queue_id,
                max: QUEUES_PER_TOPIC_MAX,
            });
        }
        let max_body = self.inner.config.max_message_size;
        batch
            .iter()
            .map(|msg| {
                if msg.topic != first.topic || msg.queue_id != first.queue_id {
                    return Err(StoreError::InvalidBatch {
                        reason: "messages of a batch must share topic and queue",
                    });
                }
                if msg.sys_flag != first.sys_flag {
                    return Err(StoreError::InvalidBatch {
                        reason: "messages of a batch must share their sysflag",
                    });
                }
                if msg.body.len() > max_body {
                    return Err(StoreError::MessageTooLarge {
                        size: msg.body.len(),
                        max: max_body,
                    });
                }
                if msg.properties.len() > PROPERTIES_BYTES_MAX {
                    return Err(StoreError::PropertiesTooLarge {
                        size: msg.properties.len(),
                        max: PROPERTIES_BYTES_MAX,
                    });
                }
                Ok(Prepared {
                    draft: msg.draft(),
                    crc: body_crc(&msg.body),
                })
            })
            .collect()
    }

    /// Whether a put that asks to wait (`WAIT` property) will wait for a flush; counts it
    /// for group-commit gathering before it appends.
    fn will_wait(&self, wants_wait: bool) -> bool {
        let wait = wants_wait && self.inner.config.flush_disk_type == FlushDiskType::SyncFlush;
        if wait {
            self.inner.flush.waiting_puts.fetch_add(1, Ordering::AcqRel);
        }
        wait
    }

    async fn await_durable(&self, append: AppendResult, wait: bool) -> Result<PutResult> {
        let config = &self.inner.config;
        let status = if wait {
            let flushed = self
                .inner
                .flush
                .waiters
                .wait(append.end_offset(), config.sync_flush_timeout())
                .await?;
            if flushed {
                PutStatus::PutOk
            } else {
                PutStatus::FlushDiskTimeout
            }
        } else {
            PutStatus::PutOk
        };
        Ok(PutResult { status, append })
    }
}
