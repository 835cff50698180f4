//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320) headers.
//!
//! The Java client sends the V2 form, whose keys are single letters to save bytes, unless
//! `org.apache.rocketmq.client.sendSmartMsg` is false. Both forms carry the same fields, so one
//! struct serves both: [`SendMessageRequestHeader::from_ext`] reads the long names and
//! [`SendMessageRequestHeader::from_ext_v2`] the letters. The broker picks the form by request
//! code ([`SendMessageRequestHeader::decode_for_code`]), as Java's `parseRequestHeader` does.

use super::{CommandHeader, ExtValue, put_opt, required};
use crate::remoting::codes::request;
use crate::remoting::{ExtFieldError, ExtFields};

/// The request header of a send (`SendMessageRequestHeader` / `SendMessageRequestHeaderV2`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendMessageRequestHeader {
    /// The producer group (`producerGroup`, V2 `a`). Required.
    pub producer_group: String,
    /// The destination topic (`topic`, V2 `b`). Required.
    pub topic: String,
    /// The template for auto-creating `topic`, normally `TBW102` (`defaultTopic`, V2 `c`).
    /// Required.
    pub default_topic: String,
    /// Queue count for an auto-created topic; the client default is 4
    /// (`defaultTopicQueueNums`, V2 `d`). Required.
    pub default_topic_queue_nums: i32,
    /// The target queue; negative asks the broker to pick one (`queueId`, V2 `e`). Required.
    pub queue_id: i32,
    /// The message sysflag (compression, transaction type, ...) (`sysFlag`, V2 `f`). Required.
    pub sys_flag: i32,
    /// When the producer created the message, in ms since the epoch (`bornTimestamp`, V2 `g`).
    /// Required.
    pub born_timestamp: i64,
    /// The user flag stored with the message (`flag`, V2 `h`). Required.
    pub flag: i32,
    /// The encoded message properties (`properties`, V2 `i`).
    pub properties: Option<String>,
    /// How often the message was consumed before; set on retries (`reconsumeTimes`, V2 `j`).
    pub reconsume_times: Option<i32>,
    /// Unit mode; 4.x Java always sends it, `false` by default (`unitMode`, V2 `k`).
    pub unit_mode: Option<bool>,
    /// Retries allowed before the dead-letter queue (`maxReconsumeTimes`, V2 `l`).
    pub max_reconsume_times: Option<i32>,
    /// Whether the body is a batch; 4.x Java always sends it (`batch`, V2 `m`).
    pub batch: Option<bool>,
    /// The broker the client addressed, 5.x only (`bname` in the long form, V2 `n`).
    pub broker_name: Option<String>,
}

/// The extFields key of every send field in one of the two forms.
struct SendKeys {
    producer_group: &'static str,
    topic: &'static str,
    default_topic: &'static str,
    default_topic_queue_nums: &'static str,
    queue_id: &'static str,
    sys_flag: &'static str,
    born_timestamp: &'static str,
    flag: &'static str,
    properties: &'static str,
    reconsume_times: &'static str,
    unit_mode: &'static str,
    max_reconsume_times: &'static str,
    batch: &'static str,
    broker_name: &'static str,
}

/// The long form (code 10). `bname` is the 5.x base-class key for the broker name.
const V1_KEYS: SendKeys = SendKeys {
    producer_group: "producerGroup",
    topic: "topic",
    default_topic: "defaultTopic",
    default_topic_queue_nums: "defaultTopicQueueNums",
    queue_id: "queueId",
    sys_flag: "sysFlag",
    born_timestamp: "bornTimestamp",
    flag: "flag",
    properties: "properties",
    reconsume_times: "reconsumeTimes",
    unit_mode: "unitMode",
    max_reconsume_times: "maxReconsumeTimes",
    batch: "batch",
    broker_name: "bname",
};

/// The letter form (codes 310 and 320), per `SendMessageRequestHeaderV2.createSendMessageRequestHeaderV1`.
const V2_KEYS: SendKeys = SendKeys {
    producer_group: "a",
    topic: "b",
    default_topic: "c",
    default_topic_queue_nums: "d",
    queue_id: "e",
    sys_flag: "f",
    born_timestamp: "g",
    flag: "h",
    properties: "i",
    reconsume_times: "j",
    unit_mode: "k",
    max_reconsume_times: "l",
    batch: "m",
    broker_name: "n",
};

impl SendMessageRequestHeader {
    /// Decodes the one-letter V2 form (keys `a`–`n`).
    ///
    /// # Errors
    /// As [`CommandHeader::from_ext`]; the error names the letter key.
    pub fn from_ext_v2(ext: &ExtFields) -> Result<Self, ExtFieldError> {
        Self::decode_with(ext, &V2_KEYS)
    }

