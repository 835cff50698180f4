//! Transport limits and timeouts. Every queue and in-flight set of a connection is bounded
//! here, so one slow or hostile peer costs bounded memory.

use std::time::Duration;

use apogee_protocol::remoting::FRAME_BYTES_MAX_DEFAULT;

/// Limits and timeouts of a server or client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotingConfig {
    /// Largest frame accepted, prefix included (RocketMQ `frameMaxLength`, 16 MiB).
    pub frame_bytes_max: usize,
    /// Connections a server accepts at once; more are closed on accept. Default 4096.
    pub connections_max: usize,
    /// Requests from one peer being handled at once. A push consumer keeps one suspended pull
    /// per queue, so this must exceed any sane queue count; past it the peer gets SYSTEM_BUSY.
    /// Default 4096.
    pub requests_in_flight_per_connection_max: usize,
    /// Requests this side has sent on one connection and awaits answers to. Default 65536.
    pub pending_requests_per_connection_max: usize,
    /// Frames queued for writing on one connection; a peer that stops reading fills it and,
    /// after `write_timeout`, is disconnected. Default 1024.
    pub write_queue_frames_max: usize,
    /// How long a frame may wait for room in the write queue. Default 30 s.
    pub write_timeout: Duration,
    /// Connect timeout for clients. Default 3 s.
    pub connect_timeout: Duration,
    /// A connection with no traffic for this long is closed (RocketMQ
    /// `channelMaxIdleTimeSeconds`, 120 s).
    pub idle_timeout: Duration,
}

impl Default for RemotingConfig {
    fn default() -> Self {
        Self {
            frame_bytes_max: FRAME_BYTES_MAX_DEFAULT,
            connections_max: 4096,
            requests_in_flight_per_connection_max: 4096,
            pending_requests_per_connection_max: 65_536,
            write_queue_frames_max: 1024,
            write_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(120),
        }
    }
}
