//! Settings of the push consumer ([`PushConsumerConfig`], RocketMQ's
//! `DefaultMQPushConsumer`) and the lite pull consumer ([`LitePullConsumerConfig`],
//! `DefaultLitePullConsumer`), named after the Java properties, with the same defaults.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use apogee_protocol::body::{ConsumeFromWhere, MessageModel};
use apogee_protocol::names;

use super::error::ConsumerError;
use super::rebalance::AllocateStrategy;

/// The group name RocketMQ reserves and refuses for applications (`DEFAULT_CONSUMER`).
pub const DEFAULT_CONSUMER_GROUP: &str = "DEFAULT_CONSUMER";

/// How far before start `CONSUME_FROM_TIMESTAMP` goes when no timestamp is set (Java:
/// `consumeTimestamp` = now − 30 min).
pub const DEFAULT_CONSUME_TIMESTAMP_AGE: Duration = Duration::from_secs(30 * 60);

/// Push consumer settings (`DefaultMQPushConsumer`).
#[derive(Debug, Clone)]
pub struct PushConsumerConfig {
    /// The consumer group (`consumerGroup`); required.
    pub consumer_group: String,
    /// Clustering (split queues, offsets on the broker) or broadcasting (every queue to every
    /// member, offsets in a local file) (`messageModel`, CLUSTERING).
    pub message_model: MessageModel,
    /// Where a queue without a committed offset starts (`consumeFromWhere`,
    /// CONSUME_FROM_LAST_OFFSET).
    pub consume_from_where: ConsumeFromWhere,
    /// The start for CONSUME_FROM_TIMESTAMP (`consumeTimestamp`); `None` means 30 minutes
    /// before the queue is first assigned.
    pub consume_timestamp: Option<SystemTime>,
    /// `consumeThreadMin` (20). Validated as in Java (1..=1000, at most the max); the
    /// concurrency limit is [`Self::consume_thread_max`].
    pub consume_thread_min: usize,
    /// The most listener calls running at once, over all queues (`consumeThreadMax`, 20).
    /// Java's pool, with its unbounded queue, in effect runs `consumeThreadMin` threads; with
    /// the defaults both are 20.
    pub consume_thread_max: usize,
    /// The most messages given to one listener call (`consumeMessageBatchMaxSize`, 1).
    pub consume_message_batch_max_size: usize,
    /// The most messages one pull asks for (`pullBatchSize`, 32).
    pub pull_batch_size: usize,
    /// The most messages held per queue, pulled but not yet acknowledged
    /// (`pullThresholdForQueue`, 1000). Unlike Java, which checks before a pull and so may
    /// overshoot by one batch, a pull asks for no more than the room left, so the bound holds.
    pub pull_threshold_for_queue: usize,
    /// The most body bytes, in MiB, held per queue (`pullThresholdSizeForQueue`, 100).
    pub pull_threshold_size_for_queue_mib: usize,
    /// The largest distance between the first and last held offsets of a queue before pulls
    /// pause (`consumeConcurrentlyMaxSpan`, 2000).
    pub consume_concurrently_max_span: i64,
    /// Deliveries before a message goes to the dead-letter queue (`maxReconsumeTimes`, −1
    /// meaning 16). Stored for the send-back to `%RETRY%` that a later change adds. Orderly
    /// listeners read −1 as unlimited, as RocketMQ does (see `orderly`).
    pub max_reconsume_times: i32,
    /// How long the broker may hold a pull that finds nothing (`brokerSuspendMaxTimeMillis`,
    /// 15 s).
    pub broker_suspend_max_time: Duration,
    /// The request timeout of such a pull; must exceed the suspend time
    /// (`consumerTimeoutMillisWhenSuspend`, 30 s).
    pub consumer_timeout_when_suspend: Duration,
    /// How often offsets are committed to the broker or the local file
    /// (`persistConsumerOffsetInterval`, 5 s).
    pub persist_consumer_offset_interval: Duration,
    /// How often queues are reallocated, besides on membership changes (Java's
    /// `rocketmq.client.rebalance.waitInterval`, 20 s).
    pub rebalance_interval: Duration,
    /// How queues are split among the group's members (`allocateMessageQueueStrategy`,
    /// average).
    pub allocate_strategy: AllocateStrategy,
    /// A pause between two pulls of one queue (`pullInterval`, 0).
    pub pull_interval: Duration,
    /// Send the subscription with every pull instead of relying on the heartbeat's
    /// (`postSubscriptionWhenPull`, false).
    pub post_subscription_when_pull: bool,
    /// The wait before retrying a pull that failed (`PULL_TIME_DELAY_MILLS_WHEN_EXCEPTION`,
    /// 3 s).
    pub pull_delay_when_exception: Duration,
    /// The first wait before a message whose listener asked RECONSUME_LATER is delivered
    /// again; it doubles on each further failure up to [`LOCAL_RETRY_DELAY_MAX`] (1 s).
    pub local_retry_delay: Duration,
    /// How long an orderly queue waits after SUSPEND_CURRENT_QUEUE_A_MOMENT before the batch
    /// is delivered again, unless the listener's context says otherwise
    /// (`suspendCurrentQueueTimeMillis`, 1 s).
    pub suspend_current_queue_time: Duration,
    /// Where broadcasting consumers keep offsets: `<dir>/<clientId>/<group>/offsets.json`.
    /// `None` means `$HOME/.apogee/offsets` (Java: `~/.rocketmq_offsets`).
    pub offset_store_dir: Option<PathBuf>,
    /// How long `shutdown` waits for running listener calls (60 s); after that it commits
    /// what has been acknowledged and leaves them running.
    pub await_termination_on_shutdown: Duration,
}

