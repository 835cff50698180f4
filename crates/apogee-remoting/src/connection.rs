//! One remoting connection: a reader task that decodes frames and dispatches them, a writer
//! task that drains a bounded queue of outgoing frames, and the table of requests awaiting
//! responses.
//!
//! Requests this side sends get a fresh `opaque`; the response with the same `opaque`
//! completes them. Requests the peer sends are polled once by the reader and answered at
//! once when they need not wait; the others run in their own tasks (bounded per connection).
//! Answers go out in the serialization their request came in. Any malformed frame closes the
//! connection: after one, the byte stream cannot be trusted to be in sync.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use apogee_protocol::remoting::codes::response::{SYSTEM_BUSY, SYSTEM_ERROR};
use apogee_protocol::remoting::{
    BytesMut, EncodeError, FLAG_RESPONSE, FrameDecoder, RemotingCommand, SerializeType, encode_into,
};
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::RemotingConfig;
use crate::error::RemotingError;
use crate::handler::RequestHandler;

/// Bytes the writer gathers from queued frames before one socket write.
const WRITE_BATCH_BYTES_MAX: usize = 256 * 1024;
/// Initial read buffer; it grows up to one frame as needed.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// A frame waiting to be written.
struct Outbound {
    command: RemotingCommand,
    serialize: SerializeType,
}

/// One open connection (either side). Cheap to share; closing it ends both tasks and fails
/// every request still awaiting a response.
pub struct Connection {
    peer: SocketAddr,
    local: SocketAddr,
    serialize: SerializeType,
    config: RemotingConfig,
    outbound: mpsc::Sender<Outbound>,
    pending: Mutex<HashMap<i32, oneshot::Sender<RemotingCommand>>>,
    next_opaque: AtomicI32,
    in_flight: Arc<Semaphore>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .field("local", &self.local)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// Everything a new connection's tasks need.
pub(crate) struct Spawn<'a> {
    pub stream: TcpStream,
    pub handler: Arc<dyn RequestHandler>,
    pub config: &'a RemotingConfig,
    pub tracker: &'a TaskTracker,
    pub parent: &'a CancellationToken,
    /// Serialization of the requests this side sends.
    pub serialize: SerializeType,
    /// Held until the connection closes (the server's connection limit).
    pub permit: Option<OwnedSemaphorePermit>,
}

impl Connection {
    /// Starts the reader and writer tasks of `spawn.stream`.
    ///
    /// # Errors
    /// If the socket's addresses cannot be read (it is already closed).
    pub(crate) fn spawn(spawn: Spawn<'_>) -> Result<Arc<Self>, RemotingError> {
        let peer = spawn
            .stream
            .peer_addr()
            .map_err(|source| RemotingError::Io {
                peer: "unknown peer".into(),
                source,
            })?;
        let local = spawn
            .stream
            .local_addr()
            .map_err(|source| RemotingError::Io {
                peer: peer.to_string(),
                source,
            })?;
        // Small frames must not wait for Nagle's algorithm: request/response latency matters.
        let _ = spawn.stream.set_nodelay(true);
        let (tx, rx) = mpsc::channel(spawn.config.write_queue_frames_max);
        let connection = Arc::new(Self {
            peer,
            local,
            serialize: spawn.serialize,
            config: spawn.config.clone(),
            outbound: tx,
            pending: Mutex::new(HashMap::new()),
            next_opaque: AtomicI32::new(1),
            in_flight: Arc::new(Semaphore::new(
                spawn.config.requests_in_flight_per_connection_max,
            )),
            cancel: spawn.parent.child_token(),
        });
        let (read, write) = spawn.stream.into_split();
        spawn
            .tracker
            .spawn(write_loop(connection.clone(), write, rx));
        let reader = Reader {
            connection: connection.clone(),
            handler: spawn.handler,
            tracker: spawn.tracker.clone(),
            _permit: spawn.permit,
        };
        spawn.tracker.spawn(reader.run(read));
        Ok(connection)
    }

    /// The peer's address.
    #[must_use]
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// This side's address.
    #[must_use]
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Whether the connection has closed.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Closes the connection; pending requests fail with [`RemotingError::ConnectionClosed`].
    pub fn close(&self) {
        self.cancel.cancel();
        self.pending.lock().clear();
    }

    fn closed_error(&self) -> RemotingError {
        RemotingError::ConnectionClosed {
            peer: self.peer.to_string(),
        }
    }

