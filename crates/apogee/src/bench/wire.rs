//! Every request the produce/consume benchmarks make, over one remoting connection to the
//! broker: create a topic, read queue counts and offsets, send (SEND_MESSAGE_V2, 310) and
//! pull (PULL_MESSAGE, 11). Kept behind this one type so the client SDK can replace it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use apogee_protocol::body::{self, TopicConfigSerializeWrapper};
use apogee_protocol::header::{
    CommandHeader, CreateTopicRequestHeader, GetMaxOffsetRequestHeader, GetMinOffsetRequestHeader,
    OffsetResponseHeader, PermName, PullMessageRequestHeader, PullMessageResponseHeader,
    PullSysFlag, SendMessageRequestHeader, TopicFilterType,
};
use apogee_protocol::message::{properties, record};
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::{NoRequests, RemotingClient, RemotingConfig, RemotingError};
use bytes::Bytes;

/// Timeout of each request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The producer group named in sends.
const PRODUCER_GROUP: &str = "BenchProducerGroup";
/// The consumer group named in pulls.
pub const CONSUMER_GROUP: &str = "BenchConsumerGroup";
/// The template topic named in sends and topic creation.
const DEFAULT_TOPIC: &str = "TBW102";

/// One connection to a broker.
#[derive(Debug)]
pub struct Wire {
    /// The remoting client (it holds the one connection to `addr`).
    client: RemotingClient,
    /// The broker, `host:port`.
    addr: String,
    /// Prefix of the `UNIQ_KEY`s this connection's sends carry.
    key_prefix: String,
    /// Counter making each `UNIQ_KEY` unique.
    sends: AtomicU64,
}

/// Why one send or pull failed, grouped into kinds for the error count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer within the request timeout.
    Timeout,
    /// The connection could not be made or was lost.
    Connection,
    /// The broker answered with an error code.
    Broker(i32),
    /// The answer could not be understood.
    Malformed,
}

impl Failure {
    /// A short name for this kind of failure, the key of the error count.
    #[must_use]
    pub fn kind(&self) -> String {
        match self {
            Failure::Timeout => "timeout".to_owned(),
            Failure::Connection => "connection".to_owned(),
            Failure::Broker(code) => format!("{} ({code})", code_name(*code)),
            Failure::Malformed => "malformed response".to_owned(),
        }
    }

    /// The kind of a transport error.
    fn from_remoting(error: &RemotingError) -> Self {
        match error {
            RemotingError::Timeout { .. } => Failure::Timeout,
            _ => Failure::Connection,
        }
    }
}

/// RocketMQ's name of a response code a benchmark may meet.
#[must_use]
pub fn code_name(code: i32) -> &'static str {
    match code {
        response::SYSTEM_ERROR => "SYSTEM_ERROR",
        response::SYSTEM_BUSY => "SYSTEM_BUSY",
        response::REQUEST_CODE_NOT_SUPPORTED => "REQUEST_CODE_NOT_SUPPORTED",
        response::FLUSH_DISK_TIMEOUT => "FLUSH_DISK_TIMEOUT",
        response::SLAVE_NOT_AVAILABLE => "SLAVE_NOT_AVAILABLE",
        response::FLUSH_SLAVE_TIMEOUT => "FLUSH_SLAVE_TIMEOUT",
        response::MESSAGE_ILLEGAL => "MESSAGE_ILLEGAL",
        response::SERVICE_NOT_AVAILABLE => "SERVICE_NOT_AVAILABLE",
        response::NO_PERMISSION => "NO_PERMISSION",
        response::TOPIC_NOT_EXIST => "TOPIC_NOT_EXIST",
        response::PULL_NOT_FOUND => "PULL_NOT_FOUND",
        response::PULL_RETRY_IMMEDIATELY => "PULL_RETRY_IMMEDIATELY",
        response::PULL_OFFSET_MOVED => "PULL_OFFSET_MOVED",
        response::INVALID_PARAMETER => "INVALID_PARAMETER",
        _ => "code",
    }
}

/// What one pull brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pulled {
    /// Messages in the response body.
    pub messages: u64,
    /// Sum of their bodies' sizes.
    pub body_bytes: u64,
    /// The offset to pull from next.
    pub next_offset: i64,
    /// The response code (SUCCESS, PULL_NOT_FOUND, PULL_RETRY_IMMEDIATELY, …).
    pub code: i32,
}

