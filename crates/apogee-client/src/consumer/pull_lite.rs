//! [`LitePullConsumer`] (RocketMQ's `DefaultLitePullConsumer`): `subscribe` (queues
//! allocated among the group, like the push consumer) or `assign` (queues chosen by the
//! application), then `poll` batches that background pull tasks buffer; offsets are
//! committed automatically every `auto_commit_interval`, or by `commit`/`commit_sync`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use apogee_protocol::body::{ConsumeType, MessageModel};
use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;
use tracing::{info, warn};

use super::config::LitePullConsumerConfig;
use super::error::ConsumerError;
use super::group::{GroupMember, Subscriptions, allocate, spawn_periodic};
use super::lite_engine::LiteEngine;
use super::offset_store::{OffsetStore, broker_addr};
use super::subscription::build_subscription;
use crate::config::ClientConfig;
use crate::instance::ClientInstance;
use crate::message::{MessageExt, MessageQueue};

/// How the consumer's queues are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Unset,
    Subscribe,
    Assign(BTreeSet<MessageQueue>),
}

/// A lite pull consumer.
///
/// ```no_run
/// # async fn demo(instance: std::sync::Arc<apogee_client::ClientInstance>) -> Result<(), apogee_client::consumer::ConsumerError> {
/// use std::time::Duration;
/// use apogee_client::consumer::{LitePullConsumer, LitePullConsumerConfig};
///
/// let consumer = LitePullConsumer::new(instance, LitePullConsumerConfig::new("Reports"));
/// consumer.subscribe("Orders", "*")?;
/// consumer.start().await?;
/// let batch = consumer.poll(Duration::from_secs(1)).await?;
/// consumer.commit_sync().await?;
/// consumer.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct LitePullConsumer {
    config: LitePullConsumerConfig,
    instance: Arc<ClientInstance>,
    owns_instance: bool,
    /// What heartbeats carry (subscribe mode only).
    subscriptions: Subscriptions,
    /// The tag filter of every topic pulled.
    filters: Subscriptions,
    mode: Mutex<Mode>,
    rebalance_wake: Arc<Notify>,
    state: tokio::sync::Mutex<Option<Arc<LiteEngine>>>,
    shut_down: std::sync::atomic::AtomicBool,
    engine: RwLock<Option<Arc<LiteEngine>>>,
}

impl std::fmt::Debug for LitePullConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LitePullConsumer")
            .field("group", &self.config.consumer_group)
            .field("client_id", &self.instance.client_id())
            .finish_non_exhaustive()
    }
}

impl LitePullConsumer {
    /// A consumer sharing `instance`, which outlives it.
    #[must_use]
    pub fn new(instance: Arc<ClientInstance>, config: LitePullConsumerConfig) -> Self {
        Self {
            config,
            instance,
            owns_instance: false,
            subscriptions: Arc::new(RwLock::new(BTreeMap::new())),
            filters: Arc::new(RwLock::new(BTreeMap::new())),
            mode: Mutex::new(Mode::Unset),
            rebalance_wake: Arc::new(Notify::new()),
            state: tokio::sync::Mutex::new(None),
            shut_down: std::sync::atomic::AtomicBool::new(false),
            engine: RwLock::new(None),
        }
    }

