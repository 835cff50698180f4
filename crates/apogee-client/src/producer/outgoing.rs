//! What goes on the wire for a send: checks on the message (RocketMQ's
//! `Validators.checkMessage`), then the one place where the `UNIQ_KEY`, compression, sysflag
//! and properties of a send are decided (RocketMQ's `sendKernelImpl` preamble and
//! `MessageBatch.generateFromList`), and the request header.
//!
//! Transactional messages (a later feature) only need the producer to set `TRAN_MSG=true`
//! and `PGROUP` before calling in here: the sysflag's PREPARED bits follow from `TRAN_MSG`.

use apogee_protocol::header::SendMessageRequestHeader;
use apogee_protocol::message::batch::{BatchEntry, encode_batch};
use apogee_protocol::message::properties::{
    self, DELAY, NAME_VALUE_SEPARATOR, PROPERTIES_BYTES_MAX, PROPERTY_SEPARATOR, TRAN_MSG,
    UNIQ_KEY, WAIT,
};
use apogee_protocol::message::sysflag::TRANSACTION_PREPARED;
use apogee_protocol::names;
use bytes::Bytes;

use super::ProducerConfig;
use super::compression::{ZLIB_SYS_FLAG, zlib_compress};
use super::unique_id::UniqueIdGenerator;
use crate::error::ClientError;
use crate::message::{Message, MessageQueue};

/// How many times a message was consumed before (`RECONSUME_TIME`), for `%RETRY%` topics.
const RECONSUME_TIME: &str = "RECONSUME_TIME";
/// The retries a consumer allows before the dead-letter queue (`MAX_RECONSUME_TIMES`).
const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";

/// Topics only the broker writes to (RocketMQ's `TopicValidator.isNotAllowedSendTopic`).
const NOT_ALLOWED_SEND_TOPICS: [&str; 5] = [
    names::AUTO_CREATE_TOPIC_TEMPLATE,
    names::SCHEDULE_TOPIC,
    names::TRANS_HALF_TOPIC,
    names::TRANS_OP_HALF_TOPIC,
    names::TRANS_CHECK_MAX_TIME_TOPIC,
];

fn invalid(detail: String) -> ClientError {
    ClientError::InvalidArgument(detail)
}

/// Checks that `topic` may be sent to: RocketMQ's naming rules and not a system topic.
///
/// # Errors
/// [`ClientError::InvalidName`], [`ClientError::InvalidArgument`].
pub fn check_topic(topic: &str) -> Result<(), ClientError> {
    names::validate_topic(topic)?;
    if NOT_ALLOWED_SEND_TOPICS.contains(&topic) {
        return Err(invalid(format!(
            "topic {topic} is reserved for the broker and cannot be sent to"
        )));
    }
    Ok(())
}

/// Checks a message before it is sent: topic, a body of 1 to `max_message_size` bytes, and
/// properties that encode (no separator characters, at most 32767 bytes).
///
/// # Errors
/// [`ClientError::InvalidName`] for the topic, [`ClientError::InvalidArgument`] otherwise.
pub fn check_message(msg: &Message, max_message_size: usize) -> Result<(), ClientError> {
    check_topic(&msg.topic)?;
    if msg.body.is_empty() {
        return Err(invalid(format!(
            "the message body for topic {} is empty; RocketMQ does not accept empty messages",
            msg.topic
        )));
    }
    if msg.body.len() > max_message_size {
        return Err(invalid(format!(
            "the message body is {} bytes; the maximum is {max_message_size} (maxMessageSize)",
            msg.body.len()
        )));
    }
    let separators = [NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR];
    if let Some((name, _)) = msg
        .properties
        .iter()
        .find(|(k, v)| k.is_empty() || k.contains(separators) || v.contains(separators))
    {
        return Err(invalid(format!(
            "message property {name:?} is empty or contains \\u0001 or \\u0002, which cannot \
             be encoded"
        )));
    }
    Ok(())
}

fn check_properties_len(encoded: &str) -> Result<(), ClientError> {
    if encoded.len() > PROPERTIES_BYTES_MAX {
        return Err(invalid(format!(
            "the message properties encode to {} bytes; the maximum is {PROPERTIES_BYTES_MAX}",
            encoded.len()
        )));
    }
    Ok(())
}

/// A send ready for the wire: body (compressed or a batch), sysflag and properties decided.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    /// The topic.
    pub(crate) topic: String,
    /// The request body.
    pub(crate) body: Bytes,
    /// The user flag (0 for a batch: each entry has its own).
    pub(crate) flag: i32,
    /// The message sysflag.
    pub(crate) sys_flag: i32,
    /// Encoded properties of the request header.
    pub(crate) properties: Option<String>,
    /// Whether `body` is a batch.
    pub(crate) batch: bool,
    /// The `UNIQ_KEY`, comma-joined for a batch.
    pub(crate) msg_id: String,
    /// `reconsumeTimes` and `maxReconsumeTimes`, for `%RETRY%` topics.
    pub(crate) reconsume: Option<(i32, Option<i32>)>,
}

