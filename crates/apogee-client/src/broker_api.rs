//! Typed requests to one broker: send, pull, offsets, membership, topic admin, lookups. Each
//! takes the broker's address; choosing the broker is the caller's business.

use std::time::Duration;

use apogee_protocol::body::{self, ConsumerListBody, LockBatchRequestBody, LockBatchResponseBody};
use apogee_protocol::header::{
    CommandHeader, CreateTopicRequestHeader, DeleteTopicRequestHeader,
    GetConsumerListByGroupRequestHeader, GetMaxOffsetRequestHeader, GetMinOffsetRequestHeader,
    OffsetResponseHeader, PullMessageRequestHeader, PullMessageResponseHeader,
    QueryConsumerOffsetRequestHeader, QueryMessageRequestHeader, SearchOffsetRequestHeader,
    SendMessageRequestHeader, SendMessageResponseHeader, UpdateConsumerOffsetRequestHeader,
    ViewMessageRequestHeader,
};
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::RemotingCommand;
use bytes::Bytes;

use crate::error::ClientError;
use crate::instance::{ClientInstance, expect_code, refused};
use crate::message::{MessageExt, MessageQueue};

/// The broker's answer to a send that was stored: the code says whether flushing or
/// replication finished in time (SUCCESS, FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT,
/// SLAVE_NOT_AVAILABLE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResponse {
    /// The response code.
    pub code: i32,
    /// Offsets and ids of the stored message.
    pub header: SendMessageResponseHeader,
}

/// How a pull went (RocketMQ's `PullStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PullStatus {
    /// Messages were returned.
    Found,
    /// Nothing new at the offset (the pull waited its suspend time, if it asked to).
    NoNewMsg,
    /// Messages were there but none matched the subscription.
    NoMatchedMsg,
    /// The offset is outside the queue; continue at `next_begin_offset`.
    OffsetIllegal,
}

/// The answer to a pull.
#[derive(Debug, Clone)]
pub struct PullResponse {
    /// How it went.
    pub status: PullStatus,
    /// Where to pull next, and the queue's bounds.
    pub header: PullMessageResponseHeader,
    /// The records, laid end to end as stored (empty unless [`PullStatus::Found`]).
    pub body: Bytes,
}

impl PullResponse {
    /// Decodes the returned messages.
    ///
    /// # Errors
    /// [`ClientError::BadResponse`] if a record does not decode or fails its CRC.
    pub fn messages(&self, addr: &str, broker_name: &str) -> Result<Vec<MessageExt>, ClientError> {
        MessageExt::decode_all(&self.body, broker_name).map_err(|e| ClientError::BadResponse {
            addr: addr.to_owned(),
            detail: format!("pulled record: {e}"),
        })
    }
}

/// Reads a response header, naming the peer on failure.
fn read_header<H: CommandHeader>(addr: &str, response: &RemotingCommand) -> Result<H, ClientError> {
    H::from_ext(&response.ext_fields).map_err(|e| ClientError::bad_header(addr, &e))
}

fn offset_of(addr: &str, response: &RemotingCommand) -> Result<i64, ClientError> {
    Ok(read_header::<OffsetResponseHeader>(addr, response)?.offset)
}

impl ClientInstance {
    /// Sends one message (SEND_MESSAGE_V2) or a batch (SEND_BATCH_MESSAGE, `batch` set in
    /// the header and `body` encoded with [`apogee_protocol::message::batch::encode_batch`]).
    ///
    /// # Errors
    /// Transport errors; [`ClientError::Refused`] for any code that means "not stored".
    pub async fn send_message(
        &self,
        addr: &str,
        header: &SendMessageRequestHeader,
        body: Bytes,
        timeout: Duration,
    ) -> Result<SendResponse, ClientError> {
        let code = if header.is_batch() {
            request::SEND_BATCH_MESSAGE
        } else {
            request::SEND_MESSAGE_V2
        };
        let request = RemotingCommand::request(code, header.to_ext_v2()).with_body(body);
        let response = self.invoke(addr, request, timeout).await?;
        let response = expect_code(
            addr,
            response,
            &[
                response::SUCCESS,
                response::FLUSH_DISK_TIMEOUT,
                response::FLUSH_SLAVE_TIMEOUT,
                response::SLAVE_NOT_AVAILABLE,
            ],
        )?;
        Ok(SendResponse {
            code: response.code,
            header: read_header(addr, &response)?,
        })
    }

    /// Sends one message without waiting for the broker's answer.
    ///
    /// # Errors
    /// [`ClientError::Remoting`] when it cannot be written.
    pub async fn send_message_oneway(
        &self,
        addr: &str,
        header: &SendMessageRequestHeader,
        body: Bytes,
    ) -> Result<(), ClientError> {
        let code = if header.is_batch() {
            request::SEND_BATCH_MESSAGE
        } else {
            request::SEND_MESSAGE_V2
        };
        let request = RemotingCommand::request(code, header.to_ext_v2()).with_body(body);
        self.invoke_oneway(addr, request).await
    }

