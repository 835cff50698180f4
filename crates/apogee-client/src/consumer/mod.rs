//! Consumers: [`PushConsumer`] (RocketMQ's `DefaultMQPushConsumer`, concurrent listeners)
//! and [`LitePullConsumer`] (`DefaultLitePullConsumer`, `poll`).
//!
//! # Layout
//! - Settings in [`config`]: [`PushConsumerConfig`], [`LitePullConsumerConfig`].
//! - The two consumers, in [`push`] and [`pull_lite`]; `push_engine`, `push_pull` and
//!   `lite_engine` are their running parts.
//! - The application's side, in [`listener`]: [`MessageListenerConcurrently`]; and in
//!   [`listener_orderly`]: [`MessageListenerOrderly`], consumed by `orderly` (per-queue
//!   sequential delivery) with broker locks from `orderly_lock`.
//! - Tag expressions to `SubscriptionData`, in [`subscription`].
//! - Queue allocation, in [`rebalance`]: [`AllocateStrategy`] (average, by circle).
//! - One queue's in-flight messages and safe commit offset, in [`process_queue`].
//! - Offsets on the broker (clustering) or in a local file (broadcasting), in
//!   [`offset_store`].
//! - Client-side tag check and body decompression of pulled messages, in [`decode`].
//! - The error type, in [`error`]: [`ConsumerError`].
//!
//! # Delivery
//! At least once. The committed offset of a queue never passes a message whose listener has
//! not succeeded, so after a restart or a rebalance the unacknowledged messages (and maybe a
//! few acknowledged ones whose commit had not reached the broker) are delivered again.
//! Send-back to `%RETRY%<group>` is not implemented yet: failed messages are redelivered
//! locally (see `push_pull`); orderly batches are suspended and retried in place.

pub mod config;
pub mod decode;
pub mod error;
mod group;
pub mod listener;
pub mod listener_orderly;
mod lite_engine;
pub mod offset_store;
mod orderly;
mod orderly_lock;
pub mod process_queue;
pub mod pull_lite;
pub mod push;
mod push_engine;
mod push_pull;
pub mod rebalance;
pub mod subscription;

pub use apogee_protocol::body::{ConsumeFromWhere, MessageModel};
pub use config::{LitePullConsumerConfig, PushConsumerConfig};
pub use error::ConsumerError;
pub use listener::{
    ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, MessageListenerConcurrently,
};
pub use listener_orderly::{ConsumeOrderlyContext, ConsumeOrderlyStatus, MessageListenerOrderly};
pub use orderly::ORDERLY_LOCK_RECHECK_DELAY;
pub use orderly_lock::{
    REBALANCE_LATER_WHEN_LOCK_FAILED, REBALANCE_LOCK_INTERVAL, REBALANCE_LOCK_MAX_LIVE_TIME,
    RELEASE_WAIT_FOR_CONSUME,
};
pub use process_queue::ProcessQueueStats;
pub use pull_lite::LitePullConsumer;
pub use push::PushConsumer;
pub use push_pull::PULL_DELAY_WHEN_FLOW_CONTROL;
pub use rebalance::AllocateStrategy;