impl Wire {
    /// A connection (made on first use) to the broker at `addr`.
    #[must_use]
    pub fn new(addr: &str) -> Arc<Self> {
        static CONNECTIONS: AtomicU64 = AtomicU64::new(0);
        let n = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        Arc::new(Self {
            client: RemotingClient::new(RemotingConfig::default(), Arc::new(NoRequests)),
            addr: addr.to_owned(),
            key_prefix: format!("{:08X}{:08X}", std::process::id(), n),
            sends: AtomicU64::new(0),
        })
    }

    /// Sends `req` and returns the answer, or the transport error as a [`Failure`].
    async fn call(&self, req: RemotingCommand) -> Result<RemotingCommand, Failure> {
        self.client
            .invoke(&self.addr, req, REQUEST_TIMEOUT)
            .await
            .map_err(|e| {
                tracing::debug!(error = %e, "request failed");
                Failure::from_remoting(&e)
            })
    }

    /// As [`Wire::call`], for setup requests: any failure is an error with context.
    async fn call_ok(&self, req: RemotingCommand, what: &str) -> Result<RemotingCommand> {
        let answer = self
            .client
            .invoke(&self.addr, req, REQUEST_TIMEOUT)
            .await
            .with_context(|| format!("{what}: no answer from {}", self.addr))?;
        if answer.code != response::SUCCESS {
            bail!(
                "{what}: the broker at {} answered {} ({}): {}",
                self.addr,
                code_name(answer.code),
                answer.code,
                answer.remark.as_deref().unwrap_or("")
            );
        }
        Ok(answer)
    }

    /// Creates (or updates) `topic` with `queues` read and write queues
    /// (UPDATE_AND_CREATE_TOPIC, 17).
    ///
    /// # Errors
    /// If the broker cannot be reached or refuses.
    pub async fn create_topic(&self, topic: &str, queues: i32) -> Result<()> {
        let header = CreateTopicRequestHeader {
            topic: topic.into(),
            default_topic: DEFAULT_TOPIC.into(),
            read_queue_nums: queues,
            write_queue_nums: queues,
            perm: PermName::READ | PermName::WRITE,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_sys_flag: Some(0),
            order: false,
            attributes: None,
            force: None,
        };
        let req = RemotingCommand::request(request::UPDATE_AND_CREATE_TOPIC, header.to_ext());
        self.call_ok(req, &format!("creating topic {topic}"))
            .await?;
        Ok(())
    }

    /// The read queue count of `topic` on the broker (GET_ALL_TOPIC_CONFIG, 21).
    ///
    /// # Errors
    /// If the broker cannot be reached, refuses, or has no such topic.
    pub async fn read_queues(&self, topic: &str) -> Result<i32> {
        let req = RemotingCommand::request(request::GET_ALL_TOPIC_CONFIG, Default::default());
        let answer = self.call_ok(req, "reading the topic table").await?;
        let table: TopicConfigSerializeWrapper =
            body::decode(&answer.body).context("malformed topic table")?;
        let config = table
            .topic_config_table
            .get(topic)
            .with_context(|| format!("the broker at {} has no topic {topic}", self.addr))?;
        Ok(config.read_queue_nums)
    }

    /// The next offset to be written in one queue (GET_MAX_OFFSET, 30).
    ///
    /// # Errors
    /// If the broker cannot be reached or refuses.
    pub async fn max_offset(&self, topic: &str, queue_id: i32) -> Result<i64> {
        let header = GetMaxOffsetRequestHeader {
            topic: topic.into(),
            queue_id,
            committed: None,
        };
        let req = RemotingCommand::request(request::GET_MAX_OFFSET, header.to_ext());
        self.offset(req, "reading a max offset").await
    }

    /// The first offset still stored in one queue (GET_MIN_OFFSET, 31).
    ///
    /// # Errors
    /// If the broker cannot be reached or refuses.
    pub async fn min_offset(&self, topic: &str, queue_id: i32) -> Result<i64> {
        let header = GetMinOffsetRequestHeader {
            topic: topic.into(),
            queue_id,
        };
        let req = RemotingCommand::request(request::GET_MIN_OFFSET, header.to_ext());
        self.offset(req, "reading a min offset").await
    }

    /// The offset in the answer to an offset request.
    async fn offset(&self, req: RemotingCommand, what: &str) -> Result<i64> {
        let answer = self.call_ok(req, what).await?;
        let header = OffsetResponseHeader::from_ext(&answer.ext_fields)
            .with_context(|| format!("{what}: malformed answer"))?;
        Ok(header.offset)
    }