    /// Sends `request` and waits up to `timeout` for its response.
    ///
    /// # Errors
    /// [`RemotingError::Timeout`], [`RemotingError::ConnectionClosed`],
    /// [`RemotingError::TooManyPending`].
    pub async fn request(
        &self,
        mut request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        let opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed);
        request.opaque = opaque;
        request.flag &= !FLAG_RESPONSE;
        let code = request.code;
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.pending.lock();
            let limit = self.config.pending_requests_per_connection_max;
            if pending.len() >= limit {
                return Err(RemotingError::TooManyPending {
                    peer: self.peer.to_string(),
                    limit,
                });
            }
            pending.insert(opaque, tx);
        }
        if let Err(e) = self.enqueue(request, self.serialize).await {
            self.pending.lock().remove(&opaque);
            return Err(e);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(self.closed_error()),
            Err(_) => {
                self.pending.lock().remove(&opaque);
                Err(RemotingError::Timeout {
                    code,
                    peer: self.peer.to_string(),
                    millis: timeout.as_millis() as u64,
                })
            }
        }
    }

    /// Sends `request` marked oneway: the peer runs it and never answers.
    ///
    /// # Errors
    /// [`RemotingError::ConnectionClosed`] if it cannot be queued.
    pub async fn oneway(&self, request: RemotingCommand) -> Result<(), RemotingError> {
        let mut request = request.oneway();
        request.opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed);
        self.enqueue(request, self.serialize).await
    }

    /// Queues a frame, waiting at most the write timeout for room; a peer that does not read
    /// is disconnected.
    async fn enqueue(
        &self,
        command: RemotingCommand,
        serialize: SerializeType,
    ) -> Result<(), RemotingError> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        let frame = Outbound { command, serialize };
        match tokio::time::timeout(self.config.write_timeout, self.outbound.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(self.closed_error()),
            Err(_) => {
                tracing::warn!(peer = %self.peer, "peer does not read its responses; closing");
                self.close();
                Err(self.closed_error())
            }
        }
    }
}

/// The reading half of a connection and what it needs to dispatch.
struct Reader {
    connection: Arc<Connection>,
    handler: Arc<dyn RequestHandler>,
    tracker: TaskTracker,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Reader {
    async fn run(self, mut read: OwnedReadHalf) {
        let conn = self.connection.clone();
        let mut decoder = FrameDecoder::new(conn.config.frame_bytes_max);
        let mut buf = BytesMut::with_capacity(READ_BUFFER_BYTES);
        'reading: loop {
            loop {
                // Once closed (write timeout, shutdown), requests still buffered are not run.
                if conn.is_closed() {
                    break 'reading;
                }
                match decoder.decode(&mut buf) {
                    Ok(Some((command, serialize))) => self.dispatch(command, serialize),
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(peer = %conn.peer, error = %e, "malformed frame; closing");
                        break 'reading;
                    }
                }
            }
            let read_more = tokio::time::timeout(conn.config.idle_timeout, read.read_buf(&mut buf));
            tokio::select! {
                () = conn.cancel.cancelled() => break,
                result = read_more => match result {
                    Ok(Ok(0)) => break,
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::debug!(peer = %conn.peer, error = %e, "read failed");
                        break;
                    }
                    Err(_) => {
                        tracing::info!(peer = %conn.peer, "idle connection; closing");
                        break;
                    }
                },
            }
        }
        conn.close();
        self.handler.connection_closed(&conn);
    }

    fn dispatch(&self, command: RemotingCommand, serialize: SerializeType) {
        let conn = &self.connection;
        if command.is_response() {
            match conn.pending.lock().remove(&command.opaque) {
                Some(waiter) => {
                    let _ = waiter.send(command);
                }
                None => tracing::debug!(peer = %conn.peer, opaque = command.opaque,
                    "response for no pending request (timed out?); dropped"),
            }
            return;
        }
        let Ok(permit) = conn.in_flight.clone().try_acquire_owned() else {
            self.refuse_busy(&command, serialize);
            return;
        };
        let conn = conn.clone();
        let oneway = command.is_oneway();
        let (opaque, code) = (command.opaque, command.code);
        let completes = self.handler.runs_to_completion(&command);
        let mut handling = self.handler.handle(conn.clone(), command);
        // Most requests (an ASYNC_FLUSH send, an offset query) finish without waiting: poll
        // once here and answer at once, saving a task per request. A pending future is then
        // moved into its own task, whose first poll registers the real waker.
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(response) = handling.as_mut().poll(&mut cx) {
            let Some(response) = response.filter(|_| !oneway) else {
                return;
            };
            let frame = Outbound {
                command: answer(response, opaque),
                serialize,
            };
            match conn.outbound.try_send(frame) {
                Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
                Err(mpsc::error::TrySendError::Full(frame)) => {
                    // The peer is slow to read: wait for room in a task, still holding the
                    // permit, so the reader keeps its pace bounded.
                    self.tracker.spawn(async move {
                        if let Err(e) = conn.enqueue(frame.command, frame.serialize).await {
                            tracing::debug!(peer = %conn.peer, code, error = %e, "response not sent");
                        }
                        drop(permit);
                    });
                }
            }
            return;
        }
        self.tracker.spawn(async move {
            // A closed connection cannot carry the answer: stop the handler (a held pull,
            // say) instead of letting it run on and delay shutdown.
            let response = if completes {
                handling.await
            } else {
                tokio::select! {
                    response = handling => response,
                    () = conn.cancel.cancelled() => None,
                }
            };
            if let Some(response) = response.filter(|_| !oneway)
                && let Err(e) = conn.enqueue(answer(response, opaque), serialize).await
            {
                tracing::debug!(peer = %conn.peer, code, error = %e, "response not sent");
            }
            // Released only once the response is queued: a response waiting for room in the
            // write queue still counts as in flight, so a peer that never reads cannot make
            // us run (and hold the answers of) an unbounded number of requests.
            drop(permit);
        });
    }

    fn refuse_busy(&self, request: &RemotingCommand, serialize: SerializeType) {
        if request.is_oneway() {
            return;
        }
        let remark = format!(
            "[OVERLOAD] more than {} requests in flight on this connection",
            self.connection.config.requests_in_flight_per_connection_max
        );
        let response = RemotingCommand::response_to(request, SYSTEM_BUSY, Some(remark));
        let frame = Outbound {
            command: response,
            serialize,
        };
        // Never wait here: the reader must keep reading. A full queue drops the refusal, and
        // the peer's own timeout reports it.
        let _ = self.connection.outbound.try_send(frame);
    }
}