    /// Encodes the one-letter V2 form (keys `a`–`n`), omitting `None` fields.
    #[must_use]
    pub fn to_ext_v2(&self) -> ExtFields {
        self.encode_with(&V2_KEYS)
    }

    /// Decodes the form the request `code` uses: V2 letters for SEND_MESSAGE_V2 (310) and
    /// SEND_BATCH_MESSAGE (320), long names otherwise, as Java's `parseRequestHeader`.
    ///
    /// # Errors
    /// As [`CommandHeader::from_ext`].
    pub fn decode_for_code(code: i32, ext: &ExtFields) -> Result<Self, ExtFieldError> {
        match code {
            request::SEND_MESSAGE_V2 | request::SEND_BATCH_MESSAGE => Self::from_ext_v2(ext),
            _ => Self::from_ext(ext),
        }
    }

    /// Whether the body is a batch (an absent `batch` means no).
    #[must_use]
    pub fn is_batch(&self) -> bool {
        self.batch.unwrap_or(false)
    }

    /// Whether unit mode is on (an absent `unitMode` means no).
    #[must_use]
    pub fn is_unit_mode(&self) -> bool {
        self.unit_mode.unwrap_or(false)
    }

    fn decode_with(ext: &ExtFields, k: &SendKeys) -> Result<Self, ExtFieldError> {
        Ok(Self {
            producer_group: required(ext, k.producer_group)?,
            topic: required(ext, k.topic)?,
            default_topic: required(ext, k.default_topic)?,
            default_topic_queue_nums: required(ext, k.default_topic_queue_nums)?,
            queue_id: required(ext, k.queue_id)?,
            sys_flag: required(ext, k.sys_flag)?,
            born_timestamp: required(ext, k.born_timestamp)?,
            flag: required(ext, k.flag)?,
            properties: ExtValue::read(ext, k.properties)?,
            reconsume_times: ExtValue::read(ext, k.reconsume_times)?,
            unit_mode: ExtValue::read(ext, k.unit_mode)?,
            max_reconsume_times: ExtValue::read(ext, k.max_reconsume_times)?,
            batch: ExtValue::read(ext, k.batch)?,
            broker_name: ExtValue::read(ext, k.broker_name)?,
        })
    }

    fn encode_with(&self, k: &SendKeys) -> ExtFields {
        let mut ext = ExtFields::new();
        ext.put(k.producer_group, &self.producer_group)
            .put(k.topic, &self.topic)
            .put(k.default_topic, &self.default_topic)
            .put(k.default_topic_queue_nums, self.default_topic_queue_nums)
            .put(k.queue_id, self.queue_id)
            .put(k.sys_flag, self.sys_flag)
            .put(k.born_timestamp, self.born_timestamp)
            .put(k.flag, self.flag);
        put_opt(&mut ext, k.properties, self.properties.as_ref());
        put_opt(&mut ext, k.reconsume_times, self.reconsume_times.as_ref());
        put_opt(&mut ext, k.unit_mode, self.unit_mode.as_ref());
        put_opt(
            &mut ext,
            k.max_reconsume_times,
            self.max_reconsume_times.as_ref(),
        );
        put_opt(&mut ext, k.batch, self.batch.as_ref());
        put_opt(&mut ext, k.broker_name, self.broker_name.as_ref());
        ext
    }
}

impl CommandHeader for SendMessageRequestHeader {
    fn from_ext(ext: &ExtFields) -> Result<Self, ExtFieldError> {
        Self::decode_with(ext, &V1_KEYS)
    }

    fn to_ext(&self) -> ExtFields {
        self.encode_with(&V1_KEYS)
    }
}

command_header! {
    /// The response header of a successful send (`SendMessageResponseHeader`).
    ///
    /// The broker also sets the response keys `MSG_REGION` and `TRACE_ON`, which are not part
    /// of this header; callers add them to the encoded map.
    pub struct SendMessageResponseHeader {
        /// The offset message id (store host + commit-log offset); comma-joined for a batch.
        required msg_id: String => "msgId",
        /// The queue the message went to.
        required queue_id: i32 => "queueId",
        /// The consume-queue (logical) offset of the message.
        required queue_offset: i64 => "queueOffset",
        /// The transaction id (the message's `UNIQ_KEY`).
        optional transaction_id: String => "transactionId",
        /// 5.x: the unique ids of a batch, comma-joined.
        optional batch_uniq_id: String => "batchUniqId",
        /// 5.x: the handle to recall a delayed message.
        optional recall_handle: String => "recallHandle",
    }
}

#[cfg(test)]
#[path = "send_test.rs"]
mod tests;
