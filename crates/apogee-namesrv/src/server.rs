//! The running name server: a remoting server with the name-server processor, plus the task
//! that expires silent brokers.

use std::sync::Arc;
use std::time::Instant;

use apogee_remoting::{RemotingConfig, RemotingError, RemotingServer};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::NamesrvConfig;
use crate::processor::NamesrvProcessor;
use crate::route_table::RouteTable;

/// A running name server.
#[derive(Debug)]
pub struct NameServer {
    server: RemotingServer,
    table: Arc<RouteTable>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl NameServer {
    /// Binds `listenAddr:listenPort` and starts serving and expiring.
    ///
    /// # Errors
    /// If the address cannot be bound.
    pub async fn start(config: NamesrvConfig) -> Result<Self, RemotingError> {
        let table = Arc::new(RouteTable::default());
        let processor = Arc::new(NamesrvProcessor::new(table.clone()));
        let addr = format!("{}:{}", config.listen_addr, config.listen_port);
        let server = RemotingServer::bind(&addr, processor, RemotingConfig::default()).await?;
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (scan_table, scan_cancel, period) =
            (table.clone(), cancel.clone(), config.scan_interval());
        tracker.spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tokio::select! {
                    () = scan_cancel.cancelled() => return,
                    _ = tick.tick() => { scan_table.expire(Instant::now()); }
                }
            }
        });
        tracing::info!(addr = %server.local_addr(), "name server started");
        Ok(Self {
            server,
            table,
            cancel,
            tracker,
        })
    }

    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }

    /// The route table (for embedding and tests).
    #[must_use]
    pub fn table(&self) -> &Arc<RouteTable> {
        &self.table
    }

    /// Stops serving and waits for every task.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        self.server.shutdown().await;
    }
}
