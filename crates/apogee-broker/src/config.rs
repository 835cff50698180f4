//! Broker configuration with RocketMQ's key names and defaults (`BrokerConfig`,
//! `NettyServerConfig` and the role/flush keys users set in `broker.conf`).
//!
//! Store keys (`flushDiskType`, `maxMessageSize`, ...) live in
//! [`apogee_store::StoreConfig`]; a configuration file mixes both, and the binary splits it.

use serde::{Deserialize, Serialize};

use crate::error::BrokerError;

/// A broker's replication role (RocketMQ `brokerRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BrokerRole {
    /// Master that acknowledges once its own store has the message.
    #[serde(rename = "ASYNC_MASTER")]
    AsyncMaster,
    /// Master that acknowledges once a slave has the message too (`FLUSH_SLAVE_TIMEOUT`).
    #[serde(rename = "SYNC_MASTER")]
    SyncMaster,
    /// Read-only replica of a master.
    #[serde(rename = "SLAVE")]
    Slave,
}

/// Configuration of one broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct BrokerConfig {
    /// `brokerClusterName`: the cluster this broker belongs to. Default `DefaultCluster`.
    pub broker_cluster_name: String,
    /// `brokerName`: the master/slave set's name, shared by its master and slaves.
    /// Default `broker-a`.
    pub broker_name: String,
    /// `brokerId`: 0 for the master, > 0 for slaves. Default 0.
    pub broker_id: u64,
    /// `brokerRole`: ASYNC_MASTER, SYNC_MASTER or SLAVE. Default ASYNC_MASTER.
    pub broker_role: BrokerRole,
    /// `namesrvAddr`: name servers, `;`-separated `host:port`. Default none (the embedded one
    /// in `apogee serve`).
    pub namesrv_addr: Option<String>,
    /// `brokerIP1`: the address clients reach this broker at. Default `127.0.0.1`.
    #[serde(rename = "brokerIP1")]
    pub broker_ip1: String,
    /// `listenPort`: the remoting port; the fast ("VIP") port is `listenPort - 2`.
    /// Default 10911.
    pub listen_port: u16,
    /// `autoCreateTopicEnable`: create unknown topics on first send (development).
    /// Default true.
    pub auto_create_topic_enable: bool,
    /// `autoCreateSubscriptionGroup`: create unknown consumer groups on first use.
    /// Default true.
    pub auto_create_subscription_group: bool,
    /// `defaultTopicQueueNums`: queues of an auto-created topic. Default 8.
    pub default_topic_queue_nums: u32,
    /// `brokerPermission`: PermName bits of the broker (6 = read and write). Default 6.
    pub broker_permission: u32,
    /// `registerNameServerPeriod`: ms between registrations with the name servers, clamped to
    /// 10–60 s. Default 30000.
    pub register_name_server_period: u64,
    /// `channelExpiredTimeout`: ms after which a silent client is dropped. Default 120000.
    pub channel_expired_timeout: u64,
    /// `longPollingEnable`: hold pulls that find nothing until a message arrives.
    /// Default true.
    pub long_polling_enable: bool,
    /// `shortPollingTimeMills`: how long a pull is held without long polling. Default 1000.
    pub short_polling_time_mills: u64,
    /// `flushConsumerOffsetInterval`: ms between writes of consumer offsets. Default 5000.
    pub flush_consumer_offset_interval: u64,
    /// `transactionTimeOut`: ms before a half message may be checked back. Default 6000.
    pub transaction_time_out: u64,
    /// `transactionCheckMax`: check-backs before a half message is parked. Default 15.
    pub transaction_check_max: u32,
    /// `transactionCheckInterval`: ms between check-back scans. Default 60000.
    pub transaction_check_interval: u64,
    /// `frameMaxLength`: largest remoting frame accepted, in bytes, its 4-byte length prefix
    /// included (RocketMQ's system property `com.rocketmq.remoting.frameMaxLength`). A
    /// connection announcing a longer frame is closed before its body is read. At least
    /// 1024. Default 16777216 (16 MiB).
    pub frame_max_length: usize,
    /// `serverWriteTimeoutMillis` (Apogee's own key): how long a response may wait for room in
    /// its connection's write queue; a client that stops reading its responses is
    /// disconnected after this. At least 1. Default 30000.
    pub server_write_timeout_millis: u64,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            broker_cluster_name: "DefaultCluster".to_owned(),
            broker_name: "broker-a".to_owned(),
            broker_id: 0,
            broker_role: BrokerRole::AsyncMaster,
            namesrv_addr: None,
            broker_ip1: "127.0.0.1".to_owned(),
            listen_port: 10911,
            auto_create_topic_enable: true,
            auto_create_subscription_group: true,
            default_topic_queue_nums: 8,
            broker_permission: 6,
            register_name_server_period: 30_000,
            channel_expired_timeout: 120_000,
            long_polling_enable: true,
            short_polling_time_mills: 1_000,
            flush_consumer_offset_interval: 5_000,
            transaction_time_out: 6_000,
            transaction_check_max: 15,
            transaction_check_interval: 60_000,
            frame_max_length: apogee_protocol::remoting::FRAME_BYTES_MAX_DEFAULT,
            server_write_timeout_millis: 30_000,
        }
    }
}

