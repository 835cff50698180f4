//! [`PushConsumer`] (RocketMQ's `DefaultMQPushConsumer`): subscribe, register a listener,
//! start; the consumer pulls its share of the queues with long polling and calls the
//! listener, committing offsets as messages are acknowledged.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use apogee_protocol::body::{ConsumeType, MessageModel};
use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;
use tracing::{info, warn};

use super::config::PushConsumerConfig;
use super::error::ConsumerError;
use super::group::{GroupMember, Subscriptions, spawn_periodic};
use super::listener::{
    ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, MessageListenerConcurrently,
};
use super::listener_orderly::{
    ConsumeOrderlyContext, ConsumeOrderlyStatus, MessageListenerOrderly,
};
use super::offset_store::OffsetStore;
use super::orderly::ConsumeListener;
use super::process_queue::ProcessQueueStats;
use super::push_engine::PushEngine;
use super::subscription::build_subscription;
use crate::config::ClientConfig;
use crate::instance::ClientInstance;
use crate::message::{MessageExt, MessageQueue};

/// A push consumer. Configure it, [`subscribe`](Self::subscribe), register a listener, then
/// [`start`](Self::start); call [`shutdown`](Self::shutdown) before dropping it.
///
/// ```no_run
/// # async fn demo(instance: std::sync::Arc<apogee_client::ClientInstance>) -> Result<(), apogee_client::consumer::ConsumerError> {
/// use apogee_client::consumer::{ConsumeConcurrentlyStatus, PushConsumer, PushConsumerConfig};
///
/// let consumer = PushConsumer::new(instance, PushConsumerConfig::new("OrderGroup"));
/// consumer.subscribe("Orders", "TagA || TagB")?;
/// consumer.register_message_listener_fn(|messages, _context| {
///     for m in messages {
///         println!("{} {:?}", m.msg_id(), m.body);
///     }
///     ConsumeConcurrentlyStatus::ConsumeSuccess
/// });
/// consumer.start().await?;
/// // ...
/// consumer.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct PushConsumer {
    config: PushConsumerConfig,
    instance: Arc<ClientInstance>,
    /// Shut the instance down with the consumer (it was created for it).
    owns_instance: bool,
    subscriptions: Subscriptions,
    listener: Mutex<Option<ConsumeListener>>,
    rebalance_wake: Arc<Notify>,
    state: tokio::sync::Mutex<State>,
    /// The engine while running, for the synchronous accessors.
    engine: RwLock<Option<Arc<PushEngine>>>,
}

enum State {
    Created,
    Running(Arc<PushEngine>),
    ShutDown,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            Self::Created => "not started",
            Self::Running(_) => "running",
            Self::ShutDown => "shut down",
        }
    }
}

impl std::fmt::Debug for PushConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConsumer")
            .field("group", &self.config.consumer_group)
            .field("client_id", &self.instance.client_id())
            .finish_non_exhaustive()
    }
}

impl PushConsumer {
    /// A consumer sharing `instance` (which outlives it: shutting the consumer down leaves
    /// the instance running).
    #[must_use]
    pub fn new(instance: Arc<ClientInstance>, config: PushConsumerConfig) -> Self {
        Self {
            config,
            instance,
            owns_instance: false,
            subscriptions: Arc::new(RwLock::new(BTreeMap::new())),
            listener: Mutex::new(None),
            rebalance_wake: Arc::new(Notify::new()),
            state: tokio::sync::Mutex::new(State::Created),
            engine: RwLock::new(None),
        }
    }

