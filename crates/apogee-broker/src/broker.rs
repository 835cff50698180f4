//! The running broker: the store, the remoting listeners (main and fast port), registration
//! with the name servers, and the periodic work (offset persistence, client expiry).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_protocol::body::{self, RegisterBrokerBody};
use apogee_protocol::header::{
    CommandHeader, RegisterBrokerRequestHeader, UnregisterBrokerRequestHeader,
};
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::{NoRequests, RemotingClient, RemotingConfig, RemotingServer};
use apogee_store::{MessageStore, StoreConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::client_registry::ClientRegistry;
use crate::config::BrokerConfig;
use crate::consumer_offset::ConsumerOffsets;
use crate::context::BrokerContext;
use crate::error::BrokerError;
use crate::json_file::JsonFile;
use crate::processor::BrokerProcessor;
use crate::topic_config::TopicTable;

/// How long one registration request may take.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(3);
/// How often silent clients are looked for (RocketMQ's housekeeping period).
const CLIENT_SCAN_INTERVAL: Duration = Duration::from_secs(10);

/// A running broker.
pub struct Broker {
    ctx: Arc<BrokerContext>,
    servers: Vec<RemotingServer>,
    namesrv: Arc<RemotingClient>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("addr", &self.ctx.store_host)
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// Opens the store (recovering it), binds `listenPort` (and `listenPort - 2`, the fast
    /// port old clients use; not when `listenPort` is 0, which picks any free port for tests)
    /// and starts registering with the name servers.
    ///
    /// # Errors
    /// Invalid configuration, a store that cannot open, a port that cannot be bound.
    pub async fn start(
        config: BrokerConfig,
        store_config: StoreConfig,
    ) -> Result<Self, BrokerError> {
        if config.listen_port != 0 {
            config.validate()?;
        }
        let root = store_config.store_path_root_dir.clone();
        let store = tokio::task::spawn_blocking(move || MessageStore::open(store_config))
            .await
            .map_err(|e| BrokerError::Metadata {
                op: "open",
                path: root.clone(),
                reason: e.to_string(),
            })??;
        let topics = TopicTable::load(
            JsonFile::new(root.join("config/topics.json")),
            config.auto_create_topic_enable,
        )?;
        let offsets =
            ConsumerOffsets::load(JsonFile::new(root.join("config/consumerOffset.json")))?;
        let clients = ClientRegistry::new(Duration::from_millis(config.channel_expired_timeout));
        let listeners = bind(&config).await?;
        let port = listeners[0]
            .local_addr()
            .map_or(config.listen_port, |a| a.port());
        let ip: std::net::IpAddr = config
            .broker_ip1
            .parse()
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        let ctx = Arc::new(BrokerContext {
            config,
            store: Arc::new(store),
            topics,
            offsets,
            clients,
            store_host: SocketAddr::new(ip, port),
        });
        let mut servers = Vec::new();
        for listener in listeners {
            let handler = Arc::new(BrokerProcessor::new(ctx.clone()));
            servers.push(RemotingServer::from_listener(
                listener,
                handler,
                ctx.config.remoting_config(),
            )?);
        }
        let broker = Self {
            namesrv: Arc::new(RemotingClient::new(
                RemotingConfig::default(),
                Arc::new(NoRequests),
            )),
            ctx,
            servers,
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
        };
        broker.spawn_background();
        tracing::info!(addr = %broker.ctx.store_host, "broker started");
        Ok(broker)
    }

    /// The broker's address as registered (`brokerIP1:listenPort`).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.ctx.store_host
    }

    /// The shared broker state.
    #[must_use]
    pub fn context(&self) -> &Arc<BrokerContext> {
        &self.ctx
    }

    fn spawn_background(&self) {
        let (ctx, client, cancel) = (self.ctx.clone(), self.namesrv.clone(), self.cancel.clone());
        self.tracker.spawn(async move {
            loop {
                register_all(&ctx, &client).await;
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(ctx.config.register_period()) => {}
                    () = ctx.topics.changed().notified() => {}
                }
            }
        });
        let (ctx, cancel) = (self.ctx.clone(), self.cancel.clone());
        self.tracker.spawn(async move {
            let period = Duration::from_millis(ctx.config.flush_consumer_offset_interval.max(100));
            let mut offsets = tokio::time::interval(period);
            let mut clients = tokio::time::interval(CLIENT_SCAN_INTERVAL);
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    _ = offsets.tick() => {
                        if let Err(e) = ctx.offsets.persist() {
                            tracing::error!(error = %e, "persisting consumer offsets failed");
                        }
                    }
                    _ = clients.tick() => ctx.clients.expire(Instant::now()),
                }
            }
        });
    }

    /// Unregisters from the name servers, stops serving, persists offsets and shuts the
    /// store down cleanly.
    ///
    /// # Errors
    /// If the final offset write or the store's shutdown fails.
    pub async fn shutdown(&self) -> Result<(), BrokerError> {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        unregister_all(&self.ctx, &self.namesrv).await;
        self.namesrv.shutdown().await;
        for server in &self.servers {
            server.shutdown().await;
        }
        self.ctx.offsets.persist()?;
        let store = self.ctx.store.clone();
        tokio::task::spawn_blocking(move || store.shutdown())
            .await
            .map_err(|e| BrokerError::Metadata {
                op: "shut down",
                path: self.ctx.store.config().store_path_root_dir.clone(),
                reason: e.to_string(),
            })??;
        tracing::info!(addr = %self.ctx.store_host, "broker stopped");
        Ok(())
    }
}

