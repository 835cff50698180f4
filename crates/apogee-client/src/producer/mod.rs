//! The [`Producer`]: sends messages with RocketMQ's `DefaultMQProducer` semantics.
//!
//! ```no_run
//! # async fn demo() -> Result<(), apogee_client::ClientError> {
//! use apogee_client::producer::{Producer, ProducerConfig};
//! use apogee_client::{ClientConfig, ClientInstance, Message};
//!
//! let instance = ClientInstance::start(ClientConfig::with_namesrv("127.0.0.1:9876"));
//! let producer = Producer::new(ProducerConfig::new("orders-producer"), instance.clone())?;
//! producer.start().await?;
//! let sent = producer
//!     .send(Message::new("Orders", "hello").with_tags("created").with_keys(["order-1"]))
//!     .await?;
//! println!("{} {}", sent.send_status, sent.msg_id);
//! producer.shutdown().await;
//! instance.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//! - [`config`]: [`ProducerConfig`], the settings.
//! - [`send_result`]: [`SendResult`] and [`SendStatus`].
//! - [`fault`]: queue choice and latency-based broker avoidance ([`MqFaultStrategy`]).
//! - [`selector`]: [`MessageQueueSelector`] and [`SelectMessageQueueByHash`] for ordered sends.
//! - [`unique_id`]: the client-side message id (`UNIQ_KEY`).
//! - [`compression`]: zlib bodies and [`crate::MessageExt::decompressed_body`].

pub mod compression;
pub mod config;
mod dispatch;
pub mod fault;
mod kernel;
mod outgoing;
mod publish;
pub mod selector;
pub mod send_result;
pub mod unique_id;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use apogee_protocol::names;

pub use config::{DEFAULT_PRODUCER_GROUP, ProducerConfig};
pub use fault::{Clock, ManualClock, MqFaultStrategy, SystemClock};
pub use outgoing::{check_message, check_topic};
pub use selector::{MessageQueueSelector, SelectMessageQueueByHash, SelectMessageQueueByRandom};
pub use send_result::{SendResult, SendStatus};

use dispatch::{CREATED, Inner, RUNNING, SHUT_DOWN};
use outgoing::Outgoing;
use publish::PublishTable;
use unique_id::UniqueIdGenerator;

use crate::config::ClientConfig;
use crate::error::ClientError;
use crate::instance::ClientInstance;
use crate::message::{Message, MessageQueue};

/// Sends messages to a topic's queues, retrying on other brokers (RocketMQ's
/// `DefaultMQProducer`). Cheap to clone: clones share one producer.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("group", &self.inner.config.producer_group)
            .field("client_id", &self.inner.instance.client_id())
            .finish_non_exhaustive()
    }
}

impl Producer {
    /// A producer of `config.producer_group` on a shared `instance`, which the caller shuts
    /// down. Call [`Producer::start`] before sending.
    ///
    /// # Errors
    /// [`ClientError::InvalidName`] for a bad group name, [`ClientError::InvalidArgument`]
    /// for the reserved `DEFAULT_PRODUCER` group.
    pub fn new(config: ProducerConfig, instance: Arc<ClientInstance>) -> Result<Self, ClientError> {
        Self::build(config, instance, false)
    }

    /// A producer with an instance of its own, made from `client` and shut down with the
    /// producer. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// As [`Producer::new`].
    pub fn with_client_config(
        config: ProducerConfig,
        client: ClientConfig,
    ) -> Result<Self, ClientError> {
        Self::check_group(&config.producer_group)?;
        Self::build(config, ClientInstance::start(client), true)
    }

    fn check_group(group: &str) -> Result<(), ClientError> {
        names::validate_group(group)?;
        if group == DEFAULT_PRODUCER_GROUP {
            return Err(ClientError::InvalidArgument(format!(
                "producer group {DEFAULT_PRODUCER_GROUP} is reserved; choose another one"
            )));
        }
        Ok(())
    }