/// The longest wait before a locally redelivered message is consumed again.
pub const LOCAL_RETRY_DELAY_MAX: Duration = Duration::from_secs(60);

impl Default for PushConsumerConfig {
    fn default() -> Self {
        Self {
            consumer_group: String::new(),
            message_model: MessageModel::Clustering,
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            consume_timestamp: None,
            consume_thread_min: 20,
            consume_thread_max: 20,
            consume_message_batch_max_size: 1,
            pull_batch_size: 32,
            pull_threshold_for_queue: 1000,
            pull_threshold_size_for_queue_mib: 100,
            consume_concurrently_max_span: 2000,
            max_reconsume_times: -1,
            broker_suspend_max_time: Duration::from_millis(15_000),
            consumer_timeout_when_suspend: Duration::from_millis(30_000),
            persist_consumer_offset_interval: Duration::from_secs(5),
            rebalance_interval: Duration::from_secs(20),
            allocate_strategy: AllocateStrategy::Average,
            pull_interval: Duration::ZERO,
            post_subscription_when_pull: false,
            pull_delay_when_exception: Duration::from_millis(3_000),
            local_retry_delay: Duration::from_secs(1),
            suspend_current_queue_time: Duration::from_millis(1000),
            offset_store_dir: None,
            await_termination_on_shutdown: Duration::from_secs(60),
        }
    }
}

impl PushConsumerConfig {
    /// Default settings for `group`.
    #[must_use]
    pub fn new(group: impl Into<String>) -> Self {
        Self {
            consumer_group: group.into(),
            ..Self::default()
        }
    }

    /// The effective `maxReconsumeTimes`: −1 means 16.
    #[must_use]
    pub fn effective_max_reconsume_times(&self) -> i32 {
        if self.max_reconsume_times == -1 {
            16
        } else {
            self.max_reconsume_times
        }
    }

    /// Checks the settings as `DefaultMQPushConsumerImpl.checkConfig` does.
    ///
    /// # Errors
    /// [`ConsumerError::InvalidConfig`] or an invalid group name.
    pub fn validate(&self) -> Result<(), ConsumerError> {
        check_group(&self.consumer_group)?;
        range("consumeThreadMin", self.consume_thread_min, 1, 1000)?;
        range("consumeThreadMax", self.consume_thread_max, 1, 1000)?;
        if self.consume_thread_min > self.consume_thread_max {
            return invalid("consumeThreadMin must not exceed consumeThreadMax");
        }
        range(
            "consumeMessageBatchMaxSize",
            self.consume_message_batch_max_size,
            1,
            1024,
        )?;
        range("pullBatchSize", self.pull_batch_size, 1, 1024)?;
        range(
            "pullThresholdForQueue",
            self.pull_threshold_for_queue,
            1,
            65535,
        )?;
        range(
            "pullThresholdSizeForQueue",
            self.pull_threshold_size_for_queue_mib,
            1,
            1024,
        )?;
        if !(1..=65535).contains(&self.consume_concurrently_max_span) {
            return invalid("consumeConcurrentlyMaxSpan must be in 1..=65535");
        }
        check_suspend(
            self.broker_suspend_max_time,
            self.consumer_timeout_when_suspend,
        )?;
        check_nonzero(
            "persistConsumerOffsetInterval",
            self.persist_consumer_offset_interval,
        )?;
        // Zero would retry a failing pull in a tight loop.
        check_nonzero(
            "pullTimeDelayMillsWhenException",
            self.pull_delay_when_exception,
        )?;
        check_nonzero("rebalanceInterval", self.rebalance_interval)
    }
}

