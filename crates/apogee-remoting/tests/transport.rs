//! The transport over real sockets on 127.0.0.1: request/response matching, oneway, limits,
//! malformed input, disconnects, server-initiated requests and shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use apogee_protocol::remoting::codes::response::{SUCCESS, SYSTEM_BUSY};
use apogee_protocol::remoting::{ExtFields, RemotingCommand, SerializeType, encode};
use apogee_remoting::{
    Connection, HandlerFuture, NoRequests, RemotingClient, RemotingConfig, RemotingError,
    RemotingServer, RequestHandler,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes the request's `value` field after `delay_ms` (also a field); counts oneways.
#[derive(Default)]
struct Echo {
    oneways: AtomicUsize,
}

impl RequestHandler for Echo {
    fn handle(&self, _connection: Arc<Connection>, request: RemotingCommand) -> HandlerFuture {
        if request.is_oneway() {
            self.oneways.fetch_add(1, Ordering::SeqCst);
            return Box::pin(async { None });
        }
        let delay = request.ext_fields.optional_i64("delayMs").ok().flatten();
        let mut ext = ExtFields::default();
        ext.put_some("value", request.ext_fields.get("value"));
        let response =
            RemotingCommand::response_to(&request, SUCCESS, None).with_body(request.body.clone());
        let response = RemotingCommand {
            ext_fields: ext,
            ..response
        };
        Box::pin(async move {
            if let Some(ms) = delay {
                tokio::time::sleep(Duration::from_millis(ms as u64)).await;
            }
            Some(response)
        })
    }
}

fn request(value: usize, delay_ms: u64) -> RemotingCommand {
    let mut ext = ExtFields::default();
    ext.put("value", value);
    ext.put("delayMs", delay_ms);
    RemotingCommand::request(999, ext).with_body(format!("body-{value}"))
}

async fn server(handler: Arc<dyn RequestHandler>, config: RemotingConfig) -> RemotingServer {
    RemotingServer::bind("127.0.0.1:0", handler, config)
        .await
        .expect("bind")
}

fn client(serialize: SerializeType) -> RemotingClient {
    RemotingClient::with_serialize(RemotingConfig::default(), Arc::new(NoRequests), serialize)
}

/// Concurrent requests answered out of order still reach their own callers, in both header
/// serializations.
#[tokio::test]
async fn responses_match_requests_by_opaque() {
    let server = server(Arc::new(Echo::default()), RemotingConfig::default()).await;
    let addr = server.local_addr().to_string();
    for serialize in [SerializeType::Json, SerializeType::RocketMq] {
        let client = Arc::new(client(serialize));
        let mut tasks = Vec::new();
        for i in 0..200 {
            let (client, addr) = (client.clone(), addr.clone());
            tasks.push(tokio::spawn(async move {
                let delay = (i * 7 % 13) as u64;
                let response = client
                    .invoke(&addr, request(i, delay), Duration::from_secs(10))
                    .await
                    .expect("response");
                assert_eq!(
                    response.ext_fields.get("value"),
                    Some(i.to_string().as_str())
                );
                assert_eq!(response.body, format!("body-{i}").into_bytes());
                assert!(response.is_response());
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        client.shutdown().await;
    }
    server.shutdown().await;
}

/// A oneway request runs but gets no response.
#[tokio::test]
async fn oneway_gets_no_response() {
    let echo = Arc::new(Echo::default());
    let server = server(echo.clone(), RemotingConfig::default()).await;
    let addr = server.local_addr().to_string();
    let client = client(SerializeType::Json);
    client
        .invoke_oneway(&addr, request(1, 0))
        .await
        .expect("sent");
    // A normal request afterwards on the same connection proves the oneway produced no
    // response that could be mistaken for this one.
    let response = client
        .invoke(&addr, request(2, 0), Duration::from_secs(5))
        .await
        .expect("response");
    assert_eq!(response.ext_fields.get("value"), Some("2"));
    assert_eq!(echo.oneways.load(Ordering::SeqCst), 1);
    client.shutdown().await;
    server.shutdown().await;
}

/// A request the server holds past the timeout fails with Timeout; the late response is
/// dropped and the connection keeps working.
#[tokio::test]
async fn timeout_then_connection_still_usable() {
    let server = server(Arc::new(Echo::default()), RemotingConfig::default()).await;
    let addr = server.local_addr().to_string();
    let client = client(SerializeType::Json);
    let slow = client
        .invoke(&addr, request(1, 500), Duration::from_millis(50))
        .await;
    assert!(
        matches!(slow, Err(RemotingError::Timeout { code: 999, .. })),
        "{slow:?}"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let ok = client
        .invoke(&addr, request(2, 0), Duration::from_secs(5))
        .await
        .expect("still usable");
    assert_eq!(ok.ext_fields.get("value"), Some("2"));
    client.shutdown().await;
    server.shutdown().await;
}

/// Reads from `stream` until the peer closes it (or 5 s pass); true if it closed.
async fn closed_by_peer(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let wait = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    });
    wait.await.unwrap_or(false)
}

/// Oversized, malformed and truncated frames close only the offending connection; the
/// server keeps serving everyone else.
#[tokio::test]
async fn bad_frames_close_only_their_connection() {
    let config = RemotingConfig {
        frame_bytes_max: 64 * 1024,
        ..RemotingConfig::default()
    };
    let server = server(Arc::new(Echo::default()), config).await;
    let addr = server.local_addr().to_string();
    let good = client(SerializeType::RocketMq);
    good.invoke(&addr, request(0, 0), Duration::from_secs(5))
        .await
        .expect("works before");

    let mut oversized = TcpStream::connect(&addr).await.expect("connect");
    oversized
        .write_all(&(1_000_000i32).to_be_bytes())
        .await
        .expect("write");
    assert!(
        closed_by_peer(&mut oversized).await,
        "oversized frame must close"
    );

    let mut garbage = TcpStream::connect(&addr).await.expect("connect");
    let mut frame = Vec::new();
    frame.extend_from_slice(&12i32.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 8]);
    frame.extend_from_slice(b"not json");
    garbage.write_all(&frame).await.expect("write");
    assert!(
        closed_by_peer(&mut garbage).await,
        "malformed header must close"
    );

    let mut truncated = TcpStream::connect(&addr).await.expect("connect");
    let whole = encode(&request(5, 0), SerializeType::Json).expect("encode");
    truncated
        .write_all(&whole[..whole.len() / 2])
        .await
        .expect("write");
    drop(truncated); // Disconnect mid-request.

    let after = good
        .invoke(&addr, request(7, 0), Duration::from_secs(5))
        .await
        .expect("server still serves others");
    assert_eq!(after.ext_fields.get("value"), Some("7"));
    good.shutdown().await;
    server.shutdown().await;
}

/// Past the in-flight limit a peer gets SYSTEM_BUSY instead of unbounded queuing.
#[tokio::test]
async fn in_flight_limit_answers_system_busy() {
    let config = RemotingConfig {
        requests_in_flight_per_connection_max: 2,
        ..RemotingConfig::default()
    };
    let server = server(Arc::new(Echo::default()), config).await;
    let addr = server.local_addr().to_string();
    let client = Arc::new(client(SerializeType::Json));
    let slow: Vec<_> = (0..2)
        .map(|i| {
            let (client, addr) = (client.clone(), addr.clone());
            tokio::spawn(async move {
                client
                    .invoke(&addr, request(i, 400), Duration::from_secs(5))
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let busy = client
        .invoke(&addr, request(9, 0), Duration::from_secs(5))
        .await
        .expect("answered");
    assert_eq!(busy.code, SYSTEM_BUSY);
    assert!(busy.remark.as_deref().unwrap_or("").contains("OVERLOAD"));
    for task in slow {
        assert_eq!(task.await.expect("task").expect("slow ok").code, SUCCESS);
    }
    client.shutdown().await;
    server.shutdown().await;
}

/// Past the connection limit new connections are closed at once.
#[tokio::test]
async fn connection_limit() {
    let config = RemotingConfig {
        connections_max: 1,
        ..RemotingConfig::default()
    };
    let server = server(Arc::new(Echo::default()), config).await;
    let addr = server.local_addr().to_string();
    let first = client(SerializeType::Json);
    first
        .invoke(&addr, request(1, 0), Duration::from_secs(5))
        .await
        .expect("first connection served");
    let mut second = TcpStream::connect(&addr).await.expect("tcp accept");
    assert!(closed_by_peer(&mut second).await, "over the limit: closed");
    first.shutdown().await;
    server.shutdown().await;
}

/// Asks the client, over the connection the request came on, for a value (as a broker asks
/// a producer to check a transaction), and answers with what the client said.
struct AskBack;

impl RequestHandler for AskBack {
    fn handle(&self, connection: Arc<Connection>, request: RemotingCommand) -> HandlerFuture {
        Box::pin(async move {
            let asked = connection
                .request(
                    RemotingCommand::request(39, ExtFields::default()),
                    Duration::from_secs(5),
                )
                .await;
            let value = asked.map(|r| r.body).unwrap_or_default();
            Some(RemotingCommand::response_to(&request, SUCCESS, None).with_body(value))
        })
    }
}

/// The client side also serves requests: the server can call back on the same connection.
#[tokio::test]
async fn server_initiated_requests() {
    struct Answer;
    impl RequestHandler for Answer {
        fn handle(&self, _c: Arc<Connection>, request: RemotingCommand) -> HandlerFuture {
            let response =
                RemotingCommand::response_to(&request, SUCCESS, None).with_body("from the client");
            Box::pin(async move { Some(response) })
        }
    }
    let server = server(Arc::new(AskBack), RemotingConfig::default()).await;
    let addr = server.local_addr().to_string();
    let client = RemotingClient::new(RemotingConfig::default(), Arc::new(Answer));
    let response = client
        .invoke(&addr, request(1, 0), Duration::from_secs(5))
        .await
        .expect("response");
    assert_eq!(response.body, "from the client".as_bytes());
    client.shutdown().await;
    server.shutdown().await;
}

/// Shutting the server down fails the client's pending request with ConnectionClosed, and
/// a later connect is refused.
#[tokio::test]
async fn shutdown_fails_pending_requests() {
    let server = Arc::new(server(Arc::new(Echo::default()), RemotingConfig::default()).await);
    let addr = server.local_addr().to_string();
    let client = Arc::new(client(SerializeType::Json));
    client
        .invoke(&addr, request(0, 0), Duration::from_secs(5))
        .await
        .expect("connected");
    let pending = {
        let (client, addr) = (client.clone(), addr.clone());
        tokio::spawn(async move {
            client
                .invoke(&addr, request(1, 3_000), Duration::from_secs(10))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = {
        let server = server.clone();
        tokio::spawn(async move { server.shutdown().await })
    };
    let result = pending.await.expect("task");
    assert!(
        matches!(result, Err(RemotingError::ConnectionClosed { .. })),
        "{result:?}"
    );
    stopping.await.expect("shutdown");
    let refused = client
        .invoke(&addr, request(2, 0), Duration::from_secs(2))
        .await;
    assert!(
        matches!(refused, Err(RemotingError::Connect { .. })),
        "{refused:?}"
    );
    client.shutdown().await;
}
