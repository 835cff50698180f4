//! Apogee's RocketMQ-compatible broker: it serves producers and consumers over the remoting
//! protocol from an [`apogee_store::MessageStore`].
//!
//! # Layout
//! - [`config`]: [`BrokerConfig`], RocketMQ's broker keys (`brokerName`, `listenPort`,
//!   `brokerRole`, ...) with their defaults, and [`BrokerRole`].
//! - [`consumer_offset`]: committed consumer offsets, persisted.
//! - [`json_file`]: durable JSON metadata files.
//! - [`error`]: the [`BrokerError`] type.
//!
//! # Place in the workspace
//! `apogee-protocol` ← `apogee-store`, `apogee-remoting` ← **`apogee-broker`** ← `apogee`.
#![warn(missing_docs)]

pub mod config;
pub mod consumer_offset;
pub mod error;
pub mod json_file;

pub use config::{BrokerConfig, BrokerRole};
pub use error::BrokerError;
