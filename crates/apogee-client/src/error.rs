//! The client's error type. Every message says what happened and, where there is one, what to
//! do about it; the variants let code decide whether retrying elsewhere can help.

use apogee_protocol::NameError;
use apogee_protocol::body::BodyError;
use apogee_protocol::remoting::ExtFieldError;
use apogee_protocol::remoting::codes::response;
use apogee_remoting::RemotingError;
use thiserror::Error;

/// What can go wrong in a client call.
#[derive(Debug, Error)]
pub enum ClientError {
    /// An argument the caller passed is unusable (empty body, bad queue, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A topic or group name breaks RocketMQ's naming rules.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// The client has no name server to ask.
    #[error("no name server configured; pass -n/--namesrv host:port or set NAMESRV_ADDR")]
    NoNameServer,
    /// No name server could be reached.
    #[error(
        "no name server answered (tried {tried}); is `apogee serve` (or `apogee namesrv`) \
         running there? last error: {source}"
    )]
    NameServerUnreachable {
        /// The addresses tried.
        tried: String,
        /// The last transport error.
        #[source]
        source: RemotingError,
    },
    /// The name servers know no route for the topic.
    #[error(
        "topic {topic} does not exist on any broker; create it with `apogee topic create {topic}` \
         (or enable autoCreateTopicEnable on the broker)"
    )]
    TopicNotExist {
        /// The topic.
        topic: String,
    },
    /// The topic's route names a broker with no master address.
    #[error("broker {broker_name} has no reachable master for topic {topic}")]
    BrokerNotFound {
        /// The broker name.
        broker_name: String,
        /// The topic whose route named it.
        topic: String,
    },
    /// The request did not reach the peer, or its answer did not come back.
    #[error("{addr}: {source}")]
    Remoting {
        /// The peer's address.
        addr: String,
        /// The transport error.
        #[source]
        source: RemotingError,
    },
    /// The peer answered with an error code.
    #[error("{addr} refused the request: {} ({code}){}", response::name(*.code), remark_suffix(.remark))]
    Refused {
        /// The peer's address.
        addr: String,
        /// The RocketMQ response code.
        code: i32,
        /// The peer's explanation.
        remark: String,
    },
    /// The peer's answer could not be understood.
    #[error("malformed response from {addr}: {detail}")]
    BadResponse {
        /// The peer's address.
        addr: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The client was shut down.
    #[error("the client has been shut down")]
    ShutDown,
    /// A send failed on every attempt the producer's retry settings allowed.
    #[error(
        "sending to topic {topic} failed after {attempts} attempt(s) in {elapsed_ms} ms \
         (brokers tried: {}): {last}",
        .brokers.join(", ")
    )]
    SendFailed {
        /// The topic.
        topic: String,
        /// How many attempts were made.
        attempts: u32,
        /// The broker of each attempt, in order.
        brokers: Vec<String>,
        /// The time spent on all attempts, in ms.
        elapsed_ms: u64,
        /// The last attempt's error.
        #[source]
        last: Box<ClientError>,
    },
}

fn remark_suffix(remark: &str) -> String {
    if remark.is_empty() {
        String::new()
    } else {
        format!(": {remark}")
    }
}

impl ClientError {
    /// The RocketMQ response code of a refusal, if this is one.
    #[must_use]
    pub fn response_code(&self) -> Option<i32> {
        match self {
            Self::Refused { code, .. } => Some(*code),
            Self::SendFailed { last, .. } => last.response_code(),
            _ => None,
        }
    }

    /// Whether the same request may succeed on another broker or later: transport failures
    /// and the broker-side codes RocketMQ's producer retries on
    /// (`DefaultMQProducerImpl.retryResponseCodes`); for [`ClientError::SendFailed`], whether
    /// its last error is.
    #[must_use]
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::Remoting { .. } | Self::NameServerUnreachable { .. } => true,
            Self::BrokerNotFound { .. } => true,
            Self::SendFailed { last, .. } => last.is_retriable(),
            Self::Refused { code, .. } => matches!(
                *code,
                response::TOPIC_NOT_EXIST
                    | response::SERVICE_NOT_AVAILABLE
                    | response::SYSTEM_ERROR
                    | response::SYSTEM_BUSY
                    | response::NO_PERMISSION
                    | response::NO_BUYER_ID
                    | response::NOT_IN_CURRENT_UNIT
            ),
            _ => false,
        }
    }

    /// A [`ClientError::BadResponse`] for an undecodable header.
    pub(crate) fn bad_header(addr: &str, error: &ExtFieldError) -> Self {
        Self::BadResponse {
            addr: addr.to_owned(),
            detail: format!("response header: {error}"),
        }
    }

    /// A [`ClientError::BadResponse`] for an undecodable body.
    pub(crate) fn bad_body(addr: &str, error: &BodyError) -> Self {
        Self::BadResponse {
            addr: addr.to_owned(),
            detail: format!("response body: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal names the code and carries the remark; retriability follows RocketMQ.
    #[test]
    fn refusal_text_and_retry() {
        let e = ClientError::Refused {
            addr: "127.0.0.1:10911".to_owned(),
            code: response::SYSTEM_BUSY,
            remark: "[OVERLOAD]".to_owned(),
        };
        assert_eq!(
            e.to_string(),
            "127.0.0.1:10911 refused the request: SYSTEM_BUSY (2): [OVERLOAD]"
        );
        assert!(e.is_retriable());
        let illegal = ClientError::Refused {
            addr: "a".to_owned(),
            code: response::MESSAGE_ILLEGAL,
            remark: String::new(),
        };
        assert_eq!(
            illegal.to_string(),
            "a refused the request: MESSAGE_ILLEGAL (13)"
        );
        assert!(!illegal.is_retriable());
        assert_eq!(illegal.response_code(), Some(response::MESSAGE_ILLEGAL));
    }
}
