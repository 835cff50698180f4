//! [`ClientInstance`]: what every producer, consumer and admin client of one process shares
//! (RocketMQ's `MQClientInstance`): the connections, the name-server list, the topic-route
//! cache, the broker address table, the registered groups, and the background tasks that
//! refresh routes and send heartbeats.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use apogee_protocol::body::{self, TopicRouteData};
use apogee_protocol::header::{CommandHeader, GetRouteInfoRequestHeader};
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::{RemotingClient, RemotingCommand};
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use crate::config::ClientConfig;
use crate::error::ClientError;
use crate::members::{Members, ServerRequests};
use crate::route::TopicRoute;

/// Numbers the instances of this process, so two clients never share a client id.
static INSTANCE_SEQ: AtomicU64 = AtomicU64::new(0);

/// The shared client runtime. Create one with [`ClientInstance::start`]; producers, consumers
/// and admin clients take an `Arc` of it.
pub struct ClientInstance {
    config: ClientConfig,
    client_id: String,
    remoting: RemotingClient,
    /// Index into `config.namesrv_addr` of the name server tried first; moves on a failure.
    namesrv_cursor: AtomicUsize,
    routes: RwLock<HashMap<String, Arc<TopicRoute>>>,
    /// Broker name → broker id → address, merged from every route seen.
    pub(crate) brokers: RwLock<BTreeMap<String, BTreeMap<i64, String>>>,
    pub(crate) members: Arc<Members>,
    cancel: CancellationToken,
    tracker: TaskTracker,
    shut_down: AtomicBool,
}

impl std::fmt::Debug for ClientInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInstance")
            .field("client_id", &self.client_id)
            .field("namesrv_addr", &self.config.namesrv_addr)
            .finish_non_exhaustive()
    }
}

