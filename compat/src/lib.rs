//! Wire-compatibility harness: an in-process Apogee (name server + broker on 127.0.0.1, store
//! in a temporary directory) and the crates.io `rocketmq-client-rust` client's runtime.
//!
//! The tests in `tests/` drive the real client against the real broker over sockets and then
//! look at what reached the broker directly (its store and its committed offsets).
//!
//! Logging (the client's and Apogee's, through the client's subscriber) goes to stderr; it is
//! [`DEFAULT_LOG`] unless `APOGEE_COMPAT_LOG` gives an `EnvFilter` expression such as
//! `warn` or `info,rocketmq_client_rust=debug`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_broker::{Broker, BrokerConfig};
use apogee_namesrv::{NameServer, NamesrvConfig};
use apogee_protocol::message::{properties, record};
use apogee_store::StoreConfig;
use rocketmq_client_rust::{
    ClientError, ClientResult, ClientRuntime, ClientRuntimeConfig, ConsumeConcurrentlyContext,
    ConsumeConcurrentlyStatus, ConsumeOrderlyContext, ConsumeOrderlyStatus, DefaultMQProducer,
    MessageListenerConcurrently, MessageListenerOrderly,
};
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_runtime::{RuntimeConfig, RuntimeOwner};

/// Log filter (client and Apogee) when `APOGEE_COMPAT_LOG` is not set: errors only, since the
/// subscriber writes straight to stderr, past the test harness's capture. For a diagnosis,
/// `APOGEE_COMPAT_LOG=warn` or `=info,rocketmq_runtime=error` (the runtime's leak reports are
/// long and say nothing about the wire).
pub const DEFAULT_LOG: &str = "error";

/// The topic whose route producers use for topics that do not exist yet.
pub const AUTO_CREATE_TOPIC: &str = "TBW102";

/// How long any condition in these tests may take to become true.
pub const WAIT: Duration = Duration::from_secs(30);

/// A name server and one broker, in process, on 127.0.0.1 with ephemeral ports.
pub struct Apogee {
    /// The name server.
    pub namesrv: NameServer,
    /// The broker (`broker.context()` gives its store, topics and offsets).
    pub broker: Broker,
    /// The store's directory: removed after a clean [`Apogee::shutdown`], kept (and named on
    /// stderr) when a failing test drops the cluster, for a post-mortem.
    dir: Option<tempfile::TempDir>,
}

impl Apogee {
    /// Starts a name server, then a broker registered with it.
    pub async fn start() -> Self {
        let namesrv = NameServer::start(NamesrvConfig {
            listen_port: 0,
            listen_addr: "127.0.0.1".into(),
            ..NamesrvConfig::default()
        })
        .await
        .expect("name server starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let broker = Broker::start(
            BrokerConfig {
                listen_port: 0,
                namesrv_addr: Some(namesrv.local_addr().to_string()),
                ..BrokerConfig::default()
            },
            test_store_config(dir.path()),
        )
        .await
        .expect("broker starts");
        // Registration runs in the background; a producer that looks up TBW102 before it
        // lands gets "No route info of this topic" (the client's CORE_ARGUMENT_INVALID).
        let table = namesrv.table().clone();
        wait_until("the broker's registration with the name server", || {
            let registered = table.route(AUTO_CREATE_TOPIC).is_some();
            async move { registered }
        })
        .await;
        Self {
            namesrv,
            broker,
            dir: Some(dir),
        }
    }

    /// `host:port` of the name server, as clients are configured with it.
    pub fn namesrv_addr(&self) -> String {
        self.namesrv.local_addr().to_string()
    }

    /// The broker's store directory.
    pub fn store_dir(&self) -> &std::path::Path {
        self.dir.as_ref().expect("store directory").path()
    }

    /// Waits until the store's dispatcher has indexed everything written so far.
    pub async fn wait_dispatched(&self) {
        let store = self.broker.context().store.clone();
        wait_until("the store's dispatcher to catch up", || {
            let p = store.positions();
            async move { p.dispatched == p.published }
        })
        .await;
    }

