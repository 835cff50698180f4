//! Name-server configuration (RocketMQ `NamesrvConfig` and its listen port).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Configuration of one name server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NamesrvConfig {
    /// `listenPort`: the port clients and brokers connect to. Default 9876.
    pub listen_port: u16,
    /// `listenAddr`: the address to bind. Default `0.0.0.0`.
    pub listen_addr: String,
    /// `scanNotActiveBrokerInterval`: ms between expiry scans. Default 5000.
    pub scan_not_active_broker_interval: u64,
}

impl Default for NamesrvConfig {
    fn default() -> Self {
        Self {
            listen_port: 9876,
            listen_addr: "0.0.0.0".to_owned(),
            scan_not_active_broker_interval: 5_000,
        }
    }
}

impl NamesrvConfig {
    /// The expiry scan period.
    #[must_use]
    pub fn scan_interval(&self) -> Duration {
        Duration::from_millis(self.scan_not_active_broker_interval.max(100))
    }
}
