//! Several name servers side by side: a broker registers with every one of them, a client
//! given the list gets routes from any, and keeps working when one goes away.

mod common;

use std::time::{Duration, Instant};

use apogee_broker::{Broker, BrokerConfig};
use apogee_client::{ClientConfig, ClientError, ClientInstance};
use apogee_namesrv::{NameServer, NamesrvConfig};
use common::{WAIT, small_store};

async fn namesrv() -> NameServer {
    NameServer::start(NamesrvConfig {
        listen_port: 0,
        listen_addr: "127.0.0.1".into(),
        ..NamesrvConfig::default()
    })
    .await
    .expect("name server starts")
}

/// Polls until `instance` (asking only its own name servers) sees `topic` routed.
async fn wait_routed(instance: &ClientInstance, topic: &str) {
    let deadline = Instant::now() + WAIT;
    while instance.fetch_route(topic).await.is_err() {
        assert!(Instant::now() < deadline, "{topic} never routed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_registers_with_every_name_server_and_clients_use_any() {
    let (first, second) = (namesrv().await, namesrv().await);
    let (a, b) = (
        first.local_addr().to_string(),
        second.local_addr().to_string(),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::start(
        BrokerConfig {
            listen_port: 0,
            namesrv_addr: Some(format!("{a};{b}")),
            ..BrokerConfig::default()
        },
        small_store(dir.path()),
    )
    .await
    .expect("broker starts");

    // Each name server on its own knows the broker's topics (TBW102 at least).
    let only_first = ClientInstance::start(ClientConfig::with_namesrv(&a));
    let only_second = ClientInstance::start(ClientConfig::with_namesrv(&b));
    wait_routed(&only_first, "TBW102").await;
    wait_routed(&only_second, "TBW102").await;
    let both = ClientInstance::start(ClientConfig::with_namesrv(&format!("{a};{b}")));
    let route = both.fetch_route("TBW102").await.expect("route from either");
    assert_eq!(
        route.master_addr("broker-a"),
        Some(broker.addr().to_string().as_str())
    );

    // The first name server goes away: the list still answers, through the second.
    first.shutdown().await;
    let error = only_first
        .fetch_route("TBW102")
        .await
        .expect_err("first is gone");
    assert!(
        matches!(error, ClientError::NameServerUnreachable { .. }),
        "{error}"
    );
    let route = both.fetch_route("TBW102").await.expect("second answers");
    assert!(!route.write_queues.is_empty());

    // A clean broker shutdown unregisters it from the remaining name server.
    broker.shutdown().await.expect("broker stops");
    let deadline = Instant::now() + WAIT;
    loop {
        match only_second.fetch_route("TBW102").await {
            Err(ClientError::TopicNotExist { .. }) => break,
            Ok(r) if r.brokers.is_empty() => break,
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "broker never left the second name server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for instance in [only_first, only_second, both] {
        instance.shutdown().await;
    }
    second.shutdown().await;
}