    /// A consumer with its own [`ClientInstance`], shut down with it. Must be called inside
    /// a tokio runtime.
    #[must_use]
    pub fn with_client_config(client: ClientConfig, config: LitePullConsumerConfig) -> Self {
        let mut consumer = Self::new(ClientInstance::start(client), config);
        consumer.owns_instance = true;
        consumer
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &LitePullConsumerConfig {
        &self.config
    }

    /// Subscribes to `topic` with a tag expression; the group's members share its queues.
    ///
    /// # Errors
    /// [`ConsumerError::MixedSubscribeAndAssign`] after `assign`, bad expressions or names.
    pub fn subscribe(&self, topic: &str, expression: &str) -> Result<(), ConsumerError> {
        let data = build_subscription(topic, expression)?;
        {
            let mut mode = self.mode.lock();
            if matches!(*mode, Mode::Assign(_)) {
                return Err(ConsumerError::MixedSubscribeAndAssign);
            }
            *mode = Mode::Subscribe;
        }
        self.subscriptions
            .write()
            .insert(topic.to_owned(), data.clone());
        self.filters.write().insert(topic.to_owned(), data);
        if let Some(engine) = self.engine.read().clone() {
            let instance = self.instance.clone();
            let wake = self.rebalance_wake.clone();
            let topic = topic.to_owned();
            engine.tracker.spawn(async move {
                if let Err(error) = instance.fetch_route(&topic).await {
                    warn!(%topic, %error, "no route yet; retried at each rebalance");
                }
                instance.send_heartbeat_to_all_brokers().await;
                wake.notify_one();
            });
        }
        Ok(())
    }

    /// Consumes exactly `queues` (every tag), replacing an earlier assignment; no rebalance.
    ///
    /// # Errors
    /// [`ConsumerError::MixedSubscribeAndAssign`] after `subscribe`; invalid topic names.
    pub fn assign(&self, queues: Vec<MessageQueue>) -> Result<(), ConsumerError> {
        let target: BTreeSet<MessageQueue> = queues.into_iter().collect();
        // Everything is checked and built before any state changes: a refused call leaves
        // the consumer as it was.
        let mut mode = self.mode.lock();
        if matches!(*mode, Mode::Subscribe) {
            return Err(ConsumerError::MixedSubscribeAndAssign);
        }
        let mut added = BTreeMap::new();
        for queue in &target {
            if !added.contains_key(&queue.topic) && !self.filters.read().contains_key(&queue.topic)
            {
                added.insert(queue.topic.clone(), build_subscription(&queue.topic, "*")?);
            }
        }
        self.filters.write().extend(added);
        *mode = Mode::Assign(target.clone());
        drop(mode);
        if let Some(engine) = self.engine.read().clone() {
            let worker = engine.clone();
            engine.tracker.spawn(async move {
                worker.update_queues(|_| true, target).await;
            });
        }
        Ok(())
    }

    /// Starts pulling: validates the settings, joins the group, and assigns queues.
    ///
    /// # Errors
    /// [`ConsumerError::InvalidConfig`], [`ConsumerError::State`] if started before or shut
    /// down, offset-file errors (broadcasting).
    pub async fn start(&self) -> Result<(), ConsumerError> {
        let mut state = self.state.lock().await;
        if state.is_some() || self.is_shut_down() {
            return Err(ConsumerError::State {
                expected: "not started",
                actual: if state.is_some() {
                    "running"
                } else {
                    "shut down"
                },
            });
        }
        self.config.validate()?;
        let group = &self.config.consumer_group;
        let store = match self.config.message_model {
            MessageModel::Clustering => OffsetStore::remote(self.instance.clone(), group),
            MessageModel::Broadcasting => OffsetStore::local(
                self.instance.clone(),
                group,
                self.config.offset_store_dir.as_deref(),
            )?,
        };
        let engine = Arc::new(LiteEngine::new(
            self.config.clone(),
            self.instance.clone(),
            self.filters.clone(),
            store,
        ));
        let topics: Vec<String> = self.filters.read().keys().cloned().collect();
        self.instance.register_consumer(
            group,
            Arc::new(GroupMember {
                group: group.clone(),
                consume_type: ConsumeType::ConsumeActively,
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
        let mode = self.mode.lock().clone();
        if let Mode::Assign(target) = mode {
            engine.update_queues(|_| true, target).await;
        } else {
            rebalance(&engine, &self.subscriptions).await;
        }
        let (worker, subscriptions) = (engine.clone(), self.subscriptions.clone());
        spawn_periodic(
            &engine.tracker,
            engine.cancel.clone(),
            Some(self.rebalance_wake.clone()),
            self.config.rebalance_interval,
            move || {
                let (engine, subscriptions) = (worker.clone(), subscriptions.clone());
                async move { rebalance(&engine, &subscriptions).await }
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
                async move { engine.persist().await }
            },
        );
        info!(%group, client_id = %self.instance.client_id(), "lite pull consumer started");
        *self.engine.write() = Some(engine.clone());
        *state = Some(engine);
        Ok(())
    }

    /// The next batch of messages (at most `pull_batch_size`, from one queue), waiting up to
    /// `timeout`; empty if none arrived. Commits first when auto-commit is due.
    ///
    /// # Errors
    /// [`ConsumerError::State`] before `start` or after `shutdown`.
    pub async fn poll(&self, timeout: Duration) -> Result<Vec<MessageExt>, ConsumerError> {
        let engine = self.running()?;
        engine.maybe_auto_commit().await;
        Ok(engine.poll(timeout).await)
    }

    /// Continues `queue` from `offset`: buffered messages of the queue are discarded.
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`], [`ConsumerError::SeekOutOfRange`] (outside the
    /// queue's min and max offsets), broker errors.
    pub async fn seek(&self, queue: &MessageQueue, offset: i64) -> Result<(), ConsumerError> {
        let engine = self.running()?;
        if !engine.assigned().contains(queue) {
            return Err(ConsumerError::NotAssigned(queue.clone()));
        }
        let addr = broker_addr(&self.instance, queue).await?;
        let min = self.instance.min_offset(&addr, queue).await?;
        let max = self.instance.max_offset(&addr, queue).await?;
        if !(min..=max).contains(&offset) {
            return Err(ConsumerError::SeekOutOfRange {
                queue: queue.clone(),
                offset,
                min,
                max,
            });
        }
        engine.seek(queue, offset)
    }

    /// Commits the polled offsets of every assigned queue, sending them oneway.
    ///
    /// # Errors
    /// [`ConsumerError::State`]; offset-file errors.
    pub async fn commit(&self) -> Result<(), ConsumerError> {
        self.running()?.commit(true).await
    }

    /// Commits the polled offsets of every assigned queue and waits for the brokers (or
    /// the file).
    ///
    /// # Errors
    /// [`ConsumerError::State`]; the first offset not committed.
    pub async fn commit_sync(&self) -> Result<(), ConsumerError> {
        self.running()?.commit(false).await
    }

    /// The offset committed on the broker (or in the local file) for `queue`, if any.
    ///
    /// # Errors
    /// [`ConsumerError::State`]; broker errors.
    pub async fn committed(&self, queue: &MessageQueue) -> Result<Option<i64>, ConsumerError> {
        self.running()?.store.read_store(queue).await
    }

    /// The offset after the last message `poll` returned from `queue`, if assigned.
    #[must_use]
    pub fn position(&self, queue: &MessageQueue) -> Option<i64> {
        self.engine.read().as_ref()?.consumed(queue)
    }

    /// The queues assigned now, sorted.
    #[must_use]
    pub fn assigned_queues(&self) -> Vec<MessageQueue> {
        (self.engine.read().as_ref())
            .map(|e| e.assigned())
            .unwrap_or_default()
    }

    /// Stops pulling, commits (with auto-commit) and persists offsets, and leaves the group.
    ///
    /// # Errors
    /// The first offset that could not be committed (everything else is still done).
    pub async fn shutdown(&self) -> Result<(), ConsumerError> {
        let mut state = self.state.lock().await;
        self.shut_down
            .store(true, std::sync::atomic::Ordering::Release);
        self.engine.write().take();
        let result = match state.take() {
            Some(engine) => engine.shutdown().await,
            None => Ok(()),
        };
        if self.owns_instance {
            self.instance.shutdown().await;
        }
        result
    }

    fn is_shut_down(&self) -> bool {
        self.shut_down.load(std::sync::atomic::Ordering::Acquire)
    }

    fn running(&self) -> Result<Arc<LiteEngine>, ConsumerError> {
        self.engine.read().clone().ok_or(ConsumerError::State {
            expected: "running",
            actual: if self.is_shut_down() {
                "shut down"
            } else {
                "not started"
            },
        })
    }
}

/// Reallocates each subscribed topic (subscribe mode; a no-op when assigned).
async fn rebalance(engine: &Arc<LiteEngine>, subscriptions: &Subscriptions) {
    let topics: Vec<String> = subscriptions.read().keys().cloned().collect();
    let config = &engine.config;
    for topic in topics {
        let mine = allocate(
            &engine.instance,
            &config.consumer_group,
            config.message_model,
            config.allocate_strategy,
            &topic,
        )
        .await;
        match mine {
            Ok(mine) => {
                let target = mine.into_iter().collect();
                engine.update_queues(|q| q.topic == topic, target).await;
            }
            Err(error) => tracing::debug!(%topic, %error, "rebalance skipped"),
        }
    }
}

impl Drop for LitePullConsumer {
    fn drop(&mut self) {
        if let Some(engine) = self.engine.get_mut().take() {
            warn!(group = %self.config.consumer_group, "lite pull consumer dropped without shutdown");
            engine.cancel.cancel();
        }
    }
}
