//! A peer that pipelines requests and never reads the answers, over a real socket: the
//! server runs a bounded number of them (answers waiting for room in the write queue still
//! count against the in-flight limit), disconnects the peer after the write timeout, really
//! closes the socket, and shuts down promptly.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use apogee_protocol::remoting::codes::response::SUCCESS;
use apogee_protocol::remoting::{Bytes, ExtFields, RemotingCommand, SerializeType, encode};
use apogee_remoting::{Connection, HandlerFuture, RemotingConfig, RemotingServer, RequestHandler};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

/// Answers every request with the same large body; counts requests and closed connections.
struct BigAnswers {
    body: Bytes,
    handled: AtomicUsize,
    closed: Notify,
}

impl RequestHandler for BigAnswers {
    fn handle(&self, _connection: Arc<Connection>, request: RemotingCommand) -> HandlerFuture {
        self.handled.fetch_add(1, Ordering::SeqCst);
        let response =
            RemotingCommand::response_to(&request, SUCCESS, None).with_body(self.body.clone());
        Box::pin(async move { Some(response) })
    }

    fn connection_closed(&self, _connection: &Arc<Connection>) {
        self.closed.notify_one();
    }
}

/// Requests pipelined per write.
const BATCH: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_that_never_reads_costs_bounded_work_and_is_closed() {
    let config = RemotingConfig {
        requests_in_flight_per_connection_max: 8,
        write_queue_frames_max: 4,
        write_timeout: Duration::from_millis(300),
        ..RemotingConfig::default()
    };
    let handler = Arc::new(BigAnswers {
        body: Bytes::from(vec![0u8; 256 * 1024]),
        handled: AtomicUsize::new(0),
        closed: Notify::new(),
    });
    let server = RemotingServer::bind("127.0.0.1:0", handler.clone(), config)
        .await
        .expect("bind");

    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let mut stream = socket.connect(server.local_addr()).await.expect("connect");
    let mut requests = Vec::new();
    for i in 0..BATCH {
        let mut ext = ExtFields::default();
        ext.put("value", i);
        let mut request = RemotingCommand::request(999, ext);
        request.opaque = i as i32;
        requests.extend_from_slice(&encode(&request, SerializeType::Json).expect("encode"));
    }
    // Keeps pipelining until the server closes the socket (a write fails); never reads.
    let writer = tokio::spawn(async move {
        let mut sent = 0;
        while stream.write_all(&requests).await.is_ok() {
            sent += BATCH;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        sent
    });

    tokio::time::timeout(Duration::from_secs(5), handler.closed.notified())
        .await
        .expect("the server gives up on the peer after the write timeout");
    let handled = handler.handled.load(Ordering::SeqCst);
    // The socket is really closed: the peer's writes soon fail instead of blocking forever.
    let sent = tokio::time::timeout(Duration::from_secs(3), writer)
        .await
        .expect("the server closed the socket")
        .expect("join");
    // In flight (8) + write queue (4) + what the socket buffers absorbed (a few MiB of
    // 256 KiB answers); without the bound every request read would run.
    assert!(sent > 1000, "only {sent} requests pipelined");
    assert!(
        handled < 100,
        "{handled} of {sent} pipelined requests were run"
    );
    tokio::time::timeout(Duration::from_secs(2), server.shutdown())
        .await
        .expect("shutdown is not blocked by the stuck peer");
}