    /// Pulls from a queue. `timeout` must exceed the header's suspend time for a long poll.
    ///
    /// # Errors
    /// Transport errors; [`ClientError::Refused`] for codes other than the four pull
    /// outcomes.
    pub async fn pull_message(
        &self,
        addr: &str,
        request_header: &PullMessageRequestHeader,
        timeout: Duration,
    ) -> Result<PullResponse, ClientError> {
        let request = RemotingCommand::request(request::PULL_MESSAGE, request_header.to_ext());
        let response = self.invoke(addr, request, timeout).await?;
        let status = match response.code {
            response::SUCCESS => PullStatus::Found,
            response::PULL_NOT_FOUND => PullStatus::NoNewMsg,
            response::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMsg,
            response::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
            code => return Err(refused(addr, code, response.remark)),
        };
        Ok(PullResponse {
            status,
            header: read_header(addr, &response)?,
            body: response.body,
        })
    }

    /// A group's committed offset of `queue`; `None` when the broker has none.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn query_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        queue: &MessageQueue,
    ) -> Result<Option<i64>, ClientError> {
        self.query_offset(addr, group, queue, Some(false)).await
    }

    /// Where a group starts on `queue` as a RocketMQ consumer asks it
    /// (`setZeroIfNotFound` left out): its committed offset, or 0 when it has none but the
    /// queue still holds its first message (the broker's "young queue" rule, so that a new
    /// group on a new topic misses nothing even with CONSUME_FROM_LAST_OFFSET); `None`
    /// otherwise.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn query_consumer_start_offset(
        &self,
        addr: &str,
        group: &str,
        queue: &MessageQueue,
    ) -> Result<Option<i64>, ClientError> {
        self.query_offset(addr, group, queue, None).await
    }

    async fn query_offset(
        &self,
        addr: &str,
        group: &str,
        queue: &MessageQueue,
        set_zero_if_not_found: Option<bool>,
    ) -> Result<Option<i64>, ClientError> {
        let h = QueryConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            set_zero_if_not_found,
        };
        let request = RemotingCommand::request(request::QUERY_CONSUMER_OFFSET, h.to_ext());
        let response = self
            .invoke(addr, request, self.config().request_timeout)
            .await?;
        if response.code == response::QUERY_NOT_FOUND {
            return Ok(None);
        }
        let response = expect_code(addr, response, &[response::SUCCESS])?;
        Ok(Some(offset_of(addr, &response)?))
    }

    /// Commits a group's offset of `queue` (the next offset to consume), waiting for the
    /// broker's answer; `oneway` sends it as the Java client's periodic persist does.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn update_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        queue: &MessageQueue,
        offset: i64,
        oneway: bool,
    ) -> Result<(), ClientError> {
        let h = UpdateConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            commit_offset: offset,
        };
        let request = RemotingCommand::request(request::UPDATE_CONSUMER_OFFSET, h.to_ext());
        if oneway {
            return self.invoke_oneway(addr, request).await;
        }
        self.invoke_ok(addr, request).await.map(drop)
    }

    /// The queue's max offset: the offset the next message will get.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn max_offset(&self, addr: &str, queue: &MessageQueue) -> Result<i64, ClientError> {
        let h = GetMaxOffsetRequestHeader {
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            committed: None,
        };
        let request = RemotingCommand::request(request::GET_MAX_OFFSET, h.to_ext());
        let response = self.invoke_ok(addr, request).await?;
        offset_of(addr, &response)
    }

    /// The queue's min offset: the oldest message still stored.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn min_offset(&self, addr: &str, queue: &MessageQueue) -> Result<i64, ClientError> {
        let h = GetMinOffsetRequestHeader {
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
        };
        let request = RemotingCommand::request(request::GET_MIN_OFFSET, h.to_ext());
        let response = self.invoke_ok(addr, request).await?;
        offset_of(addr, &response)
    }

    /// The offset of the first message stored at or after `timestamp_ms`.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn search_offset(
        &self,
        addr: &str,
        queue: &MessageQueue,
        timestamp_ms: i64,
    ) -> Result<i64, ClientError> {
        let h = SearchOffsetRequestHeader {
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            timestamp: timestamp_ms,
            boundary_type: None,
        };
        let request = RemotingCommand::request(request::SEARCH_OFFSET_BY_TIMESTAMP, h.to_ext());
        let response = self.invoke_ok(addr, request).await?;
        offset_of(addr, &response)
    }

    /// The client ids of a consumer group's live members, as the broker knows them.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn consumer_ids(&self, addr: &str, group: &str) -> Result<Vec<String>, ClientError> {
        let h = GetConsumerListByGroupRequestHeader {
            consumer_group: group.to_owned(),
        };
        let request = RemotingCommand::request(request::GET_CONSUMER_LIST_BY_GROUP, h.to_ext());
        let response = self.invoke_ok(addr, request).await?;
        let list: ConsumerListBody =
            body::decode(&response.body).map_err(|e| ClientError::bad_body(addr, &e))?;
        Ok(list.consumer_id_list)
    }

    /// Locks queues for orderly consumption; returns the queues now held by this client.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn lock_queues(
        &self,
        addr: &str,
        group: &str,
        queues: Vec<MessageQueue>,
    ) -> Result<Vec<MessageQueue>, ClientError> {
        let lock = LockBatchRequestBody {
            consumer_group: group.to_owned(),
            client_id: self.client_id().to_owned(),
            only_this_broker: true,
            mq_set: queues,
        };
        let request = RemotingCommand::request(request::LOCK_BATCH_MQ, Default::default())
            .with_body(body::encode(&lock));
        let response = self.invoke_ok(addr, request).await?;
        let locked: LockBatchResponseBody =
            body::decode(&response.body).map_err(|e| ClientError::bad_body(addr, &e))?;
        Ok(locked.lock_ok_mq_set)
    }

    /// Releases queue locks.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn unlock_queues(
        &self,
        addr: &str,
        group: &str,
        queues: Vec<MessageQueue>,
    ) -> Result<(), ClientError> {
        let unlock = LockBatchRequestBody {
            consumer_group: group.to_owned(),
            client_id: self.client_id().to_owned(),
            only_this_broker: true,
            mq_set: queues,
        };
        let request = RemotingCommand::request(request::UNLOCK_BATCH_MQ, Default::default())
            .with_body(body::encode(&unlock));
        self.invoke_ok(addr, request).await.map(drop)
    }

    /// Creates or updates a topic on one broker (UPDATE_AND_CREATE_TOPIC).
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn create_topic_on_broker(
        &self,
        addr: &str,
        h: &CreateTopicRequestHeader,
    ) -> Result<(), ClientError> {
        let request = RemotingCommand::request(request::UPDATE_AND_CREATE_TOPIC, h.to_ext());
        self.invoke_ok(addr, request).await.map(drop)
    }

    /// Deletes a topic from one broker (DELETE_TOPIC_IN_BROKER).
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn delete_topic_on_broker(&self, addr: &str, topic: &str) -> Result<(), ClientError> {
        let h = DeleteTopicRequestHeader {
            topic: topic.to_owned(),
        };
        let request = RemotingCommand::request(request::DELETE_TOPIC_IN_BROKER, h.to_ext());
        self.invoke_ok(addr, request).await.map(drop)
    }

    /// Messages of `topic` whose key (or unique key, with
    /// [`apogee_protocol::header::query::UNIQUE_KEY_QUERY`] semantics left to the caller)
    /// is `key`, stored between the two times; returns the raw records.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`] (QUERY_NOT_FOUND when nothing matched).
    pub async fn query_message(
        &self,
        addr: &str,
        h: &QueryMessageRequestHeader,
        broker_name: &str,
    ) -> Result<Vec<MessageExt>, ClientError> {
        let request = RemotingCommand::request(request::QUERY_MESSAGE, h.to_ext());
        let response = self.invoke_ok(addr, request).await?;
        MessageExt::decode_all(&response.body, broker_name).map_err(|e| ClientError::BadResponse {
            addr: addr.to_owned(),
            detail: format!("queried record: {e}"),
        })
    }

    /// The message stored at commit-log `offset` on the broker at `addr`.
    ///
    /// # Errors
    /// Transport errors, [`ClientError::Refused`].
    pub async fn view_message(
        &self,
        addr: &str,
        offset: i64,
        broker_name: &str,
    ) -> Result<MessageExt, ClientError> {
        let h = ViewMessageRequestHeader {
            offset,
            topic: None,
        };
        let request = RemotingCommand::request(request::VIEW_MESSAGE_BY_ID, h.to_ext());
        let response = self.invoke_ok(addr, request).await?;
        let mut found = MessageExt::decode_all(&response.body, broker_name).map_err(|e| {
            ClientError::BadResponse {
                addr: addr.to_owned(),
                detail: format!("viewed record: {e}"),
            }
        })?;
        match found.len() {
            1 => Ok(found.remove(0)),
            n => Err(ClientError::BadResponse {
                addr: addr.to_owned(),
                detail: format!("expected one record, got {n}"),
            }),
        }
    }
}