/// Lite pull consumer settings (`DefaultLitePullConsumer`).
#[derive(Debug, Clone)]
pub struct LitePullConsumerConfig {
    /// The consumer group (`consumerGroup`); required.
    pub consumer_group: String,
    /// Clustering or broadcasting (`messageModel`, CLUSTERING).
    pub message_model: MessageModel,
    /// Where a queue without a committed offset starts (`consumeFromWhere`,
    /// CONSUME_FROM_LAST_OFFSET).
    pub consume_from_where: ConsumeFromWhere,
    /// The start for CONSUME_FROM_TIMESTAMP; `None` means 30 minutes before assignment.
    pub consume_timestamp: Option<SystemTime>,
    /// The most messages one pull asks for, and so one `poll` returns (`pullBatchSize`, 10).
    pub pull_batch_size: usize,
    /// The most messages buffered for `poll` over all queues (`pullThresholdForAll`,
    /// 10000); pulls pause while the buffer holds that many.
    pub pull_threshold_for_all: usize,
    /// The most messages buffered per queue (`pullThresholdForQueue`, 1000).
    pub pull_threshold_for_queue: usize,
    /// The most body bytes, in MiB, buffered per queue (`pullThresholdSizeForQueue`, 100).
    pub pull_threshold_size_for_queue_mib: usize,
    /// Commit the polled offsets automatically (`autoCommit`, true).
    pub auto_commit: bool,
    /// How often `poll` commits when auto-commit is on (`autoCommitIntervalMillis`, 5 s).
    pub auto_commit_interval: Duration,
    /// How often committed offsets are persisted to the broker or the local file (5 s).
    pub persist_consumer_offset_interval: Duration,
    /// How long the broker may hold a pull that finds nothing
    /// (`brokerSuspendMaxTimeMillis`, 20 s).
    pub broker_suspend_max_time: Duration,
    /// The request timeout of such a pull (`consumerTimeoutMillisWhenSuspend`, 30 s).
    pub consumer_timeout_when_suspend: Duration,
    /// The wait before retrying a pull that failed (`pullTimeDelayMillsWhenException`, 1 s).
    pub pull_delay_when_exception: Duration,
    /// How often subscribed topics are reallocated, besides on membership changes (20 s).
    pub rebalance_interval: Duration,
    /// How queues are split among the group's members (average).
    pub allocate_strategy: AllocateStrategy,
    /// Where broadcasting consumers keep offsets (see [`PushConsumerConfig::offset_store_dir`]).
    pub offset_store_dir: Option<PathBuf>,
}

impl Default for LitePullConsumerConfig {
    fn default() -> Self {
        Self {
            consumer_group: String::new(),
            message_model: MessageModel::Clustering,
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            consume_timestamp: None,
            pull_batch_size: 10,
            pull_threshold_for_all: 10_000,
            pull_threshold_for_queue: 1000,
            pull_threshold_size_for_queue_mib: 100,
            auto_commit: true,
            auto_commit_interval: Duration::from_secs(5),
            persist_consumer_offset_interval: Duration::from_secs(5),
            broker_suspend_max_time: Duration::from_millis(20_000),
            consumer_timeout_when_suspend: Duration::from_millis(30_000),
            pull_delay_when_exception: Duration::from_millis(1_000),
            rebalance_interval: Duration::from_secs(20),
            allocate_strategy: AllocateStrategy::Average,
            offset_store_dir: None,
        }
    }
}

impl LitePullConsumerConfig {
    /// Default settings for `group`.
    #[must_use]
    pub fn new(group: impl Into<String>) -> Self {
        Self {
            consumer_group: group.into(),
            ..Self::default()
        }
    }

