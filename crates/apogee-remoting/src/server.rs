//! The accept loop: one task per listener, a connection limit, and an orderly shutdown that
//! closes every connection and waits for every task.

use std::net::SocketAddr;
use std::sync::Arc;

use apogee_protocol::remoting::SerializeType;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::RemotingConfig;
use crate::connection::{Connection, Spawn};
use crate::error::RemotingError;
use crate::handler::RequestHandler;

/// A listening remoting server.
#[derive(Debug)]
pub struct RemotingServer {
    local_addr: SocketAddr,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl RemotingServer {
    /// Binds `addr` (e.g. `127.0.0.1:0`) and starts accepting connections, each served by
    /// `handler`.
    ///
    /// # Errors
    /// [`RemotingError::Io`] if the address cannot be bound.
    pub async fn bind(
        addr: &str,
        handler: Arc<dyn RequestHandler>,
        config: RemotingConfig,
    ) -> Result<Self, RemotingError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| RemotingError::Io {
                peer: addr.to_owned(),
                source,
            })?;
        Self::from_listener(listener, handler, config)
    }

    /// Serves an already bound listener (when the caller must know the port before it can
    /// build its handler).
    ///
    /// # Errors
    /// [`RemotingError::Io`] if the listener's address cannot be read.
    pub fn from_listener(
        listener: TcpListener,
        handler: Arc<dyn RequestHandler>,
        config: RemotingConfig,
    ) -> Result<Self, RemotingError> {
        let local_addr = listener.local_addr().map_err(|source| RemotingError::Io {
            peer: "listener".to_owned(),
            source,
        })?;
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let accept = Accept {
            listener,
            handler,
            limit: Arc::new(Semaphore::new(config.connections_max)),
            config,
            cancel: cancel.clone(),
            tracker: tracker.clone(),
        };
        tracker.spawn(accept.run());
        tracing::info!(%local_addr, "remoting server listening");
        Ok(Self {
            local_addr,
            cancel,
            tracker,
        })
    }

    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every connection and waits until every task has finished.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

struct Accept {
    listener: TcpListener,
    handler: Arc<dyn RequestHandler>,
    limit: Arc<Semaphore>,
    config: RemotingConfig,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Accept {
    async fn run(self) {
        loop {
            let accepted = tokio::select! {
                () = self.cancel.cancelled() => return,
                accepted = self.listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Running out of descriptors must not end the server: back off briefly.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let Ok(permit) = self.limit.clone().try_acquire_owned() else {
                tracing::warn!(%peer, limit = self.config.connections_max,
                    "connection limit reached; closing new connection");
                drop(stream);
                continue;
            };
            let spawned = Connection::spawn(Spawn {
                stream,
                handler: self.handler.clone(),
                config: &self.config,
                tracker: &self.tracker,
                parent: &self.cancel,
                serialize: SerializeType::Json,
                permit: Some(permit),
            });
            if let Err(e) = spawned {
                tracing::debug!(%peer, error = %e, "connection closed before it started");
            }
        }
    }
}