    /// Every message of `topic` in the store, ordered by queue and queue offset.
    pub async fn stored(&self, topic: &str) -> Vec<StoredMsg> {
        self.wait_dispatched().await;
        let store = &self.broker.context().store;
        let mut out = Vec::new();
        for queue_id in store.queue_ids(topic) {
            let mut offset = store.min_offset(topic, queue_id);
            let max = store.max_offset(topic, queue_id);
            while offset < max {
                let got = store
                    .get_messages(topic, queue_id, offset, 32, 1 << 20, &|_| true)
                    .expect("store read");
                if got.messages.is_empty() {
                    break;
                }
                for m in &got.messages {
                    out.push(StoredMsg::decode(&m.bytes));
                }
                offset = got.next_begin_offset;
            }
        }
        out
    }

    /// The offsets `group` has committed on `topic`, by queue id.
    pub fn committed(&self, group: &str, topic: &str) -> BTreeMap<i32, u64> {
        self.broker.context().offsets.offsets(group, topic)
    }

    /// The maximum (next to be written) offset of every queue of `topic`, by queue id.
    pub fn max_offsets(&self, topic: &str) -> BTreeMap<i32, u64> {
        let store = &self.broker.context().store;
        store
            .queue_ids(topic)
            .into_iter()
            .map(|q| (q, store.max_offset(topic, q)))
            .collect()
    }

    /// Stops the broker, then the name server, and removes the store directory.
    pub async fn shutdown(mut self) {
        self.broker.shutdown().await.expect("broker shutdown");
        self.namesrv.shutdown().await;
        drop(self.dir.take());
    }
}

impl Drop for Apogee {
    fn drop(&mut self) {
        // Not shut down: a test failed. The broker's tasks still hold the store and close it
        // later, so its directory must outlive this value.
        if let Some(dir) = self.dir.take() {
            eprintln!("apogee-compat: store kept at {}", dir.keep().display());
        }
    }
}

/// A store small enough for many brokers at once. The defaults allocate a 1 GiB commit-log
/// segment and a 400 MB index file up front (really allocated, not sparse), so a dozen tests in
/// parallel take ~17 GB, and the store refuses writes (SERVICE_NOT_AVAILABLE) once the disk
/// passes `diskMaxUsedSpaceRatio` (75 %), which a shared CI disk may already be near.
pub fn test_store_config(root: &std::path::Path) -> StoreConfig {
    let mut config = StoreConfig::with_root(root);
    // The host disk is shared: never refuse writes because of its fill level.
    config.disk_max_used_space_ratio = 99;
    config.mapped_file_size_commit_log = 32 << 20;
    config.mapped_file_size_consume_queue = 20 * 20_000;
    config.max_hash_slot_num = 10_000;
    config.max_index_num = 40_000;
    config.disk_max_used_space_ratio = 95;
    config
}

/// One stored record, decoded with Apogee's own codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMsg {
    /// TOPIC.
    pub topic: String,
    /// QUEUEID.
    pub queue_id: i32,
    /// QUEUEOFFSET.
    pub queue_offset: i64,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// FLAG.
    pub flag: i32,
    /// BODY.
    pub body: Vec<u8>,
    /// PROPERTIES, decoded.
    pub properties: BTreeMap<String, String>,
}

