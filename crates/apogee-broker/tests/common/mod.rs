//! Helpers for socket tests against a real [`Broker`] on 127.0.0.1: starting one with tweaked
//! settings, request builders, raw-socket frames, and the checks every bad-input test ends
//! with (the stored messages are intact, a well-behaved client still gets a send + pull round
//! trip, no broker task panicked).

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use apogee_broker::{Broker, BrokerConfig, BrokerError};
use apogee_protocol::header::{
    CommandHeader, PullMessageRequestHeader, PullSysFlag, SendMessageRequestHeader,
    SendMessageResponseHeader,
};
use apogee_protocol::message::{properties, record};
use apogee_protocol::remoting::codes::{request, response};
use apogee_protocol::remoting::{BytesMut, FrameDecoder, RemotingCommand, SerializeType, encode};
use apogee_remoting::{NoRequests, RemotingClient, RemotingConfig};
use apogee_store::StoreConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Timeout of one request in these tests.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// `maxMessageSize` of a test broker unless a test changes it.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// Panics seen on tokio worker threads, i.e. in broker tasks (test bodies run on the test
/// thread, so their own failed assertions are not counted).
static WORKER_PANICS: AtomicUsize = AtomicUsize::new(0);
static PANIC_HOOK: Once = Once::new();

fn count_worker_panics() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if thread
                .name()
                .is_some_and(|n| n.starts_with("tokio-runtime-worker"))
            {
                WORKER_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

/// Fails if any broker task has panicked since the test binary started. A panic in a
/// spawned task does not stop the broker, so only this makes it visible.
pub fn assert_no_broker_panics() {
    assert_eq!(
        WORKER_PANICS.load(Ordering::SeqCst),
        0,
        "a broker task panicked (see the captured output)"
    );
}

/// A broker on 127.0.0.1 with its store in a temp dir, and a well-behaved JSON client.
pub struct TestBroker {
    /// The broker.
    pub broker: Broker,
    /// A client for well-behaved requests.
    pub client: RemotingClient,
    _dir: tempfile::TempDir,
}

/// Starts a broker on a free port (no fast port) with 1 MiB commit-log segments and
/// [`MAX_MESSAGE_SIZE`], after `tweak`.
pub async fn start(tweak: impl FnOnce(&mut BrokerConfig, &mut StoreConfig)) -> TestBroker {
    try_start(0, tweak).await.expect("broker starts")
}

/// As [`start`], on `listen_port` (0: any free port, and no fast port).
///
/// # Errors
/// As [`Broker::start`] (e.g. a port already taken).
pub async fn try_start(
    listen_port: u16,
    tweak: impl FnOnce(&mut BrokerConfig, &mut StoreConfig),
) -> Result<TestBroker, BrokerError> {
    count_worker_panics();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = BrokerConfig {
        listen_port,
        ..BrokerConfig::default()
    };
    let mut store = StoreConfig::with_root(dir.path());
    // The host disk is shared: never refuse writes because of its fill level.
    store.disk_max_used_space_ratio = 99;
    store.mapped_file_size_commit_log = 1 << 20;
    store.max_message_size = MAX_MESSAGE_SIZE;
    tweak(&mut config, &mut store);
    let broker = Broker::start(config, store).await?;
    Ok(TestBroker {
        broker,
        client: client(SerializeType::Json),
        _dir: dir,
    })
}

/// A remoting client sending headers as `serialize`.
pub fn client(serialize: SerializeType) -> RemotingClient {
    RemotingClient::with_serialize(
        RemotingConfig::default(),
        std::sync::Arc::new(NoRequests),
        serialize,
    )
}

impl TestBroker {
    /// The main port's address.
    pub fn addr(&self) -> String {
        self.broker.addr().to_string()
    }

    /// Sends `req` with the well-behaved client and returns the answer.
    pub async fn call(&self, req: RemotingCommand) -> RemotingCommand {
        self.client
            .invoke(&self.addr(), req, TIMEOUT)
            .await
            .expect("answer")
    }

    /// End of the last record in the commit log: unchanged means nothing was stored.
    pub fn published(&self) -> u64 {
        self.broker.context().store.positions().published
    }

    /// Waits until the consume queues cover every stored record.
    pub async fn wait_dispatched(&self) {
        let store = &self.broker.context().store;
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let p = store.positions();
            if p.dispatched == p.published {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "dispatcher did not catch up: {p:?}"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Sends `n` messages to queue 0 of `topic` and returns their bodies.
    pub async fn seed(&self, topic: &str, n: usize) -> Vec<Vec<u8>> {
        let mut bodies = Vec::new();
        for i in 0..n {
            let body = format!("seed-{topic}-{i}").into_bytes();
            let sent = self.call(send_v2(topic, 0, &body)).await;
            assert_eq!(sent.code, response::SUCCESS, "{:?}", sent.remark);
            bodies.push(body);
        }
        bodies
    }

    /// Queue 0 of `topic` holds exactly `expected`, in order, byte for byte.
    pub async fn assert_intact(&self, topic: &str, expected: &[Vec<u8>]) {
        self.wait_dispatched().await;
        let pulled = self.call(pull(topic, 0, 0, None)).await;
        assert_eq!(pulled.code, response::SUCCESS, "{:?}", pulled.remark);
        assert_eq!(
            bodies(&pulled.body),
            expected,
            "messages of {topic} changed"
        );
        let store = &self.broker.context().store;
        assert_eq!(store.max_offset(topic, 0), expected.len() as u64);
    }

    /// A fresh client sends a message and pulls it back (a held pull that the message
    /// wakes, so no polling), over `addr`.
    pub async fn round_trip_via(&self, addr: &str, serialize: SerializeType) {
        let client = client(serialize);
        let body = format!("round-trip-{}", rand_suffix()).into_bytes();
        let sent = client
            .invoke(addr, send_v2("RoundTrip", 0, &body), TIMEOUT)
            .await
            .expect("send answered");
        assert_eq!(sent.code, response::SUCCESS, "{:?}", sent.remark);
        let offset = SendMessageResponseHeader::from_ext(&sent.ext_fields)
            .expect("send response header")
            .queue_offset;
        let pulled = client
            .invoke(addr, pull("RoundTrip", 0, offset, Some(3_000)), TIMEOUT)
            .await
            .expect("pull answered");
        assert_eq!(pulled.code, response::SUCCESS, "{:?}", pulled.remark);
        assert_eq!(bodies(&pulled.body).first(), Some(&body));
        client.shutdown().await;
    }

    /// [`TestBroker::round_trip_via`] on the main port with JSON headers.
    pub async fn round_trip(&self) {
        self.round_trip_via(&self.addr(), SerializeType::Json).await;
    }

    /// Stops the client and the broker cleanly, then checks that no broker task panicked.
    pub async fn stop(self) {
        self.client.shutdown().await;
        tokio::time::timeout(TIMEOUT, self.broker.shutdown())
            .await
            .expect("broker shuts down promptly")
            .expect("clean shutdown");
        assert_no_broker_panics();
    }
}

/// A number that differs between calls (test bodies need not be cryptographically unique).
fn rand_suffix() -> u64 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed) as u64
}

/// The send header every test uses, for `topic` and `queue_id`.
pub fn send_header(topic: &str, queue_id: i32) -> SendMessageRequestHeader {
    SendMessageRequestHeader {
        producer_group: "pg".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_000,
        flag: 0,
        properties: Some(properties::encode([("TAGS", "TagA"), ("WAIT", "true")])),
        ..SendMessageRequestHeader::default()
    }
}

/// SEND_MESSAGE_V2 (310, letter header) of `body`.
pub fn send_v2(topic: &str, queue_id: i32, body: &[u8]) -> RemotingCommand {
    RemotingCommand::request(
        request::SEND_MESSAGE_V2,
        send_header(topic, queue_id).to_ext_v2(),
    )
    .with_body(body.to_vec())
}

/// SEND_MESSAGE (10, long header) of `body`.
pub fn send_v1(topic: &str, queue_id: i32, body: &[u8]) -> RemotingCommand {
    RemotingCommand::request(request::SEND_MESSAGE, send_header(topic, queue_id).to_ext())
        .with_body(body.to_vec())
}

/// PULL_MESSAGE of up to 32 messages from `offset`, subscribing to everything; held up to
/// `suspend_ms` when there is nothing new.
pub fn pull(topic: &str, queue_id: i32, offset: i64, suspend_ms: Option<i64>) -> RemotingCommand {
    pull_as("cg", topic, queue_id, offset, suspend_ms)
}

/// [`pull`] for consumer group `group`.
pub fn pull_as(
    group: &str,
    topic: &str,
    queue_id: i32,
    offset: i64,
    suspend_ms: Option<i64>,
) -> RemotingCommand {
    let mut flag = PullSysFlag::SUBSCRIPTION;
    if suspend_ms.is_some() {
        flag |= PullSysFlag::SUSPEND;
    }
    let header = PullMessageRequestHeader {
        consumer_group: group.into(),
        topic: topic.into(),
        queue_id,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag: flag,
        commit_offset: 0,
        suspend_timeout_millis: suspend_ms.unwrap_or(0),
        subscription: Some("*".into()),
        sub_version: 0,
        ..PullMessageRequestHeader::default()
    };
    RemotingCommand::request(request::PULL_MESSAGE, header.to_ext())
}

/// The bodies of the records in a pull response body.
pub fn bodies(mut raw: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let view = record::decode(raw).expect("stored record");
        out.push(view.body.to_vec());
        raw = &raw[view.total_size..];
    }
    out
}

