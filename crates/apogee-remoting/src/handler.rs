//! The request handler: what a server (or a client receiving server-initiated requests) does
//! with each incoming request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use apogee_protocol::remoting::RemotingCommand;

use crate::connection::Connection;

/// The future a handler returns: the response, or `None` for no response (oneway requests,
/// or requests answered later by other means).
pub type HandlerFuture = Pin<Box<dyn Future<Output = Option<RemotingCommand>> + Send + 'static>>;

/// Handles requests arriving on a connection.
///
/// Each request runs in its own task, so a handler may wait (long polling) without blocking
/// the connection. The transport writes the returned response with the request's opaque
/// and serialization, and never writes one for a oneway request.
pub trait RequestHandler: Send + Sync + 'static {
    /// Handles `request`, which arrived on `connection`.
    fn handle(&self, connection: Arc<Connection>, request: RemotingCommand) -> HandlerFuture;

    /// Whether `request` must run to the end even if its connection closes first. By
    /// default a closed connection stops its handlers (a held pull has no one to answer);
    /// a request with effects the peer cannot take back — a send received in full must be
    /// stored — answers true, and only its response is lost.
    fn runs_to_completion(&self, _request: &RemotingCommand) -> bool {
        false
    }

    /// Called once when a connection closes, for registries keyed by connection.
    fn connection_closed(&self, _connection: &Arc<Connection>) {}
}
