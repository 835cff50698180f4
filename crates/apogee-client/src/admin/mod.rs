//! [`Admin`]: topic, cluster, consumer-progress and message-lookup administration, the subset
//! of RocketMQ's `DefaultMQAdminExt` that `mqadmin` users reach for first.
//!
//! Every operation goes through the name servers for routes and the cluster map, then to the
//! brokers with the ordinary requests a 4.x broker answers (no broker-side admin extensions),
//! so it works against Apogee and against RocketMQ brokers alike.
//!
//! # Layout
//! - [`topic`]: create, delete, list and describe topics ([`TopicSpec`], [`TopicStatus`]).
//! - [`cluster`]: the cluster map with each broker's role ([`ClusterView`]).
//! - [`progress`]: a consumer group's offsets and lag ([`ConsumerProgress`]).
//! - [`lookup`]: messages by key and by id.
//! - [`error`]: the [`AdminError`] type.

pub mod cluster;
pub mod error;
pub mod lookup;
pub mod progress;
pub mod topic;

use std::sync::Arc;

use crate::config::ClientConfig;
use crate::instance::ClientInstance;

pub use cluster::{BrokerEntry, ClusterEntry, ClusterView};
pub use error::AdminError;
pub use progress::{ConsumerProgress, QueueProgress};
pub use topic::{
    QueueStatus, TopicEntry, TopicKind, TopicQueueConfig, TopicSpec, TopicStatus, TopicTarget,
};

/// The admin client. Cheap to create over a shared [`ClientInstance`]; it adds no
/// background work of its own.
#[derive(Debug, Clone)]
pub struct Admin {
    instance: Arc<ClientInstance>,
}

impl Admin {
    /// An admin client over an existing instance.
    #[must_use]
    pub fn new(instance: Arc<ClientInstance>) -> Self {
        Self { instance }
    }

    /// An admin client with its own instance. Must be called inside a tokio runtime; call
    /// [`Admin::shutdown`] when done.
    #[must_use]
    pub fn start(config: ClientConfig) -> Self {
        Self::new(ClientInstance::start(config))
    }

    /// The instance requests go through.
    #[must_use]
    pub fn instance(&self) -> &Arc<ClientInstance> {
        &self.instance
    }

    /// Shuts the instance down (also for other users of a shared instance).
    pub async fn shutdown(&self) {
        self.instance.shutdown().await;
    }
}
