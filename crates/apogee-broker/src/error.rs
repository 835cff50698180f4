//! Broker errors.

use thiserror::Error;

/// What can stop the broker or one of its operations.
#[derive(Debug, Error)]
pub enum BrokerError {
    /// A configuration value is invalid.
    #[error("invalid broker configuration {key} = {value}: {reason}")]
    Config {
        /// The RocketMQ key, e.g. `listenPort`.
        key: &'static str,
        /// The offending value.
        value: String,
        /// Why it is invalid.
        reason: &'static str,
    },
}
