//! The producer's send paths: choosing the queue, the broker address, the retries and the
//! time budget (RocketMQ's `sendDefaultImpl`, `sendSelectImpl` and `send(msg, mq)`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::RemotingError;
use tracing::debug;

use super::ProducerConfig;
use super::fault::MqFaultStrategy;
use super::kernel::{send_once, send_oneway_once};
use super::outgoing::Outgoing;
use super::publish::PublishTable;
use super::send_result::{SendResult, SendStatus};
use super::unique_id::UniqueIdGenerator;
use crate::error::ClientError;
use crate::instance::ClientInstance;
use crate::message::MessageQueue;
use crate::route::TopicRoute;

/// Made, not started yet.
pub(crate) const CREATED: u8 = 0;
/// Started: sends are accepted.
pub(crate) const RUNNING: u8 = 1;
/// Shut down for good.
pub(crate) const SHUT_DOWN: u8 = 2;

/// Everything a producer's sends share; spawned sends hold an `Arc` of it.
pub(crate) struct Inner {
    pub(crate) config: ProducerConfig,
    pub(crate) instance: Arc<ClientInstance>,
    /// Whether the instance was made by (and is shut down with) this producer.
    pub(crate) owns_instance: bool,
    pub(crate) fault: MqFaultStrategy,
    pub(crate) publish: PublishTable,
    pub(crate) ids: UniqueIdGenerator,
    pub(crate) state: AtomicU8,
}

impl Inner {
    /// Fails unless the producer is started.
    pub(crate) fn ensure_running(&self) -> Result<(), ClientError> {
        match self.state.load(Ordering::Acquire) {
            RUNNING => Ok(()),
            CREATED => Err(ClientError::InvalidArgument(format!(
                "producer {} is not started; call Producer::start first",
                self.config.producer_group
            ))),
            _ => Err(ClientError::ShutDown),
        }
    }

    /// The master address of `broker` from the route, else from any route the instance saw.
    fn broker_addr(&self, route: &TopicRoute, broker: &str) -> Result<String, ClientError> {
        route
            .master_addr(broker)
            .map(str::to_owned)
            .or_else(|| self.instance.master_addr(broker))
            .ok_or_else(|| ClientError::BrokerNotFound {
                broker_name: broker.to_owned(),
                topic: route.topic.clone(),
            })
    }

