//! Broker errors.

use std::path::PathBuf;

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
    /// A metadata file (topics, offsets, groups) cannot be read or written.
    #[error("cannot {op} {}: {reason}", path.display())]
    Metadata {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        reason: String,
    },
    /// The store failed to open or shut down.
    #[error(transparent)]
    Store(#[from] apogee_store::StoreError),
    /// A listener could not be bound.
    #[error(transparent)]
    Remoting(#[from] apogee_remoting::RemotingError),
}