    /// Sends one message with `body` to `queue_id` of `topic` (SEND_MESSAGE_V2, 310),
    /// carrying a `UNIQ_KEY` made here (as clients do) and `WAIT=true`.
    ///
    /// # Errors
    /// The failure's kind when the send was not acknowledged with SUCCESS.
    pub async fn send(&self, topic: &str, queue_id: i32, body: Bytes) -> Result<(), Failure> {
        let n = self.sends.fetch_add(1, Ordering::Relaxed);
        let key = format!("{}{n:016X}", self.key_prefix);
        let header = SendMessageRequestHeader {
            producer_group: PRODUCER_GROUP.into(),
            topic: topic.into(),
            default_topic: DEFAULT_TOPIC.into(),
            default_topic_queue_nums: 4,
            queue_id,
            sys_flag: 0,
            born_timestamp: now_millis(),
            flag: 0,
            properties: Some(properties::encode([
                (properties::UNIQ_KEY, key.as_str()),
                (properties::WAIT, "true"),
            ])),
            ..SendMessageRequestHeader::default()
        };
        let req =
            RemotingCommand::request(request::SEND_MESSAGE_V2, header.to_ext_v2()).with_body(body);
        let answer = self.call(req).await?;
        if answer.code == response::SUCCESS {
            Ok(())
        } else {
            Err(Failure::Broker(answer.code))
        }
    }

    /// Pulls up to `max` messages from `offset` of one queue (PULL_MESSAGE, 11, never
    /// suspended) and counts the records in the body.
    ///
    /// # Errors
    /// The failure's kind for a transport error, an error code, or a malformed body.
    pub async fn pull(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max: i32,
    ) -> Result<Pulled, Failure> {
        let header = PullMessageRequestHeader {
            consumer_group: CONSUMER_GROUP.into(),
            topic: topic.into(),
            queue_id,
            queue_offset: offset,
            max_msg_nums: max,
            sys_flag: PullSysFlag::SUBSCRIPTION,
            commit_offset: 0,
            suspend_timeout_millis: 0,
            subscription: Some("*".into()),
            sub_version: 0,
            ..PullMessageRequestHeader::default()
        };
        let req = RemotingCommand::request(request::PULL_MESSAGE, header.to_ext());
        let answer = self.call(req).await?;
        let found = answer.code == response::SUCCESS;
        let no_message = matches!(
            answer.code,
            response::PULL_NOT_FOUND | response::PULL_RETRY_IMMEDIATELY
        );
        if !found && !no_message {
            return Err(Failure::Broker(answer.code));
        }
        let header = PullMessageResponseHeader::from_ext(&answer.ext_fields)
            .map_err(|_| Failure::Malformed)?;
        let (messages, body_bytes) = if found {
            count_records(&answer.body)?
        } else {
            (0, 0)
        };
        Ok(Pulled {
            messages,
            body_bytes,
            next_offset: header.next_begin_offset,
            code: answer.code,
        })
    }

    /// Closes the connection.
    pub async fn shutdown(&self) {
        self.client.shutdown().await;
    }
}

/// The number of stored records concatenated in a pull body, and their bodies' total size.
fn count_records(mut raw: &[u8]) -> Result<(u64, u64), Failure> {
    let (mut messages, mut bytes) = (0, 0);
    while !raw.is_empty() {
        let view = record::decode(raw).map_err(|_| Failure::Malformed)?;
        messages += 1;
        bytes += view.body.len() as u64;
        raw = raw.get(view.total_size..).ok_or(Failure::Malformed)?;
    }
    Ok((messages, bytes))
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Failure kinds read as RocketMQ's names.
    #[test]
    fn failure_kinds() {
        assert_eq!(Failure::Timeout.kind(), "timeout");
        assert_eq!(
            Failure::Broker(response::FLUSH_DISK_TIMEOUT).kind(),
            "FLUSH_DISK_TIMEOUT (10)"
        );
        assert_eq!(Failure::Broker(999).kind(), "code (999)");
    }

    /// An empty pull body holds no records; garbage is malformed.
    #[test]
    fn counts_records() {
        assert_eq!(count_records(&[]), Ok((0, 0)));
        assert_eq!(count_records(&[1, 2, 3]), Err(Failure::Malformed));
    }
}
