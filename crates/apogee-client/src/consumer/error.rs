//! [`ConsumerError`]: what the push and lite pull consumers' own calls can fail with, on top
//! of [`ClientError`].

use std::path::PathBuf;

use thiserror::Error;

use crate::error::ClientError;
use crate::message::MessageQueue;

/// What can go wrong in a consumer call.
#[derive(Debug, Error)]
pub enum ConsumerError {
    /// A request to a broker or name server failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A setting is out of its allowed range, or a required part is missing.
    #[error("invalid consumer configuration: {0}")]
    InvalidConfig(String),
    /// A subscription expression could not be parsed.
    #[error("invalid subscription expression {expression:?} for topic {topic}: {reason}")]
    InvalidExpression {
        /// The topic subscribed.
        topic: String,
        /// The expression given.
        expression: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The call needs a consumer in another state (e.g. `start` twice, `poll` before `start`).
    #[error("the consumer is {actual}; this call needs it {expected}")]
    State {
        /// The state the call needs.
        expected: &'static str,
        /// The state the consumer is in.
        actual: &'static str,
    },
    /// `subscribe` and `assign` were both used on one lite pull consumer.
    #[error("subscribe and assign cannot be mixed on one consumer")]
    MixedSubscribeAndAssign,
    /// The queue is not assigned to this consumer.
    #[error("queue {0:?} is not assigned to this consumer")]
    NotAssigned(MessageQueue),
    /// A seek offset is outside the queue's stored range.
    #[error("offset {offset} is outside [{min}, {max}] of queue {queue:?}")]
    SeekOutOfRange {
        /// The queue.
        queue: MessageQueue,
        /// The offset asked for.
        offset: i64,
        /// The queue's min offset.
        min: i64,
        /// The queue's max offset.
        max: i64,
    },
    /// The local offset file (broadcasting) could not be read or written.
    #[error("offset file {path}: {source}")]
    OffsetFile {
        /// The file.
        path: PathBuf,
        /// The I/O or JSON error.
        #[source]
        source: std::io::Error,
    },
}

impl From<apogee_protocol::NameError> for ConsumerError {
    fn from(error: apogee_protocol::NameError) -> Self {
        Self::Client(ClientError::InvalidName(error))
    }
}