impl ClientInstance {
    /// Starts an instance: no connection is made until the first request, and the route
    /// refresh and heartbeat tasks start at once. Must be called inside a tokio runtime.
    ///
    /// An `instanceName` of `DEFAULT` becomes `<pid>#<n>` so that every instance of a process
    /// has its own client id, as RocketMQ's `changeInstanceNameToPID` ensures.
    #[must_use]
    pub fn start(mut config: ClientConfig) -> Arc<Self> {
        if config.instance_name == "DEFAULT" {
            let seq = INSTANCE_SEQ.fetch_add(1, Ordering::Relaxed);
            config.instance_name = format!("{}#{seq}", std::process::id());
        }
        let members = Arc::new(Members::default());
        let remoting = RemotingClient::with_serialize(
            config.remoting.clone(),
            Arc::new(ServerRequests::new(members.clone())),
            config.serialize_type,
        );
        let instance = Arc::new(Self {
            client_id: config.client_id(),
            config,
            remoting,
            namesrv_cursor: AtomicUsize::new(0),
            routes: RwLock::new(HashMap::new()),
            brokers: RwLock::new(BTreeMap::new()),
            members,
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            shut_down: AtomicBool::new(false),
        });
        instance.spawn_background();
        instance
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// This client's id, `ip@instanceName`.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// A token cancelled when the instance shuts down, for members' own tasks.
    #[must_use]
    pub fn cancelled(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Tracks a member's background task so that [`ClientInstance::shutdown`] waits for it.
    pub fn spawn<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    // ----- transport -----

    /// Sends `request` to `addr` and returns the response, whatever its code.
    ///
    /// # Errors
    /// [`ClientError::Remoting`] when the request or its answer is lost or late.
    pub async fn invoke(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, ClientError> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(ClientError::ShutDown);
        }
        self.remoting
            .invoke(addr, request, timeout)
            .await
            .map_err(|source| ClientError::Remoting {
                addr: addr.to_owned(),
                source,
            })
    }

    /// As [`ClientInstance::invoke`], but a response code other than SUCCESS is an error.
    ///
    /// # Errors
    /// As [`ClientInstance::invoke`], and [`ClientError::Refused`].
    pub async fn invoke_ok(
        &self,
        addr: &str,
        request: RemotingCommand,
    ) -> Result<RemotingCommand, ClientError> {
        let response = self
            .invoke(addr, request, self.config.request_timeout)
            .await?;
        expect_code(addr, response, &[response::SUCCESS])
    }

    /// Sends `request` to `addr` without waiting for an answer.
    ///
    /// # Errors
    /// [`ClientError::Remoting`] when it cannot be sent.
    pub async fn invoke_oneway(
        &self,
        addr: &str,
        request: RemotingCommand,
    ) -> Result<(), ClientError> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(ClientError::ShutDown);
        }
        self.remoting
            .invoke_oneway(addr, request)
            .await
            .map_err(|source| ClientError::Remoting {
                addr: addr.to_owned(),
                source,
            })
    }

    /// Sends `request` to the name servers, one after another from the last one that
    /// answered, until one answers (with any code).
    ///
    /// # Errors
    /// [`ClientError::NoNameServer`], [`ClientError::NameServerUnreachable`].
    pub async fn invoke_namesrv(
        &self,
        request: RemotingCommand,
    ) -> Result<(String, RemotingCommand), ClientError> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(ClientError::ShutDown);
        }
        let addrs = &self.config.namesrv_addr;
        if addrs.is_empty() {
            return Err(ClientError::NoNameServer);
        }
        let start = self.namesrv_cursor.load(Ordering::Relaxed);
        let mut last = None;
        for i in 0..addrs.len() {
            let index = (start + i) % addrs.len();
            let addr = &addrs[index];
            match self
                .remoting
                .invoke(addr, request.clone(), self.config.request_timeout)
                .await
            {
                Ok(response) => {
                    self.namesrv_cursor.store(index, Ordering::Relaxed);
                    return Ok((addr.clone(), response));
                }
                Err(error) => {
                    debug!(%addr, %error, "name server did not answer");
                    last = Some(error);
                }
            }
        }
        match last {
            Some(source) => Err(ClientError::NameServerUnreachable {
                tried: addrs.join(", "),
                source,
            }),
            None => Err(ClientError::NoNameServer),
        }
    }

    // ----- routes -----

    /// Asks the name servers for `topic`'s route, caches it, and learns its brokers.
    ///
    /// # Errors
    /// [`ClientError::TopicNotExist`] when no broker serves the topic; name-server errors.
    pub async fn fetch_route(&self, topic: &str) -> Result<Arc<TopicRoute>, ClientError> {
        let data = self.fetch_route_data(topic).await?;
        let route = Arc::new(TopicRoute::from_data(topic, data));
        {
            let mut brokers = self.brokers.write();
            for (name, addrs) in &route.brokers {
                brokers.insert(name.clone(), addrs.clone());
            }
        }
        self.routes.write().insert(topic.to_owned(), route.clone());
        Ok(route)
    }

    /// The raw route of `topic` from the name servers, without caching it.
    ///
    /// # Errors
    /// As [`ClientInstance::fetch_route`].
    pub async fn fetch_route_data(&self, topic: &str) -> Result<TopicRouteData, ClientError> {
        let header = GetRouteInfoRequestHeader {
            topic: topic.to_owned(),
            accept_standard_json_only: None,
        };
        let request = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC, header.to_ext());
        let (addr, response) = self.invoke_namesrv(request).await?;
        match response.code {
            response::SUCCESS => {
                body::decode(&response.body).map_err(|e| ClientError::bad_body(&addr, &e))
            }
            response::TOPIC_NOT_EXIST => Err(ClientError::TopicNotExist {
                topic: topic.to_owned(),
            }),
            code => Err(refused(&addr, code, response.remark)),
        }
    }

    /// The cached route of `topic`, fetching it on first use.
    ///
    /// # Errors
    /// As [`ClientInstance::fetch_route`].
    pub async fn route(&self, topic: &str) -> Result<Arc<TopicRoute>, ClientError> {
        if let Some(route) = self.cached_route(topic) {
            return Ok(route);
        }
        self.fetch_route(topic).await
    }

    /// The cached route of `topic`, if any.
    #[must_use]
    pub fn cached_route(&self, topic: &str) -> Option<Arc<TopicRoute>> {
        self.routes.read().get(topic).cloned()
    }

    /// The master address of `broker_name`, from any route seen so far.
    #[must_use]
    pub fn master_addr(&self, broker_name: &str) -> Option<String> {
        self.brokers
            .read()
            .get(broker_name)
            .and_then(|addrs| addrs.get(&0))
            .cloned()
    }

    /// Every broker address known, masters and slaves.
    #[must_use]
    pub fn all_broker_addrs(&self) -> BTreeSet<String> {
        self.brokers
            .read()
            .values()
            .flat_map(|addrs| addrs.values().cloned())
            .collect()
    }

    /// Refreshes every cached route and every route a member subscribes to; a topic that
    /// vanished keeps its last route, as RocketMQ clients do.
    pub async fn refresh_routes(&self) {
        let mut topics: BTreeSet<String> = self.routes.read().keys().cloned().collect();
        topics.extend(self.members.subscribed_topics());
        for topic in topics {
            if let Err(error) = self.fetch_route(&topic).await {
                debug!(%topic, %error, "route refresh failed");
            }
        }
    }

    // ----- lifecycle -----

    fn spawn_background(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let cancel = self.cancel.clone();
        let routes_every = self.config.poll_name_server_interval;
        self.tracker.spawn(async move {
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(routes_every) => {}
                }
                let Some(instance) = weak.upgrade() else {
                    return;
                };
                instance.refresh_routes().await;
            }
        });
        let weak = Arc::downgrade(self);
        let cancel = self.cancel.clone();
        let heartbeat_every = self.config.heartbeat_broker_interval;
        self.tracker.spawn(async move {
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(heartbeat_every) => {}
                }
                let Some(instance) = weak.upgrade() else {
                    return;
                };
                instance.send_heartbeat_to_all_brokers().await;
            }
        });
    }

    /// Stops the background tasks (waiting for members' tasks), then closes every
    /// connection. Members should unregister themselves first.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        self.shut_down.store(true, Ordering::Release);
        self.remoting.shutdown().await;
    }
}

impl Drop for ClientInstance {
    fn drop(&mut self) {
        if !self.cancel.is_cancelled() {
            warn!(client_id = %self.client_id, "client instance dropped without shutdown");
            self.cancel.cancel();
        }
    }
}

/// `response` if its code is one of `accepted`, else [`ClientError::Refused`].
///
/// # Errors
/// [`ClientError::Refused`] with the response's code and remark.
pub fn expect_code(
    addr: &str,
    response: RemotingCommand,
    accepted: &[i32],
) -> Result<RemotingCommand, ClientError> {
    if accepted.contains(&response.code) {
        Ok(response)
    } else {
        Err(refused(addr, response.code, response.remark))
    }
}

/// A [`ClientError::Refused`] for a response code and remark.
pub(crate) fn refused(addr: &str, code: i32, remark: Option<String>) -> ClientError {
    ClientError::Refused {
        addr: addr.to_owned(),
        code,
        remark: remark.unwrap_or_default(),
    }
}