/// The frame of `cmd` with its header serialized as `serialize`, opaque 1.
pub fn frame(cmd: &RemotingCommand, serialize: SerializeType) -> Vec<u8> {
    let mut cmd = cmd.clone();
    cmd.opaque = 1;
    encode(&cmd, serialize).expect("encodes").to_vec()
}

/// Writes `bytes` on a new connection to `addr` and returns it.
pub async fn raw_send(addr: &str, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    stream
}

/// Reads the next whole frame from `stream`.
pub async fn read_response(stream: &mut TcpStream) -> RemotingCommand {
    let mut decoder = FrameDecoder::default();
    let mut buf = BytesMut::new();
    let read = async {
        loop {
            if let Some((cmd, _)) = decoder.decode(&mut buf).expect("valid response frame") {
                return cmd;
            }
            let n = stream.read_buf(&mut buf).await.expect("read");
            assert!(n > 0, "connection closed before the response");
        }
    };
    tokio::time::timeout(TIMEOUT, read)
        .await
        .expect("response in time")
}

/// Waits until the broker closes `stream`; returns how many bytes it sent first. Fails if it
/// is still open after [`TIMEOUT`].
pub async fn bytes_before_close(stream: &mut TcpStream) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    let wait = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    };
    tokio::time::timeout(TIMEOUT, wait)
        .await
        .expect("the broker closes the connection")
}