    /// A consumer with its own [`ClientInstance`], shut down with it. Must be called inside
    /// a tokio runtime.
    #[must_use]
    pub fn with_client_config(client: ClientConfig, config: PushConsumerConfig) -> Self {
        let mut consumer = Self::new(ClientInstance::start(client), config);
        consumer.owns_instance = true;
        consumer
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &PushConsumerConfig {
        &self.config
    }

    /// The shared client instance.
    #[must_use]
    pub fn instance(&self) -> &Arc<ClientInstance> {
        &self.instance
    }

    /// Subscribes to `topic` with a tag expression (`*`, `TagA || TagB`), replacing an
    /// earlier subscription of the topic. On a running consumer the brokers learn it with
    /// the next heartbeat, sent at once, and the queues are reallocated.
    ///
    /// # Errors
    /// [`ConsumerError::InvalidExpression`], an invalid topic name.
    pub fn subscribe(&self, topic: &str, expression: &str) -> Result<(), ConsumerError> {
        let data = build_subscription(topic, expression)?;
        self.subscriptions.write().insert(topic.to_owned(), data);
        self.subscriptions_changed();
        Ok(())
    }

    /// Stops consuming `topic`.
    pub fn unsubscribe(&self, topic: &str) {
        self.subscriptions.write().remove(topic);
        self.subscriptions_changed();
    }

    /// Sets the listener (`registerMessageListener`), replacing any listener; must be done
    /// before `start`.
    pub fn register_message_listener(&self, listener: impl MessageListenerConcurrently) {
        *self.listener.lock() = Some(ConsumeListener::Concurrently(Arc::new(listener)));
    }

    /// Sets a closure as the listener; the closure's argument types are inferred.
    pub fn register_message_listener_fn<F>(&self, listener: F)
    where
        F: Fn(&[MessageExt], &mut ConsumeConcurrentlyContext) -> ConsumeConcurrentlyStatus
            + Send
            + Sync
            + 'static,
    {
        self.register_message_listener(listener);
    }

    /// Sets an orderly listener (`registerMessageListener(MessageListenerOrderly)`),
    /// replacing any listener; must be done before `start`. Each queue is then consumed in
    /// offset order, one batch at a time, and in clustering only while this client holds
    /// the queue's lock on its broker.
    pub fn register_message_listener_orderly(&self, listener: impl MessageListenerOrderly) {
        *self.listener.lock() = Some(ConsumeListener::Orderly(Arc::new(listener)));
    }

    /// Sets a closure as the orderly listener; the closure's argument types are inferred.
    pub fn register_message_listener_orderly_fn<F>(&self, listener: F)
    where
        F: Fn(&[MessageExt], &mut ConsumeOrderlyContext) -> ConsumeOrderlyStatus
            + Send
            + Sync
            + 'static,
    {
        self.register_message_listener_orderly(listener);
    }

    /// Starts consuming: validates the settings, fetches the subscribed topics' routes,
    /// joins the group with a heartbeat to every broker, allocates queues at once, then
    /// again every `rebalance_interval` and whenever the group's membership changes.
    ///
    /// # Errors
    /// [`ConsumerError::InvalidConfig`] (no listener, bad settings),
    /// [`ConsumerError::State`] if already started, offset-file errors (broadcasting).
    pub async fn start(&self) -> Result<(), ConsumerError> {
        let mut state = self.state.lock().await;
        if !matches!(*state, State::Created) {
            return Err(ConsumerError::State {
                expected: "not started",
                actual: state.name(),
            });
        }
        self.config.validate()?;
        let Some(listener) = self.listener.lock().clone() else {
            return Err(ConsumerError::InvalidConfig(
                "no message listener registered".to_owned(),
            ));
        };
        let group = &self.config.consumer_group;
        let store = match self.config.message_model {
            MessageModel::Clustering => OffsetStore::remote(self.instance.clone(), group),
            MessageModel::Broadcasting => OffsetStore::local(
                self.instance.clone(),
                group,
                self.config.offset_store_dir.as_deref(),
            )?,
        };
        let engine = Arc::new(PushEngine::new(
            self.config.clone(),
            self.instance.clone(),
            self.subscriptions.clone(),
            listener,
            store,
            self.rebalance_wake.clone(),
        ));
        let topics: Vec<String> = self.subscriptions.read().keys().cloned().collect();
        self.instance.register_consumer(
            group,
            Arc::new(GroupMember {
                group: group.clone(),
                consume_type: ConsumeType::ConsumePassively,
                message_model: self.config.message_model,
                consume_from_where: self.config.consume_from_where,
                subscriptions: self.subscriptions.clone(),
                rebalance: self.rebalance_wake.clone(),
            }),
        )?;
        for topic in &topics {
            if let Err(error) = self.instance.fetch_route(topic).await {
                warn!(%topic, %error, "no route yet; retried at each rebalance");
            }
        }
        self.instance.send_heartbeat_to_all_brokers().await;
        engine.rebalance().await;
        engine.spawn_lock_renewal();
        let worker = engine.clone();
        spawn_periodic(
            &engine.tracker,
            engine.cancel.clone(),
            Some(self.rebalance_wake.clone()),
            self.config.rebalance_interval,
            move || {
                let engine = worker.clone();
                async move { engine.rebalance().await }
            },
        );
        let worker = engine.clone();
        spawn_periodic(
            &engine.tracker,
            engine.cancel.clone(),
            None,
            self.config.persist_consumer_offset_interval,
            move || {
                let engine = worker.clone();
                async move {
                    if let Err(error) = engine.persist(true).await {
                        tracing::debug!(%error, "periodic offset commit failed");
                    }
                }
            },
        );
        info!(%group, client_id = %self.instance.client_id(), "push consumer started");
        *self.engine.write() = Some(engine.clone());
        *state = State::Running(engine);
        Ok(())
    }

    /// Stops pulling, waits for running listener calls, commits offsets synchronously and
    /// leaves the group. A consumer that was never started is just marked shut down.
    ///
    /// # Errors
    /// The first offset that could not be committed (everything else is still done).
    pub async fn shutdown(&self) -> Result<(), ConsumerError> {
        let mut state = self.state.lock().await;
        let previous = std::mem::replace(&mut *state, State::ShutDown);
        self.engine.write().take();
        let result = match previous {
            State::Running(engine) => engine.shutdown().await,
            State::Created | State::ShutDown => Ok(()),
        };
        if self.owns_instance {
            self.instance.shutdown().await;
        }
        result
    }

    /// The queues this consumer currently pulls, sorted.
    #[must_use]
    pub fn assigned_queues(&self) -> Vec<MessageQueue> {
        self.engine
            .read()
            .as_ref()
            .map(|e| e.assigned())
            .unwrap_or_default()
    }

    /// In-flight count, bytes and offsets of an assigned queue.
    #[must_use]
    pub fn process_queue_stats(&self, queue: &MessageQueue) -> Option<ProcessQueueStats> {
        let engine = self.engine.read().clone()?;
        let pq = engine.queues.lock().get(queue).cloned()?;
        Some(pq.stats())
    }

    /// The offset in memory (acknowledged, maybe not yet committed) of an assigned queue.
    #[must_use]
    pub fn current_offset(&self, queue: &MessageQueue) -> Option<i64> {
        self.engine.read().as_ref()?.store.read_memory(queue)
    }

    /// The local offset file of a started broadcasting consumer.
    #[must_use]
    pub fn offset_file(&self) -> Option<PathBuf> {
        self.engine.read().as_ref()?.store.file().map(PathBuf::from)
    }

    /// Commits the acknowledged offsets now, waiting for the brokers (or the file).
    ///
    /// # Errors
    /// The first offset that could not be committed.
    pub async fn persist_offsets(&self) -> Result<(), ConsumerError> {
        let engine = self.engine.read().clone();
        match engine {
            Some(engine) => engine.persist(false).await,
            None => Ok(()),
        }
    }

    fn subscriptions_changed(&self) {
        let Some(engine) = self.engine.read().clone() else {
            return;
        };
        let topics: Vec<String> = self.subscriptions.read().keys().cloned().collect();
        let wake = self.rebalance_wake.clone();
        let instance = self.instance.clone();
        engine.tracker.spawn(async move {
            for topic in &topics {
                if let Err(error) = instance.fetch_route(topic).await {
                    warn!(%topic, %error, "no route yet; retried at each rebalance");
                }
            }
            instance.send_heartbeat_to_all_brokers().await;
            wake.notify_one();
        });
    }
}

impl Drop for PushConsumer {
    fn drop(&mut self) {
        if let Some(engine) = self.engine.get_mut().take() {
            warn!(group = %self.config.consumer_group, "push consumer dropped without shutdown");
            engine.cancel.cancel();
        }
    }
}