/// `response` marked as the answer to the request with `opaque`.
fn answer(mut response: RemotingCommand, opaque: i32) -> RemotingCommand {
    response.opaque = opaque;
    response.flag |= FLAG_RESPONSE;
    response
}

/// A SYSTEM_ERROR answer, with the same opaque, to stand in for `response`, which could
/// not be encoded.
fn unencodable_response(response: &RemotingCommand, error: &EncodeError) -> RemotingCommand {
    let mut refusal = RemotingCommand::request(SYSTEM_ERROR, Default::default());
    refusal.opaque = response.opaque;
    refusal.flag = FLAG_RESPONSE;
    refusal.remark = Some(format!("the response could not be encoded: {error}"));
    refusal
}

/// Encodes `frame`, falling back to JSON when the binary header cannot carry it (codes
/// outside i16, as RocketMQ's 5.x POP codes).
fn encode_frame(frame: &Outbound, out: &mut BytesMut) -> Result<(), EncodeError> {
    match encode_into(&frame.command, frame.serialize, out) {
        Err(EncodeError::CodeOutOfRange { .. } | EncodeError::VersionOutOfRange { .. }) => {
            encode_into(&frame.command, SerializeType::Json, out)
        }
        other => other,
    }
}

async fn write_loop(
    conn: Arc<Connection>,
    mut write: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Outbound>,
) {
    let mut out = BytesMut::with_capacity(WRITE_BATCH_BYTES_MAX);
    loop {
        let first = tokio::select! {
            () = conn.cancel.cancelled() => break,
            frame = rx.recv() => match frame { Some(f) => f, None => break },
        };
        let mut next = Some(first);
        while let Some(frame) = next.take() {
            if let Err(e) = encode_frame(&frame, &mut out) {
                tracing::error!(peer = %conn.peer, code = frame.command.code, error = %e,
                    "cannot encode outgoing command; dropped");
                // The requester must not wait for its timeout without a reason: answer in
                // its place with one that always encodes.
                if frame.command.is_response() {
                    let refusal = unencodable_response(&frame.command, &e);
                    let fallback = Outbound {
                        command: refusal,
                        serialize: frame.serialize,
                    };
                    if let Err(e) = encode_frame(&fallback, &mut out) {
                        tracing::error!(peer = %conn.peer, error = %e, "cannot encode the refusal either");
                    }
                }
            }
            if out.len() < WRITE_BATCH_BYTES_MAX {
                next = rx.try_recv().ok();
            }
        }
        // A peer that stops reading blocks this write; closing the connection (write
        // timeout, shutdown) must still end it, or the socket would stay open forever.
        let written = tokio::select! {
            () = conn.cancel.cancelled() => break,
            written = write.write_all(&out) => written,
        };
        if let Err(e) = written {
            tracing::debug!(peer = %conn.peer, error = %e, "write failed; closing");
            break;
        }
        out.clear();
    }
    conn.close();
    let _ = write.shutdown().await;
}
