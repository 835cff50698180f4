//! The client side: one connection per peer address, made on first use and replaced when it
//! closes; `invoke` sends a request and awaits its response.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apogee_protocol::remoting::codes::response::REQUEST_CODE_NOT_SUPPORTED;
use apogee_protocol::remoting::{RemotingCommand, SerializeType};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::RemotingConfig;
use crate::connection::{Connection, Spawn};
use crate::error::RemotingError;
use crate::handler::{HandlerFuture, RequestHandler};

/// Answers every server-initiated request with REQUEST_CODE_NOT_SUPPORTED: for clients that
/// expect none (admin tools, plain producers).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoRequests;

impl RequestHandler for NoRequests {
    fn handle(&self, _connection: Arc<Connection>, request: RemotingCommand) -> HandlerFuture {
        let remark = format!(" request type {} not supported", request.code);
        let response =
            RemotingCommand::response_to(&request, REQUEST_CODE_NOT_SUPPORTED, Some(remark));
        Box::pin(async move { Some(response) })
    }
}

/// Connections to any number of peers, by `host:port`.
pub struct RemotingClient {
    config: RemotingConfig,
    handler: Arc<dyn RequestHandler>,
    serialize: SerializeType,
    connections: tokio::sync::Mutex<HashMap<String, Arc<Connection>>>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl std::fmt::Debug for RemotingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemotingClient")
            .field("serialize", &self.serialize)
            .finish_non_exhaustive()
    }
}

impl RemotingClient {
    /// A client whose server-initiated requests go to `handler`, sending JSON headers (as the
    /// Java client does by default).
    #[must_use]
    pub fn new(config: RemotingConfig, handler: Arc<dyn RequestHandler>) -> Self {
        Self::with_serialize(config, handler, SerializeType::Json)
    }

    /// As [`RemotingClient::new`], sending requests with the given header serialization.
    #[must_use]
    pub fn with_serialize(
        config: RemotingConfig,
        handler: Arc<dyn RequestHandler>,
        serialize: SerializeType,
    ) -> Self {
        Self {
            config,
            handler,
            serialize,
            connections: tokio::sync::Mutex::new(HashMap::new()),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
        }
    }

    /// The open connection to `addr`, connecting if there is none.
    ///
    /// # Errors
    /// [`RemotingError::Connect`], [`RemotingError::ConnectTimeout`].
    pub async fn connection(&self, addr: &str) -> Result<Arc<Connection>, RemotingError> {
        let mut connections = self.connections.lock().await;
        if let Some(existing) = connections.get(addr).filter(|c| !c.is_closed()) {
            return Ok(existing.clone());
        }
        let timeout = self.config.connect_timeout;
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(source)) => {
                return Err(RemotingError::Connect {
                    addr: addr.to_owned(),
                    source,
                });
            }
            Err(_) => {
                return Err(RemotingError::ConnectTimeout {
                    addr: addr.to_owned(),
                    millis: timeout.as_millis() as u64,
                });
            }
        };
        let connection = Connection::spawn(Spawn {
            stream,
            handler: self.handler.clone(),
            config: &self.config,
            tracker: &self.tracker,
            parent: &self.cancel,
            serialize: self.serialize,
            permit: None,
        })?;
        connections.insert(addr.to_owned(), connection.clone());
        Ok(connection)
    }

    /// Sends `request` to `addr` and waits up to `timeout` for the response.
    ///
    /// # Errors
    /// Connection errors, [`RemotingError::Timeout`], [`RemotingError::ConnectionClosed`].
    pub async fn invoke(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        self.connection(addr).await?.request(request, timeout).await
    }

    /// Sends `request` to `addr` as oneway: no response is expected.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn invoke_oneway(
        &self,
        addr: &str,
        request: RemotingCommand,
    ) -> Result<(), RemotingError> {
        self.connection(addr).await?.oneway(request).await
    }

    /// Closes every connection and waits for their tasks.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.connections.lock().await.clear();
        self.tracker.close();
        self.tracker.wait().await;
    }
}
