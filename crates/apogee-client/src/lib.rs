//! Apogee's Rust client SDK, speaking RocketMQ's remoting protocol to Apogee (or to any
//! RocketMQ 4.x/5.x broker and name server).
//!
//! # Layout
//! - [`instance`]: [`ClientInstance`], what all clients of a process share: connections,
//!   name servers, the route cache, heartbeats.
//! - [`broker_api`] and [`namesrv_api`]: typed requests to one broker or to the name servers.
//! - [`route`]: [`TopicRoute`], a topic's writable and readable queues and broker addresses.
//! - [`message`]: [`Message`] to send, [`MessageExt`] as received, [`MessageQueue`].
//! - [`producer`]: [`Producer`], sending with RocketMQ's `DefaultMQProducer` semantics.
//! - [`heartbeat`]: joining and leaving groups, and the heartbeat to every broker.
//! - [`members`]: the [`ConsumerMember`] trait consumers implement to join heartbeats.
//! - [`admin`]: [`Admin`], topic, cluster, consumer-progress and message-lookup
//!   administration.
//! - [`config`]: [`ClientConfig`], RocketMQ's client settings.
//! - [`consumer`]: [`PushConsumer`] and [`LitePullConsumer`].
//! - [`error`]: the [`ClientError`] type.
//!
//! # Place in the workspace
//! `apogee-protocol` ← `apogee-remoting` ← **`apogee-client`**. The SDK never depends on the
//! store or the broker; its tests start real ones over real sockets.
#![warn(missing_docs)]

pub mod admin;
pub mod broker_api;
pub mod config;
pub mod consumer;
pub mod error;
pub mod heartbeat;
pub mod instance;
pub mod members;
pub mod message;
pub mod namesrv_api;
pub mod producer;
pub mod route;

pub use admin::{Admin, AdminError, TopicSpec};
pub use broker_api::{PullResponse, PullStatus, SendResponse};
pub use config::ClientConfig;
pub use consumer::{
    ConsumeConcurrentlyStatus, ConsumerError, LitePullConsumer, LitePullConsumerConfig,
    PushConsumer, PushConsumerConfig,
};
pub use error::ClientError;
pub use instance::ClientInstance;
pub use members::ConsumerMember;
pub use message::{Message, MessageExt, MessageQueue};
pub use producer::{
    MessageQueueSelector, Producer, ProducerConfig, SelectMessageQueueByHash, SendResult,
    SendStatus,
};
pub use route::TopicRoute;