    /// Checks the settings (`DefaultLitePullConsumerImpl.checkConfig`).
    ///
    /// # Errors
    /// [`ConsumerError::InvalidConfig`] or an invalid group name.
    pub fn validate(&self) -> Result<(), ConsumerError> {
        check_group(&self.consumer_group)?;
        range("pullBatchSize", self.pull_batch_size, 1, 1024)?;
        range(
            "pullThresholdForAll",
            self.pull_threshold_for_all,
            1,
            1 << 20,
        )?;
        range(
            "pullThresholdForQueue",
            self.pull_threshold_for_queue,
            1,
            65535,
        )?;
        range(
            "pullThresholdSizeForQueue",
            self.pull_threshold_size_for_queue_mib,
            1,
            1024,
        )?;
        check_suspend(
            self.broker_suspend_max_time,
            self.consumer_timeout_when_suspend,
        )?;
        check_nonzero("autoCommitInterval", self.auto_commit_interval)?;
        check_nonzero(
            "persistConsumerOffsetInterval",
            self.persist_consumer_offset_interval,
        )?;
        // Zero would retry a failing pull in a tight loop.
        check_nonzero(
            "pullTimeDelayMillsWhenException",
            self.pull_delay_when_exception,
        )?;
        check_nonzero("rebalanceInterval", self.rebalance_interval)
    }
}

/// The start time of CONSUME_FROM_TIMESTAMP in ms since the epoch.
pub(crate) fn consume_timestamp_ms(timestamp: Option<SystemTime>) -> i64 {
    let at = timestamp.unwrap_or_else(|| {
        SystemTime::now()
            .checked_sub(DEFAULT_CONSUME_TIMESTAMP_AGE)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    });
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn invalid<T>(reason: impl Into<String>) -> Result<T, ConsumerError> {
    Err(ConsumerError::InvalidConfig(reason.into()))
}

fn check_group(group: &str) -> Result<(), ConsumerError> {
    names::validate_group(group)?;
    if group == DEFAULT_CONSUMER_GROUP {
        return invalid(format!(
            "consumerGroup can not equal {DEFAULT_CONSUMER_GROUP}, please specify another one"
        ));
    }
    Ok(())
}

fn range(name: &str, value: usize, min: usize, max: usize) -> Result<(), ConsumerError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        invalid(format!("{name} {value} is out of range [{min}, {max}]"))
    }
}

fn check_suspend(suspend: Duration, timeout: Duration) -> Result<(), ConsumerError> {
    if timeout <= suspend {
        return invalid(format!(
            "consumerTimeoutMillisWhenSuspend ({} ms) must exceed brokerSuspendMaxTimeMillis \
             ({} ms)",
            timeout.as_millis(),
            suspend.as_millis()
        ));
    }
    Ok(())
}

fn check_nonzero(name: &str, value: Duration) -> Result<(), ConsumerError> {
    if value.is_zero() {
        return invalid(format!("{name} must be positive"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defaults validate; each broken rule is reported.
    #[test]
    fn validation() {
        assert!(PushConsumerConfig::new("g").validate().is_ok());
        assert!(LitePullConsumerConfig::new("g").validate().is_ok());
        assert!(PushConsumerConfig::default().validate().is_err());
        assert!(
            PushConsumerConfig::new(DEFAULT_CONSUMER_GROUP)
                .validate()
                .is_err()
        );
        let bad = PushConsumerConfig {
            consume_thread_min: 30,
            ..PushConsumerConfig::new("g")
        };
        assert!(bad.validate().is_err());
        let bad = PushConsumerConfig {
            consumer_timeout_when_suspend: Duration::from_secs(15),
            ..PushConsumerConfig::new("g")
        };
        assert!(bad.validate().is_err());
        assert_eq!(
            PushConsumerConfig::new("g").effective_max_reconsume_times(),
            16
        );
        let spinning = PushConsumerConfig {
            pull_delay_when_exception: Duration::ZERO,
            ..PushConsumerConfig::new("g")
        };
        assert!(spinning.validate().is_err());
        let spinning = LitePullConsumerConfig {
            pull_delay_when_exception: Duration::ZERO,
            ..LitePullConsumerConfig::new("g")
        };
        assert!(spinning.validate().is_err());
    }
}
