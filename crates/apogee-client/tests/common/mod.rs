//! A real name server and broker on 127.0.0.1 (ephemeral ports, a temporary store) for the
//! SDK's integration tests, and helpers to create topics and wait for conditions.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_broker::{Broker, BrokerConfig};
use apogee_client::{ClientConfig, ClientInstance, Message, SendResponse, TopicRoute};
use apogee_namesrv::{NameServer, NamesrvConfig};
use apogee_protocol::header::{
    CreateTopicRequestHeader, PermName, SendMessageRequestHeader, TopicFilterType,
};
use apogee_store::StoreConfig;
use tempfile::TempDir;

/// How long any test condition may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// A name server and one or more brokers.
pub struct TestCluster {
    /// The name server.
    pub namesrv: NameServer,
    /// The brokers, in start order.
    pub brokers: Vec<Broker>,
    /// Their store directories.
    pub dirs: Vec<TempDir>,
    /// Applied to every broker's settings before it starts.
    pub configure: fn(&mut BrokerConfig),
}

/// A small store: 1 MiB segments, 64 KiB messages.
pub fn small_store(dir: &std::path::Path) -> StoreConfig {
    let mut store = StoreConfig::with_root(dir);
    // The host disk is shared: never refuse writes because of its fill level.
    store.disk_max_used_space_ratio = 99;
    store.mapped_file_size_commit_log = 1 << 20;
    store.max_message_size = 64 * 1024;
    store
}

impl TestCluster {
    /// A name server and `brokers` brokers named `broker-a`, `broker-b`, ...
    pub async fn start(brokers: usize) -> Self {
        Self::start_with(brokers, |_| {}).await
    }

    /// As [`TestCluster::start`], with `configure` applied to every broker's settings.
    pub async fn start_with(brokers: usize, configure: fn(&mut BrokerConfig)) -> Self {
        let namesrv = NameServer::start(NamesrvConfig {
            listen_port: 0,
            listen_addr: "127.0.0.1".into(),
            ..NamesrvConfig::default()
        })
        .await
        .expect("name server starts");
        let mut cluster = Self {
            namesrv,
            brokers: Vec::new(),
            dirs: Vec::new(),
            configure,
        };
        for i in 0..brokers {
            cluster.add_broker(i).await;
        }
        cluster
    }

    /// The name of broker `i`.
    pub fn broker_name(i: usize) -> String {
        format!("broker-{}", (b'a' + i as u8) as char)
    }

    /// Starts broker `i` with a fresh store.
    pub async fn add_broker(&mut self, i: usize) {
        let dir = tempfile::tempdir().expect("tempdir");
        let broker = self.start_broker(i, dir.path()).await;
        self.brokers.push(broker);
        self.dirs.push(dir);
    }

    /// Starts broker `i` over the store in `dir`.
    pub async fn start_broker(&self, i: usize, dir: &std::path::Path) -> Broker {
        let mut config = BrokerConfig {
            listen_port: 0,
            broker_name: Self::broker_name(i),
            namesrv_addr: Some(self.namesrv_addr()),
            ..BrokerConfig::default()
        };
        (self.configure)(&mut config);
        Broker::start(config, small_store(dir))
            .await
            .expect("broker starts")
    }

    /// The name server's address.
    pub fn namesrv_addr(&self) -> String {
        self.namesrv.local_addr().to_string()
    }

    /// Client settings pointing at this cluster's name server.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::with_namesrv(&self.namesrv_addr())
    }

    /// A client instance pointing at this cluster.
    pub fn instance(&self) -> Arc<ClientInstance> {
        ClientInstance::start(self.client_config())
    }

    /// Creates `topic` with `queues` read and write queues on every broker, and waits until
    /// the name server routes all of them.
    pub async fn create_topic(&self, topic: &str, queues: i32) -> Arc<TopicRoute> {
        let instance = self.instance();
        let header = CreateTopicRequestHeader {
            topic: topic.to_owned(),
            default_topic: "TBW102".to_owned(),
            read_queue_nums: queues,
            write_queue_nums: queues,
            perm: PermName::READ | PermName::WRITE,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_sys_flag: None,
            order: false,
            attributes: None,
            force: None,
        };
        for broker in &self.brokers {
            instance
                .create_topic_on_broker(&broker.addr().to_string(), &header)
                .await
                .expect("topic created");
        }
        let want = self.brokers.len() * queues as usize;
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(route) = instance.fetch_route(topic).await
                && route.write_queues.len() == want
            {
                instance.shutdown().await;
                return route;
            }
            assert!(Instant::now() < deadline, "route of {topic} never appeared");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Shuts everything down.
    pub async fn shutdown(self) {
        for broker in &self.brokers {
            broker.shutdown().await.expect("broker shuts down cleanly");
        }
        self.namesrv.shutdown().await;
    }
}

/// Polls `condition` every 20 ms until it holds, failing the test after [`WAIT`].
pub async fn wait_until<F: FnMut() -> bool>(what: &str, mut condition: F) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The request header of a raw send of `message` to `queue_id` (producer group `pg`, no
/// sysflag), for tests that send without the SDK's producer.
pub fn send_header(queue_id: i32, message: &Message) -> SendMessageRequestHeader {
    SendMessageRequestHeader {
        producer_group: "pg".to_owned(),
        topic: message.topic.clone(),
        default_topic: "TBW102".to_owned(),
        default_topic_queue_nums: 4,
        queue_id,
        sys_flag: 0,
        born_timestamp: 1,
        flag: message.flag,
        properties: Some(message.encoded_properties()),
        ..SendMessageRequestHeader::default()
    }
}

/// Sends `message` to queue `queue_id` of the broker at `addr` without the producer.
pub async fn send_raw(
    instance: &ClientInstance,
    addr: &str,
    queue_id: i32,
    message: &Message,
) -> SendResponse {
    instance
        .send_message(
            addr,
            &send_header(queue_id, message),
            message.body.clone(),
            WAIT,
        )
        .await
        .expect("send")
}

/// Sends `message` to write queue `index % n` of `route` without the producer.
pub async fn send_round_robin(
    instance: &ClientInstance,
    route: &TopicRoute,
    index: usize,
    message: &Message,
) -> SendResponse {
    let queue = &route.write_queues[index % route.write_queues.len()];
    let addr = route.master_addr(&queue.broker_name).expect("master");
    send_raw(instance, addr, queue.queue_id, message).await
}
