//! Transport errors.

use std::io;

use apogee_protocol::remoting::{EncodeError, FrameError};
use thiserror::Error;

/// What can go wrong sending or awaiting a remoting command.
#[derive(Debug, Error)]
pub enum RemotingError {
    /// Connecting to the peer failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address dialled.
        addr: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Connecting took longer than the connect timeout.
    #[error("connecting to {addr} timed out after {millis} ms")]
    ConnectTimeout {
        /// The address dialled.
        addr: String,
        /// The timeout.
        millis: u64,
    },
    /// The address is not `host:port`.
    #[error("invalid address {addr:?}: expected host:port")]
    BadAddress {
        /// The address given.
        addr: String,
    },
    /// No response arrived within the request timeout.
    #[error("request code {code} to {peer} timed out after {millis} ms")]
    Timeout {
        /// The request code.
        code: i32,
        /// The peer.
        peer: String,
        /// The timeout.
        millis: u64,
    },
    /// The connection closed before the response arrived (or before the request was sent).
    #[error("connection to {peer} closed")]
    ConnectionClosed {
        /// The peer.
        peer: String,
    },
    /// Too many requests are awaiting responses on this connection.
    #[error("too many requests in flight to {peer} (limit {limit})")]
    TooManyPending {
        /// The peer.
        peer: String,
        /// The configured limit.
        limit: usize,
    },
    /// The command cannot be encoded (e.g. a code that does not fit the binary header).
    #[error("cannot encode command: {0}")]
    Encode(#[from] EncodeError),
    /// The peer sent bytes that are not a valid frame; the connection was closed.
    #[error("malformed frame from {peer}: {source}")]
    Frame {
        /// The peer.
        peer: String,
        /// What was wrong.
        #[source]
        source: FrameError,
    },
    /// A socket error.
    #[error("socket error with {peer}: {source}")]
    Io {
        /// The peer.
        peer: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}
