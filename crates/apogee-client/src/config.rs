//! Settings shared by every producer, consumer and admin client of one [`crate::ClientInstance`]
//! (RocketMQ's `ClientConfig`).

use std::time::Duration;

use apogee_remoting::{RemotingConfig, SerializeType};

/// The name-server address used when none is given: RocketMQ's default port on this host.
pub const DEFAULT_NAMESRV_ADDR: &str = "127.0.0.1:9876";

/// The environment variable RocketMQ tools read the name-server list from.
pub const NAMESRV_ADDR_ENV: &str = "NAMESRV_ADDR";

/// Client settings, named after RocketMQ's `ClientConfig` properties.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Name servers, any of which can answer (`namesrvAddr`, `;`-separated in RocketMQ).
    pub namesrv_addr: Vec<String>,
    /// Distinguishes clients in one process (`instanceName`, default `DEFAULT`); part of the
    /// client id.
    pub instance_name: String,
    /// The address other peers know this client by (`clientIP`); the first part of the
    /// client id. Default: `127.0.0.1`.
    pub client_ip: String,
    /// How often topic routes are refreshed from the name server
    /// (`pollNameServerInterval`, 30 s).
    pub poll_name_server_interval: Duration,
    /// How often every broker gets this client's heartbeat (`heartbeatBrokerInterval`, 30 s).
    pub heartbeat_broker_interval: Duration,
    /// How often consumers commit their offsets (`persistConsumerOffsetInterval`, 5 s).
    pub persist_consumer_offset_interval: Duration,
    /// Timeout of one request to a name server or broker (`mqClientApiTimeout`, 3 s).
    pub request_timeout: Duration,
    /// Header serialization of requests; JSON as the Java client's default.
    pub serialize_type: SerializeType,
    /// Transport limits and timeouts.
    pub remoting: RemotingConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            namesrv_addr: vec![DEFAULT_NAMESRV_ADDR.to_owned()],
            instance_name: "DEFAULT".to_owned(),
            client_ip: "127.0.0.1".to_owned(),
            poll_name_server_interval: Duration::from_secs(30),
            heartbeat_broker_interval: Duration::from_secs(30),
            persist_consumer_offset_interval: Duration::from_secs(5),
            request_timeout: Duration::from_secs(3),
            serialize_type: SerializeType::Json,
            remoting: RemotingConfig::default(),
        }
    }
}

impl ClientConfig {
    /// Settings for the given name servers (`;` or `,` separated, as RocketMQ accepts).
    #[must_use]
    pub fn with_namesrv(addrs: &str) -> Self {
        Self {
            namesrv_addr: parse_namesrv_list(addrs),
            ..Self::default()
        }
    }

    /// Settings whose name servers come from `NAMESRV_ADDR`, or [`DEFAULT_NAMESRV_ADDR`].
    #[must_use]
    pub fn from_env() -> Self {
        match std::env::var(NAMESRV_ADDR_ENV) {
            Ok(addrs) if !addrs.trim().is_empty() => Self::with_namesrv(&addrs),
            _ => Self::default(),
        }
    }

    /// The client id, `ip@instanceName`, as RocketMQ builds it (`buildMQClientId`).
    #[must_use]
    pub fn client_id(&self) -> String {
        format!("{}@{}", self.client_ip, self.instance_name)
    }
}

/// Splits a name-server list on `;` and `,`, dropping blanks.
#[must_use]
pub fn parse_namesrv_list(addrs: &str) -> Vec<String> {
    addrs
        .split([';', ','])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both separators, blanks dropped; the client id joins ip and instance.
    #[test]
    fn namesrv_list_and_client_id() {
        assert_eq!(
            parse_namesrv_list(" 127.0.0.1:9876; 127.0.0.2:9876,,"),
            vec!["127.0.0.1:9876", "127.0.0.2:9876"]
        );
        let config = ClientConfig {
            instance_name: "7".to_owned(),
            ..ClientConfig::with_namesrv("a:1")
        };
        assert_eq!(config.client_id(), "127.0.0.1@7");
        assert_eq!(config.namesrv_addr, vec!["a:1"]);
    }
}