impl StoredMsg {
    fn decode(bytes: &[u8]) -> Self {
        let view = record::decode(bytes).expect("stored record decodes");
        Self {
            topic: view.topic.to_owned(),
            queue_id: view.queue_id,
            queue_offset: view.queue_offset,
            sys_flag: view.sys_flag,
            flag: view.flag,
            body: view.body.to_vec(),
            properties: properties::iter(view.properties)
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// A property by name.
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }

    /// The body as UTF-8.
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The client's runtime, as its examples set it up: a [`RuntimeOwner`] (its own Tokio
/// runtime), telemetry (logging), and the [`ClientRuntime`] every producer and consumer is
/// built from.
pub struct ClientEnv {
    owner: RuntimeOwner,
    runtime: Arc<ClientRuntime>,
    telemetry: rocketmq_observability::TelemetryRuntimeGuard,
}

impl ClientEnv {
    /// A fresh client runtime; `scope` names its threads.
    pub fn new(scope: &str) -> Self {
        let owner = RuntimeOwner::plan(RuntimeConfig {
            thread_name: format!("compat-{scope}"),
            ..RuntimeConfig::default()
        })
        .expect("runtime configuration is valid")
        .build()
        .expect("client runtime owner");
        let mut config = rocketmq_observability::TelemetryBootstrapConfig::default();
        config.logging.filter =
            std::env::var("APOGEE_COMPAT_LOG").unwrap_or_else(|_| DEFAULT_LOG.to_owned());
        config.logging.console.ansi = false;
        // A second install in the same process keeps the first subscriber (best effort).
        let telemetry = rocketmq_observability::install_global(&config).expect("client telemetry");
        let runtime = ClientRuntime::try_new(
            owner.root_context().component("client"),
            ClientRuntimeConfig::default(),
            telemetry.handle(),
        )
        .expect("client runtime");
        Self {
            owner,
            runtime,
            telemetry,
        }
    }

    /// The runtime producers and consumers are built from.
    pub fn runtime(&self) -> Arc<ClientRuntime> {
        Arc::clone(&self.runtime)
    }

    /// Shuts the client runtime down; returns the reports that were not healthy.
    pub async fn shutdown(self) -> Vec<String> {
        let mut unhealthy = Vec::new();
        let report = self.runtime.shutdown().await;
        if !report.is_healthy() {
            unhealthy.push(report.to_json().to_string());
        }
        let report = self.owner.shutdown_tasks().await;
        if !report.is_healthy() {
            unhealthy.push(report.to_json().to_string());
        }
        let report = self.owner.shutdown_background();
        if !report.is_healthy() {
            unhealthy.push(report.to_json().to_string());
        }
        let report = self.telemetry.shutdown();
        if !report.is_healthy() {
            unhealthy.push(report.to_json().to_string());
        }
        unhealthy
    }
}

/// Polls `cond` every 50 ms until it is true; panics naming `what` after [`WAIT`].
pub async fn wait_until<F, Fut>(what: &str, cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_until_for(WAIT, what, cond).await;
}

/// Polls `cond` every 50 ms until it is true; panics naming `what` after `limit`.
pub async fn wait_until_for<F, Fut>(limit: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if cond().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client error with what the client kept of the broker's answer (its response code and
/// address; the client redacts the remark).
pub fn describe(e: &ClientError) -> String {
    match e.shared_error().diagnostic_view() {
        Ok(view) => format!(
            "{e} [broker code {:?}, broker {:?}] {view:?}",
            e.broker_response_code(),
            e.broker_addr()
        ),
        Err(_) => format!("{e} [broker code {:?}]", e.broker_response_code()),
    }
}

/// A started producer of group `group` pointed at `apogee`'s name server.
pub async fn start_producer(env: &ClientEnv, apogee: &Apogee, group: &str) -> DefaultMQProducer {
    let mut producer = DefaultMQProducer::builder(env.runtime())
        .producer_group(group.to_owned())
        .name_server_addr(apogee.namesrv_addr())
        .send_msg_timeout(5_000)
        .build();
    producer
        .start()
        .await
        .unwrap_or_else(|e| panic!("producer {group} starts: {}", describe(&e)));
    producer
}

/// The tag of test message `i`: `TagA` for even `i`, `TagB` for odd.
pub fn tag_of(i: usize) -> &'static str {
    if i.is_multiple_of(2) { "TagA" } else { "TagB" }
}

/// Test message `i` of `kind`: body `"{kind} body {i}"`, tag [`tag_of`], keys
/// `"{kind}-key-{i} order-{i}"`, user properties `userProp=value-{i}` and `kind={kind}`.
pub fn test_message(topic: &str, i: usize, kind: &str) -> Message {
    Message::builder()
        .topic(topic)
        .tags(tag_of(i))
        .keys(vec![format!("{kind}-key-{i}"), format!("order-{i}")])
        .body(format!("{kind} body {i}").into_bytes())
        .raw_property("userProp", format!("value-{i}"))
        .expect("user property")
        .raw_property("kind", kind)
        .expect("user property")
        .build_unchecked()
}

/// The index `i` of a test message of `kind`, from its body.
pub fn index_of(body: &[u8], kind: &str) -> Option<usize> {
    std::str::from_utf8(body)
        .ok()?
        .strip_prefix(&format!("{kind} body "))?
        .parse()
        .ok()
}

/// Checks that a message's body, tag, keys and user properties are those of test message
/// `i` of `kind`. `props` holds its properties by name.
pub fn assert_test_message(
    body: &[u8],
    props: &BTreeMap<String, String>,
    i: usize,
    kind: &str,
) -> Result<(), String> {
    let expect = [
        ("TAGS", tag_of(i).to_owned()),
        ("KEYS", format!("{kind}-key-{i} order-{i}")),
        ("userProp", format!("value-{i}")),
        ("kind", kind.to_owned()),
    ];
    if body != format!("{kind} body {i}").as_bytes() {
        return Err(format!(
            "message {i}: body {:?}",
            String::from_utf8_lossy(body)
        ));
    }
    for (name, value) in expect {
        if props.get(name) != Some(&value) {
            return Err(format!(
                "message {i}: property {name} is {:?}, expected {value:?} (all: {props:?})",
                props.get(name)
            ));
        }
    }
    if props.get("UNIQ_KEY").is_none_or(|k| k.is_empty()) {
        return Err(format!("message {i}: no UNIQ_KEY (all: {props:?})"));
    }
    Ok(())
}

/// A message as a push consumer's listener saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Which consumer got it (the [`Collector`]'s name).
    pub consumer: String,
    /// Its topic.
    pub topic: String,
    /// Its queue.
    pub queue_id: i32,
    /// Its offset in the queue.
    pub queue_offset: i64,
    /// The message id the client reports (UNIQ_KEY).
    pub msg_id: String,
    /// How many times it was redelivered.
    pub reconsume_times: i32,
    /// BODY.
    pub body: Vec<u8>,
    /// The properties, by name.
    pub properties: BTreeMap<String, String>,
    /// What `MessageExt::get_tags` says.
    pub tags: Option<String>,
    /// When the listener got it.
    pub at: Instant,
}

impl Received {
    fn from_ext(consumer: &str, m: &MessageExt) -> Self {
        Self {
            consumer: consumer.to_owned(),
            topic: m.topic().to_string(),
            queue_id: m.queue_id(),
            queue_offset: m.queue_offset(),
            msg_id: m.msg_id().to_string(),
            reconsume_times: m.reconsume_times(),
            body: m.body().map(|b| b.to_vec()).unwrap_or_default(),
            properties: m
                .properties()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            tags: m.get_tags().map(|t| t.to_string()),
            at: Instant::now(),
        }
    }
}

/// A listener (concurrent or orderly) that records every message it is given and
/// acknowledges it, or, when made with [`Collector::failing_first`], asks for a first
/// delivery (reconsume times 0) to be retried later.
#[derive(Clone)]
pub struct Collector {
    name: String,
    fail_first: bool,
    fail_always: bool,
    seen: Arc<std::sync::Mutex<Vec<Received>>>,
}

impl Collector {
    /// An empty collector; `name` marks what it records.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            fail_first: false,
            fail_always: false,
            seen: Arc::default(),
        }
    }

    /// A collector that answers RECONSUME_LATER to every delivery.
    pub fn always_failing(name: &str) -> Self {
        Self {
            fail_always: true,
            ..Self::new(name)
        }
    }

    /// A collector that answers RECONSUME_LATER to every first delivery.
    pub fn failing_first(name: &str) -> Self {
        Self {
            fail_first: true,
            ..Self::new(name)
        }
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.seen.lock().expect("collector lock").clone()
    }
}

impl MessageListenerConcurrently for Collector {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _context: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        let mut seen = self.seen.lock().expect("collector lock");
        seen.extend(msgs.iter().map(|m| Received::from_ext(&self.name, m)));
        if self.fail_always || (self.fail_first && msgs.iter().any(|m| m.reconsume_times() == 0)) {
            return Ok(ConsumeConcurrentlyStatus::ReconsumeLater);
        }
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

impl MessageListenerOrderly for Collector {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _context: &mut ConsumeOrderlyContext,
    ) -> ClientResult<ConsumeOrderlyStatus> {
        let mut seen = self.seen.lock().expect("collector lock");
        seen.extend(msgs.iter().map(|m| Received::from_ext(&self.name, m)));
        Ok(ConsumeOrderlyStatus::Success)
    }
}