    /// Sends with up to `retries` more attempts after retriable failures, each on another
    /// broker than the one before when possible, all within `sendMsgTimeout`.
    pub(crate) async fn send_default(
        &self,
        out: Outgoing,
        retries: u32,
    ) -> Result<SendResult, ClientError> {
        self.ensure_running()?;
        let begin = Instant::now();
        let budget = self.config.send_msg_timeout;
        let mut route = self
            .publish
            .route(&self.instance, &self.config, &out.topic)
            .await?;
        let counter = self.publish.counter(&out.topic);
        let mut brokers: Vec<String> = Vec::new();
        let mut last_error = None;
        let mut not_stored_ok = None;
        let mut refresh = false;
        for attempt in 0..=retries {
            let spent = begin.elapsed();
            if attempt > 0 && spent >= budget {
                break;
            }
            if std::mem::take(&mut refresh) {
                match self
                    .publish
                    .refresh(&self.instance, &self.config, &out.topic)
                    .await
                {
                    Ok(fresh) => route = fresh,
                    Err(error) => debug!(topic = %out.topic, %error, "route refresh failed"),
                }
            }
            let last_broker = brokers.last().map(String::as_str);
            let Some(mq) = self
                .fault
                .select(&route.write_queues, &counter, last_broker)
            else {
                return Err(ClientError::TopicNotExist {
                    topic: out.topic.clone(),
                });
            };
            brokers.push(mq.broker_name.clone());
            let addr = match self.broker_addr(&route, &mq.broker_name) {
                Ok(addr) => addr,
                Err(error) => {
                    refresh = true;
                    last_error = Some(error);
                    continue;
                }
            };
            let started = Instant::now();
            let result = send_once(
                &self.instance,
                &self.config,
                &out,
                &mq,
                &addr,
                budget.saturating_sub(spent),
            )
            .await;
            let latency = millis(started.elapsed());
            match result {
                Ok(result) => {
                    self.fault
                        .update_fault_item(&mq.broker_name, latency, false);
                    if result.send_status != SendStatus::SendOk
                        && self.config.retry_another_broker_when_not_store_ok
                    {
                        not_stored_ok = Some(result);
                        continue;
                    }
                    return Ok(result);
                }
                Err(error) if error.is_retriable() => {
                    // A broker that failed is avoided for a while (with sendLatencyFaultEnable).
                    self.fault.update_fault_item(&mq.broker_name, latency, true);
                    if error.response_code() == Some(response::TOPIC_NOT_EXIST) {
                        refresh = true;
                    }
                    debug!(topic = %out.topic, broker = %mq.broker_name, attempt, %error,
                        "send attempt failed");
                    last_error = Some(error);
                }
                // Refused for the message itself: another broker would refuse it too.
                Err(error) => return not_stored_ok.ok_or(error),
            }
        }
        if let Some(result) = not_stored_ok {
            return Ok(result);
        }
        let last = last_error.unwrap_or_else(|| ClientError::Remoting {
            addr: String::new(),
            source: RemotingError::Timeout {
                code: request::SEND_MESSAGE_V2,
                peer: out.topic.clone(),
                millis: millis(budget),
            },
        });
        Err(ClientError::SendFailed {
            topic: out.topic,
            attempts: u32::try_from(brokers.len()).unwrap_or(u32::MAX),
            brokers,
            elapsed_ms: millis(begin.elapsed()),
            last: Box::new(last),
        })
    }

    /// Sends once without waiting for the broker (RocketMQ's oneway: no retries).
    pub(crate) async fn send_oneway(&self, out: Outgoing) -> Result<(), ClientError> {
        self.ensure_running()?;
        let route = self
            .publish
            .route(&self.instance, &self.config, &out.topic)
            .await?;
        let counter = self.publish.counter(&out.topic);
        let Some(mq) = self.fault.select(&route.write_queues, &counter, None) else {
            return Err(ClientError::TopicNotExist { topic: out.topic });
        };
        let addr = self.broker_addr(&route, &mq.broker_name)?;
        let started = Instant::now();
        let result = send_oneway_once(&self.instance, &self.config, &out, &mq, &addr).await;
        let latency = millis(started.elapsed());
        self.fault
            .update_fault_item(&mq.broker_name, latency, result.is_err());
        result
    }

    /// The writable queues of `topic`, as sends see them.
    pub(crate) async fn publish_queues(&self, topic: &str) -> Result<Arc<TopicRoute>, ClientError> {
        self.publish
            .route(&self.instance, &self.config, topic)
            .await
    }

    /// Sends once to `mq`, no retries (RocketMQ's `send(msg, mq)` and selector sends).
    pub(crate) async fn send_to_queue(
        &self,
        out: Outgoing,
        mq: &MessageQueue,
    ) -> Result<SendResult, ClientError> {
        self.ensure_running()?;
        if mq.topic != out.topic {
            return Err(ClientError::InvalidArgument(format!(
                "the message's topic {} is not the queue's topic {}",
                out.topic, mq.topic
            )));
        }
        let begin = Instant::now();
        let route = self.publish_queues(&out.topic).await?;
        let addr = match self.broker_addr(&route, &mq.broker_name) {
            Ok(addr) => addr,
            Err(_) => {
                let fresh = self
                    .publish
                    .refresh(&self.instance, &self.config, &out.topic)
                    .await?;
                self.broker_addr(&fresh, &mq.broker_name)?
            }
        };
        let budget = self.config.send_msg_timeout.saturating_sub(begin.elapsed());
        send_once(&self.instance, &self.config, &out, mq, &addr, budget).await
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
