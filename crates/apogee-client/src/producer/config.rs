//! [`ProducerConfig`]: a producer's settings, named after RocketMQ's `DefaultMQProducer`
//! properties.

use std::time::Duration;

use apogee_protocol::names::AUTO_CREATE_TOPIC_TEMPLATE;

/// The producer group RocketMQ reserves for its own tools; applications may not use it.
pub const DEFAULT_PRODUCER_GROUP: &str = "DEFAULT_PRODUCER";

/// A producer's settings. Every field names the `DefaultMQProducer` property it mirrors and
/// its RocketMQ default, which [`ProducerConfig::new`] uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerConfig {
    /// The producer group (`producerGroup`); brokers ask a member of it to check
    /// transactional messages back.
    pub producer_group: String,
    /// The time budget of one send, all retries included (`sendMsgTimeout`, 3 s).
    pub send_msg_timeout: Duration,
    /// Extra attempts, each on another broker when there is one, after a sync send or a
    /// batch failed (`retryTimesWhenSendFailed`, 2).
    pub retry_times_when_send_failed: u32,
    /// Extra attempts after an async send failed (`retryTimesWhenSendAsyncFailed`, 2).
    pub retry_times_when_send_async_failed: u32,
    /// Whether a send that was stored but not flushed or replicated in time (a status other
    /// than `SEND_OK`) is sent again to another broker (`retryAnotherBrokerWhenNotStoreOK`,
    /// false).
    pub retry_another_broker_when_not_store_ok: bool,
    /// The largest body accepted, in bytes, before compression; for a batch, the largest
    /// encoded batch (`maxMessageSize`, 4 MiB).
    pub max_message_size: usize,
    /// Bodies of at least this many bytes are zlib-compressed (`compressMsgBodyOverHowmuch`,
    /// 4096). Batches are never compressed, as in RocketMQ.
    pub compress_msg_body_over_howmuch: usize,
    /// The zlib level, 0–9 (`compressLevel`, 5).
    pub compress_level: u32,
    /// The queue count asked for when the broker auto-creates a topic
    /// (`defaultTopicQueueNums`, 4).
    pub default_topic_queue_nums: i32,
    /// The template topic whose route is used, and named in every send, when a topic has
    /// no route yet, so that the broker creates it (`createTopicKey`, `TBW102`).
    pub create_topic_key: String,
    /// Whether brokers that answered slowly or failed are avoided for a while
    /// (`sendLatencyFaultEnable`, false). See [`crate::producer::fault::MqFaultStrategy`].
    pub send_latency_fault_enable: bool,
}

impl ProducerConfig {
    /// RocketMQ's defaults for the producer group `group`.
    #[must_use]
    pub fn new(group: impl Into<String>) -> Self {
        Self {
            producer_group: group.into(),
            send_msg_timeout: Duration::from_secs(3),
            retry_times_when_send_failed: 2,
            retry_times_when_send_async_failed: 2,
            retry_another_broker_when_not_store_ok: false,
            max_message_size: 4 * 1024 * 1024,
            compress_msg_body_over_howmuch: 4096,
            compress_level: 5,
            default_topic_queue_nums: 4,
            create_topic_key: AUTO_CREATE_TOPIC_TEMPLATE.to_owned(),
            send_latency_fault_enable: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults are RocketMQ's.
    #[test]
    fn defaults() {
        let c = ProducerConfig::new("pg");
        assert_eq!(c.producer_group, "pg");
        assert_eq!(c.send_msg_timeout, Duration::from_millis(3000));
        assert_eq!(c.retry_times_when_send_failed, 2);
        assert_eq!(c.retry_times_when_send_async_failed, 2);
        assert!(!c.retry_another_broker_when_not_store_ok);
        assert_eq!(c.max_message_size, 4_194_304);
        assert_eq!(c.compress_msg_body_over_howmuch, 4096);
        assert_eq!(c.default_topic_queue_nums, 4);
        assert_eq!(c.create_topic_key, "TBW102");
        assert!(!c.send_latency_fault_enable);
    }
}