/// Binds `listenPort` and, for a fixed port, the fast port `listenPort - 2`.
async fn bind(config: &BrokerConfig) -> Result<Vec<TcpListener>, BrokerError> {
    let mut ports = vec![config.listen_port];
    if config.listen_port != 0 {
        ports.push(config.fast_listen_port());
    }
    let mut listeners = Vec::new();
    for port in ports {
        let addr = format!("0.0.0.0:{port}");
        let listener = TcpListener::bind(&addr).await.map_err(|source| {
            apogee_remoting::RemotingError::Io {
                peer: addr.clone(),
                source,
            }
        })?;
        listeners.push(listener);
    }
    Ok(listeners)
}

fn namesrv_addrs(ctx: &BrokerContext) -> Vec<String> {
    ctx.config
        .namesrv_addr
        .as_deref()
        .unwrap_or("")
        .split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn register_all(ctx: &BrokerContext, client: &RemotingClient) {
    let body = body::encode(&RegisterBrokerBody {
        topic_config_serialize_wrapper: ctx.topics.snapshot(),
        ..RegisterBrokerBody::default()
    });
    let header = RegisterBrokerRequestHeader {
        broker_name: ctx.config.broker_name.clone(),
        broker_addr: ctx.broker_addr(),
        cluster_name: ctx.config.broker_cluster_name.clone(),
        ha_server_addr: format!(
            "{}:{}",
            ctx.store_host.ip(),
            ctx.store_host.port().saturating_add(1)
        ),
        broker_id: ctx.config.broker_id as i64,
        compressed: Some(false),
        body_crc32: Some((crc32fast::hash(&body) & 0x7FFF_FFFF) as i32),
        ..RegisterBrokerRequestHeader::default()
    };
    for addr in namesrv_addrs(ctx) {
        let req = RemotingCommand::request(request::REGISTER_BROKER, header.to_ext())
            .with_body(body.clone());
        match client.invoke(&addr, req, REGISTER_TIMEOUT).await {
            Ok(r) if r.code == response::SUCCESS => tracing::debug!(namesrv = %addr, "registered"),
            Ok(r) => {
                tracing::warn!(namesrv = %addr, code = r.code, remark = ?r.remark, "registration refused")
            }
            Err(e) => tracing::warn!(namesrv = %addr, error = %e, "registration failed"),
        }
    }
}

async fn unregister_all(ctx: &BrokerContext, client: &RemotingClient) {
    let header = UnregisterBrokerRequestHeader {
        broker_name: ctx.config.broker_name.clone(),
        broker_addr: ctx.broker_addr(),
        cluster_name: ctx.config.broker_cluster_name.clone(),
        broker_id: ctx.config.broker_id as i64,
    };
    for addr in namesrv_addrs(ctx) {
        let req = RemotingCommand::request(request::UNREGISTER_BROKER, header.to_ext());
        if let Err(e) = client.invoke(&addr, req, REGISTER_TIMEOUT).await {
            tracing::warn!(namesrv = %addr, error = %e, "unregistration failed");
        }
    }
}
