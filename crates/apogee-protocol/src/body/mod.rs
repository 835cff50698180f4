//! Typed RocketMQ JSON bodies, with field names in Java's camelCase.
//!
//! We write what Java writes (enum names, standard JSON with quoted keys) and read what Java's
//! fastjson-based decoder reads: unquoted integer map keys ([`json::quote_integer_keys`]),
//! enums by name or ordinal, numbers and booleans given as strings, missing fields with Java's
//! defaults, and unknown fields ignored. Java `Set`s are `Vec`s here, kept in wire order.
//!
//! # Layout
//! - [`json`]: [`encode`], [`decode`] and [`BodyError`].
//! - [`route`]: [`TopicRouteData`], [`QueueData`], [`BrokerData`], [`ClusterInfo`].
//! - [`register`]: [`RegisterBrokerBody`], [`TopicConfig`], [`DataVersion`], [`KvTable`].
//! - [`heartbeat`]: [`HeartbeatData`] with its producer, consumer and subscription data, and
//!   the [`ConsumeType`], [`MessageModel`] and [`ConsumeFromWhere`] enums.
//! - [`consumer`]: [`ConsumerListBody`], queue-lock bodies, [`MessageQueue`],
//!   [`ConsumerOffsetTable`].

pub(crate) mod java_enum;
mod lenient;

pub mod consumer;
pub mod heartbeat;
pub mod json;
pub mod register;
pub mod route;

pub use consumer::{
    ConsumerListBody, ConsumerOffsetTable, LockBatchRequestBody, LockBatchResponseBody,
    MessageQueue, UnlockBatchRequestBody,
};
pub use heartbeat::{
    ConsumeFromWhere, ConsumeType, ConsumerData, HeartbeatData, MessageModel, ProducerData,
    SubscriptionData,
};
pub use json::{BodyError, decode, encode};
pub use register::{
    DataVersion, KvTable, RegisterBrokerBody, TopicConfig, TopicConfigSerializeWrapper,
};
pub use route::{BrokerData, ClusterInfo, QueueData, TopicList, TopicRouteData};