    fn build(
        config: ProducerConfig,
        instance: Arc<ClientInstance>,
        owns_instance: bool,
    ) -> Result<Self, ClientError> {
        Self::check_group(&config.producer_group)?;
        let inner = Inner {
            fault: MqFaultStrategy::new(config.send_latency_fault_enable),
            ids: UniqueIdGenerator::new(&instance.config().client_ip),
            publish: PublishTable::default(),
            state: AtomicU8::new(CREATED),
            config,
            instance,
            owns_instance,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &ProducerConfig {
        &self.inner.config
    }

    /// The client instance sends go through.
    #[must_use]
    pub fn instance(&self) -> &Arc<ClientInstance> {
        &self.inner.instance
    }

    /// The queue chooser and its broker latency record.
    #[must_use]
    pub fn fault_strategy(&self) -> &MqFaultStrategy {
        &self.inner.fault
    }

    /// Registers the group with the instance and sends a heartbeat to every broker known.
    ///
    /// # Errors
    /// [`ClientError::InvalidArgument`] if this producer was started before or another
    /// producer of the group is registered on the instance; [`ClientError::ShutDown`].
    pub async fn start(&self) -> Result<(), ClientError> {
        let group = &self.inner.config.producer_group;
        let registered = self
            .inner
            .instance
            .heartbeat_data()
            .producer_data_set
            .iter()
            .any(|p| &p.group_name == group);
        if registered {
            return Err(ClientError::InvalidArgument(format!(
                "a producer of group {group} is already started on this client instance"
            )));
        }
        match self.inner.state.compare_exchange(
            CREATED,
            RUNNING,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {}
            Err(SHUT_DOWN) => return Err(ClientError::ShutDown),
            Err(_) => {
                return Err(ClientError::InvalidArgument(format!(
                    "producer {group} is already started"
                )));
            }
        }
        self.inner.instance.register_producer(group);
        self.inner.instance.send_heartbeat_to_all_brokers().await;
        Ok(())
    }

    /// Unregisters the group from every broker; with an instance of its own, shuts that
    /// down too. Later sends fail with [`ClientError::ShutDown`].
    pub async fn shutdown(&self) {
        let was = self.inner.state.swap(SHUT_DOWN, Ordering::AcqRel);
        if was == RUNNING {
            let group = &self.inner.config.producer_group;
            self.inner.instance.unregister_producer(group).await;
        }
        if was != SHUT_DOWN && self.inner.owns_instance {
            self.inner.instance.shutdown().await;
        }
    }

    /// Sends `msg` and waits for the broker to store it, retrying retriable failures up to
    /// `retryTimesWhenSendFailed` times on other brokers, within `sendMsgTimeout`.
    ///
    /// # Errors
    /// Invalid messages ([`ClientError::InvalidName`], [`ClientError::InvalidArgument`]),
    /// no route ([`ClientError::TopicNotExist`]), a refusal that retrying cannot help
    /// ([`ClientError::Refused`]), or [`ClientError::SendFailed`] after the last attempt.
    pub async fn send(&self, msg: Message) -> Result<SendResult, ClientError> {
        let out = Outgoing::single(msg, &self.inner.config, &self.inner.ids)?;
        let retries = self.inner.config.retry_times_when_send_failed;
        self.inner.send_default(out, retries).await
    }

    /// The send as a `'static` future to await or spawn, retrying up to
    /// `retryTimesWhenSendAsyncFailed` times (RocketMQ's async send).
    ///
    /// # Errors
    /// As [`Producer::send`].
    pub fn send_async(
        &self,
        msg: Message,
    ) -> impl Future<Output = Result<SendResult, ClientError>> + Send + 'static {
        let inner = self.inner.clone();
        async move {
            let out = Outgoing::single(msg, &inner.config, &inner.ids)?;
            let retries = inner.config.retry_times_when_send_async_failed;
            inner.send_default(out, retries).await
        }
    }

    /// Sends in the background and calls `callback` with the outcome (RocketMQ's
    /// `send(msg, SendCallback)`). The task belongs to the instance, whose shutdown waits
    /// for it. Must be called inside a tokio runtime.
    pub fn send_with_callback<F>(&self, msg: Message, callback: F)
    where
        F: FnOnce(Result<SendResult, ClientError>) + Send + 'static,
    {
        let send = self.send_async(msg);
        self.inner
            .instance
            .spawn(async move { callback(send.await) });
    }

    /// Sends once without waiting for the broker's answer: no result, no retries.
    ///
    /// # Errors
    /// Invalid messages, no route, or a message that could not be written.
    pub async fn send_oneway(&self, msg: Message) -> Result<(), ClientError> {
        let out = Outgoing::single(msg, &self.inner.config, &self.inner.ids)?;
        self.inner.send_oneway(out).await
    }

    /// Sends messages of one topic as one SEND_BATCH_MESSAGE, stored as separate messages
    /// in one queue, each with its own `UNIQ_KEY`; the result's `msg_id` joins them with
    /// `,`. Retries as [`Producer::send`].
    ///
    /// # Errors
    /// As [`Producer::send`], and [`ClientError::InvalidArgument`] for an empty batch,
    /// mixed topics, delayed or retry-topic messages, or a batch over `maxMessageSize`.
    pub async fn send_batch(&self, msgs: Vec<Message>) -> Result<SendResult, ClientError> {
        let out = Outgoing::batch(msgs, &self.inner.config, &self.inner.ids)?;
        let retries = self.inner.config.retry_times_when_send_failed;
        self.inner.send_default(out, retries).await
    }

    /// Sends `msg` to queue `mq`, once (no retries), within `sendMsgTimeout`.
    ///
    /// # Errors
    /// As [`Producer::send`], and [`ClientError::InvalidArgument`] when `mq` is of another
    /// topic; failures are not wrapped in [`ClientError::SendFailed`].
    pub async fn send_to_queue(
        &self,
        msg: Message,
        mq: &MessageQueue,
    ) -> Result<SendResult, ClientError> {
        let out = Outgoing::single(msg, &self.inner.config, &self.inner.ids)?;
        self.inner.send_to_queue(out, mq).await
    }

    /// Sends `msg` to the queue `selector` picks from the topic's writable queues given
    /// `arg`, once (RocketMQ's `send(msg, selector, arg)`); with
    /// [`SelectMessageQueueByHash`] and an order id, one order's messages stay in order.
    ///
    /// # Errors
    /// As [`Producer::send_to_queue`], and [`ClientError::InvalidArgument`] when the
    /// selector picks no queue.
    pub async fn send_with_selector<A, S>(
        &self,
        msg: Message,
        selector: &S,
        arg: &A,
    ) -> Result<SendResult, ClientError>
    where
        A: ?Sized,
        S: MessageQueueSelector<A> + ?Sized,
    {
        self.inner.ensure_running()?;
        check_message(&msg, self.inner.config.max_message_size)?;
        let route = self.inner.publish_queues(&msg.topic).await?;
        let Some(mq) = selector.select(&route.write_queues, &msg, arg) else {
            return Err(ClientError::InvalidArgument(format!(
                "the queue selector chose no queue of topic {}",
                msg.topic
            )));
        };
        self.send_to_queue(msg, &mq).await
    }

    /// The queues sends of `topic` choose from (RocketMQ's `fetchPublishMessageQueues`),
    /// fetching the route if needed.
    ///
    /// # Errors
    /// [`ClientError::TopicNotExist`] and name-server errors.
    pub async fn publish_queues(&self, topic: &str) -> Result<Vec<MessageQueue>, ClientError> {
        Ok(self.inner.publish_queues(topic).await?.write_queues.clone())
    }
}
