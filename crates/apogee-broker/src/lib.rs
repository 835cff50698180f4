//! Apogee's RocketMQ-compatible broker: it serves producers and consumers over the remoting
//! protocol from an [`apogee_store::MessageStore`].
//!
//! # Layout
//! - [`config`]: [`BrokerConfig`], RocketMQ's broker keys (`brokerName`, `listenPort`,
//!   `brokerRole`, ...) with their defaults, and [`BrokerRole`].
//! - [`broker`]: [`Broker`], the running broker: listeners, registration, periodic work.
//! - [`context`]: [`BrokerContext`], the state every processor shares.
//! - [`processor`]: [`BrokerProcessor`], request dispatch and one file per request family.
//! - [`topic_config`]: the broker's topics, persisted.
//! - [`client_registry`]: connected producers and consumers.
//! - [`queue_lock`]: queue locks of orderly consumers.
//! - [`response_code`]: failures as RocketMQ response codes.
//! - [`consumer_offset`]: committed consumer offsets, persisted.
//! - [`json_file`]: durable JSON metadata files.
//! - [`error`]: the [`BrokerError`] type.
//!
//! # Place in the workspace
//! `apogee-protocol` ← `apogee-store`, `apogee-remoting` ← **`apogee-broker`** ← `apogee`.
#![warn(missing_docs)]

pub mod broker;
pub mod client_registry;
pub mod config;
pub mod consumer_offset;
pub mod context;
pub mod error;
pub mod json_file;
pub mod processor;
pub mod queue_lock;
pub mod response_code;
pub mod topic_config;

pub use broker::Broker;
pub use config::{BrokerConfig, BrokerRole};
pub use context::BrokerContext;
pub use error::BrokerError;
pub use processor::BrokerProcessor;
