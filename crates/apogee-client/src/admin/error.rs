//! [`AdminError`]: what an [`super::Admin`] call can fail with beyond the client's own errors.
//! Each message says what happened and what to do next.

use std::time::Duration;

use thiserror::Error;

use crate::error::ClientError;

/// Errors of the admin client.
#[derive(Debug, Error)]
pub enum AdminError {
    /// A request failed: the name server or a broker was unreachable, refused, or the topic
    /// has no route.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The cluster named in a [`super::TopicSpec`] is not registered.
    #[error(
        "cluster {cluster} is not known to the name server (known: {known}); `apogee cluster` lists them"
    )]
    UnknownCluster {
        /// The cluster asked for.
        cluster: String,
        /// The clusters the name server knows, comma-separated.
        known: String,
    },
    /// No master broker matched where the topic was to be created.
    #[error(
        "no master broker is registered with the name server{where_}; start one (`apogee serve`) \
         or point its namesrvAddr at this name server"
    )]
    NoBrokers {
        /// ` in cluster X` or empty.
        where_: String,
    },
    /// The brokers accepted a new topic but the name server did not route it in time.
    #[error(
        "topic {topic} was created on {brokers} but the name server did not route it within \
         {waited:?}; check that the brokers can reach the name server, then `apogee topic \
         describe {topic}`"
    )]
    RouteTimeout {
        /// The topic.
        topic: String,
        /// The broker addresses it was created on, comma-separated.
        brokers: String,
        /// How long the route was waited for.
        waited: Duration,
    },
    /// A topic was deleted from the brokers and name servers but still has a route.
    #[error(
        "topic {topic} is still routed after deletion (a broker may have re-registered it); \
         run `apogee topic delete {topic}` again"
    )]
    StillRouted {
        /// The topic.
        topic: String,
    },
    /// No message has the id.
    #[error("no message with id {id} was found: {detail}")]
    MessageNotFound {
        /// The id asked for.
        id: String,
        /// Why, and what to try.
        detail: String,
    },
    /// A task of the admin client itself failed (a bug).
    #[error("internal error: {0}; please report it")]
    Internal(String),
}

impl AdminError {
    /// The underlying client error, if this is one.
    #[must_use]
    pub fn client_error(&self) -> Option<&ClientError> {
        match self {
            Self::Client(error) => Some(error),
            _ => None,
        }
    }
}