impl Outgoing {
    /// Checks `msg`, gives it a `UNIQ_KEY` unless it has one, compresses its body when large,
    /// and sets the sysflag from compression and `TRAN_MSG`.
    pub(crate) fn single(
        mut msg: Message,
        config: &ProducerConfig,
        ids: &UniqueIdGenerator,
    ) -> Result<Self, ClientError> {
        check_message(&msg, config.max_message_size)?;
        let msg_id = ensure_unique_key(&mut msg, ids);
        let mut sys_flag = 0;
        let mut body = msg.body.clone();
        if body.len() >= config.compress_msg_body_over_howmuch
            && let Some(packed) = zlib_compress(&body, config.compress_level)
        {
            body = packed;
            sys_flag |= ZLIB_SYS_FLAG;
        }
        if msg.property(TRAN_MSG) == Some("true") {
            sys_flag |= TRANSACTION_PREPARED;
        }
        let reconsume = msg
            .topic
            .starts_with(names::RETRY_GROUP_TOPIC_PREFIX)
            .then(|| {
                let times = msg.property(RECONSUME_TIME).and_then(|v| v.parse().ok());
                let max = msg
                    .property(MAX_RECONSUME_TIMES)
                    .and_then(|v| v.parse().ok());
                (times.unwrap_or(0), max)
            });
        let properties = msg.encoded_properties();
        check_properties_len(&properties)?;
        Ok(Self {
            topic: msg.topic,
            body,
            flag: msg.flag,
            sys_flag,
            properties: Some(properties),
            batch: false,
            msg_id,
            reconsume,
        })
    }

    /// Checks a batch (non-empty, one topic, not a retry topic, no delay, one `WAIT`
    /// setting, each message valid), gives each message its own `UNIQ_KEY`, and encodes the
    /// SEND_BATCH_MESSAGE body, which must fit `maxMessageSize`. Batches are not compressed.
    pub(crate) fn batch(
        msgs: Vec<Message>,
        config: &ProducerConfig,
        ids: &UniqueIdGenerator,
    ) -> Result<Self, ClientError> {
        let Some(first) = msgs.first() else {
            return Err(invalid("a batch needs at least one message".to_owned()));
        };
        let topic = first.topic.clone();
        let wait = first.property(WAIT).map(str::to_owned);
        if topic.starts_with(names::RETRY_GROUP_TOPIC_PREFIX) {
            return Err(invalid(format!(
                "retry topic {topic} is not supported in a batch"
            )));
        }
        let mut entries = Vec::with_capacity(msgs.len());
        let mut msg_ids = Vec::with_capacity(msgs.len());
        for mut msg in msgs {
            check_message(&msg, config.max_message_size)?;
            if msg.topic != topic {
                return Err(invalid(format!(
                    "all messages of a batch must have one topic; got {topic} and {}",
                    msg.topic
                )));
            }
            if msg.property(DELAY).is_some() {
                return Err(invalid(
                    "delayed messages (DELAY) are not supported in a batch".to_owned(),
                ));
            }
            if msg.property(WAIT) != wait.as_deref() {
                return Err(invalid(
                    "all messages of a batch must have the same WAIT setting".to_owned(),
                ));
            }
            msg_ids.push(ensure_unique_key(&mut msg, ids));
            let properties = msg.encoded_properties();
            check_properties_len(&properties)?;
            entries.push(BatchEntry {
                flag: msg.flag,
                body: msg.body,
                properties,
            });
        }
        let body = encode_batch(&entries);
        if body.len() > config.max_message_size {
            return Err(invalid(format!(
                "the batch encodes to {} bytes; the maximum is {} (maxMessageSize): split it",
                body.len(),
                config.max_message_size
            )));
        }
        Ok(Self {
            topic,
            body: Bytes::from(body),
            flag: 0,
            sys_flag: 0,
            properties: wait.map(|w| properties::encode([(WAIT, w.as_str())])),
            batch: true,
            msg_id: msg_ids.join(","),
            reconsume: None,
        })
    }

    /// The request header of an attempt on `mq`.
    pub(crate) fn header(
        &self,
        config: &ProducerConfig,
        mq: &MessageQueue,
        born_timestamp: i64,
    ) -> SendMessageRequestHeader {
        SendMessageRequestHeader {
            producer_group: config.producer_group.clone(),
            topic: self.topic.clone(),
            default_topic: config.create_topic_key.clone(),
            default_topic_queue_nums: config.default_topic_queue_nums,
            queue_id: mq.queue_id,
            sys_flag: self.sys_flag,
            born_timestamp,
            flag: self.flag,
            properties: self.properties.clone(),
            reconsume_times: self.reconsume.map(|(times, _)| times),
            unit_mode: Some(false),
            max_reconsume_times: self.reconsume.and_then(|(_, max)| max),
            batch: Some(self.batch),
            broker_name: Some(mq.broker_name.clone()),
        }
    }
}

/// The message's `UNIQ_KEY`, generated and set first unless it has one
/// (`MessageClientIDSetter.setUniqID`).
fn ensure_unique_key(msg: &mut Message, ids: &UniqueIdGenerator) -> String {
    msg.properties
        .entry(UNIQ_KEY.to_owned())
        .or_insert_with(|| ids.next_id())
        .clone()
}

#[cfg(test)]
#[path = "outgoing_test.rs"]
mod tests;