/// Smallest `frameMaxLength` accepted: room for the headers of any request.
const FRAME_MAX_LENGTH_MIN: usize = 1024;

fn bad(key: &'static str, value: impl ToString, reason: &'static str) -> BrokerError {
    BrokerError::Config {
        key,
        value: value.to_string(),
        reason,
    }
}

impl BrokerConfig {
    /// Checks values and their relationships.
    ///
    /// # Errors
    /// [`BrokerError::Config`] naming the first bad key.
    pub fn validate(&self) -> Result<(), BrokerError> {
        if self.listen_port < 3 {
            return Err(bad(
                "listenPort",
                self.listen_port,
                "must be at least 3 (the fast port is listenPort - 2)",
            ));
        }
        let slave = self.broker_role == BrokerRole::Slave;
        if slave != (self.broker_id != 0) {
            return Err(bad(
                "brokerId",
                self.broker_id,
                "must be 0 for a master (ASYNC_MASTER/SYNC_MASTER) and above 0 for a SLAVE",
            ));
        }
        if self.default_topic_queue_nums == 0 || self.default_topic_queue_nums > 1024 {
            return Err(bad(
                "defaultTopicQueueNums",
                self.default_topic_queue_nums,
                "must be between 1 and 1024",
            ));
        }
        if apogee_protocol::names::validate_group(&self.broker_name).is_err() {
            return Err(bad(
                "brokerName",
                &self.broker_name,
                "must be letters, digits, '%', '|', '_' or '-'",
            ));
        }
        if self.broker_ip1.parse::<std::net::IpAddr>().is_err() {
            return Err(bad("brokerIP1", &self.broker_ip1, "must be an IP address"));
        }
        if !(FRAME_MAX_LENGTH_MIN..=i32::MAX as usize).contains(&self.frame_max_length) {
            return Err(bad(
                "frameMaxLength",
                self.frame_max_length,
                "must be between 1024 and 2147483647 bytes",
            ));
        }
        if self.server_write_timeout_millis == 0 {
            return Err(bad(
                "serverWriteTimeoutMillis",
                self.server_write_timeout_millis,
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// The transport limits of the broker's listeners: RocketMQ's defaults with
    /// `frameMaxLength` and `serverWriteTimeoutMillis` applied.
    #[must_use]
    pub fn remoting_config(&self) -> apogee_remoting::RemotingConfig {
        apogee_remoting::RemotingConfig {
            frame_bytes_max: self.frame_max_length,
            write_timeout: std::time::Duration::from_millis(self.server_write_timeout_millis),
            ..apogee_remoting::RemotingConfig::default()
        }
    }

    /// The fast ("VIP") channel port, `listenPort - 2`, that old Java clients use by default.
    #[must_use]
    pub fn fast_listen_port(&self) -> u16 {
        self.listen_port.saturating_sub(2)
    }

    /// `registerNameServerPeriod` clamped to 10–60 s, as RocketMQ does.
    #[must_use]
    pub fn register_period(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.register_name_server_period.clamp(10_000, 60_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defaults are RocketMQ's and valid; role and id must agree.
    #[test]
    fn defaults_and_validation() {
        let config = BrokerConfig::default();
        config.validate().expect("defaults valid");
        assert_eq!(config.fast_listen_port(), 10909);
        let slave_as_zero = BrokerConfig {
            broker_role: BrokerRole::Slave,
            ..BrokerConfig::default()
        };
        assert!(matches!(
            slave_as_zero.validate(),
            Err(BrokerError::Config {
                key: "brokerId",
                ..
            })
        ));
        let json = serde_json::json!({"brokerRole": "SYNC_MASTER", "listenPort": 20911});
        let parsed: BrokerConfig = serde_json::from_value(json).expect("parses");
        assert_eq!(parsed.broker_role, BrokerRole::SyncMaster);
        assert_eq!(parsed.listen_port, 20911);
        assert!(
            serde_json::from_value::<BrokerConfig>(serde_json::json!({"listenPrt": 1})).is_err()
        );
    }

    /// The transport keys reach the listeners' limits and are checked.
    #[test]
    fn remoting_keys() {
        let json = serde_json::json!({"frameMaxLength": 4096, "serverWriteTimeoutMillis": 250});
        let parsed: BrokerConfig = serde_json::from_value(json).expect("parses");
        parsed.validate().expect("valid");
        let remoting = parsed.remoting_config();
        assert_eq!(remoting.frame_bytes_max, 4096);
        assert_eq!(
            remoting.write_timeout,
            std::time::Duration::from_millis(250)
        );
        assert_eq!(
            BrokerConfig::default().remoting_config().frame_bytes_max,
            16 << 20
        );
        for (key, config) in [
            (
                "frameMaxLength",
                BrokerConfig {
                    frame_max_length: 1023,
                    ..BrokerConfig::default()
                },
            ),
            (
                "serverWriteTimeoutMillis",
                BrokerConfig {
                    server_write_timeout_millis: 0,
                    ..BrokerConfig::default()
                },
            ),
        ] {
            assert!(
                matches!(config.validate(), Err(BrokerError::Config { key: k, .. }) if k == key),
                "{key}"
            );
        }
    }
}
