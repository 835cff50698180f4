//! The shared client core against a real name server and broker: routes, name-server
//! failover and errors, typed broker requests (send, pull, offsets, lookups, membership).

mod common;

use std::time::Duration;

use apogee_client::{ClientConfig, ClientError, ClientInstance, Message, PullStatus};
use apogee_protocol::header::{PullMessageRequestHeader, PullSysFlag};
use apogee_protocol::remoting::codes::response;
use bytes::Bytes;
use common::TestCluster;

const TIMEOUT: Duration = Duration::from_secs(5);

/// A pull of up to 32 messages that waits up to `suspend_ms` when there are none.
fn pull_header(
    topic: &str,
    queue_id: i32,
    offset: i64,
    suspend_ms: i64,
) -> PullMessageRequestHeader {
    PullMessageRequestHeader {
        consumer_group: "cg".to_owned(),
        topic: topic.to_owned(),
        queue_id,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag: PullSysFlag::build(false, suspend_ms > 0, true, false).0,
        commit_offset: 0,
        suspend_timeout_millis: suspend_ms,
        subscription: Some("*".to_owned()),
        sub_version: 0,
        expression_type: Some("TAG".to_owned()),
        max_msg_bytes: None,
        request_source: None,
        proxy_forward_client_id: None,
    }
}

/// Route, send, pull, offsets and lookups through the typed requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_sends_pulls_and_offsets() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("CoreTopic", 2).await;
    assert_eq!(route.read_queues.len(), 2);
    let instance = cluster.instance();
    let route = instance.route("CoreTopic").await.expect("route");
    let queue = route.write_queues[1].clone();
    let addr = route
        .master_addr(&queue.broker_name)
        .expect("master")
        .to_owned();
    assert_eq!(
        instance.master_addr(&queue.broker_name).as_deref(),
        Some(addr.as_str())
    );

    let message = Message::new("CoreTopic", Bytes::from_static(b"hello"))
        .with_tags("TagA")
        .with_keys(["order-1"])
        .with_property("color", "red");
    let sent = instance
        .send_message(
            &addr,
            &common::send_header(1, &message),
            message.body.clone(),
            TIMEOUT,
        )
        .await
        .expect("send");
    assert_eq!(sent.code, response::SUCCESS);
    assert_eq!(sent.header.queue_id, 1);
    assert_eq!(sent.header.queue_offset, 0);

    let pulled = instance
        .pull_message(&addr, &pull_header("CoreTopic", 1, 0, 3000), TIMEOUT)
        .await
        .expect("pull");
    assert_eq!(pulled.status, PullStatus::Found);
    let messages = pulled.messages(&addr, &queue.broker_name).expect("decode");
    assert_eq!(messages.len(), 1);
    let got = &messages[0];
    assert_eq!(&got.body[..], b"hello");
    assert_eq!(got.tags(), Some("TagA"));
    assert_eq!(got.keys(), vec!["order-1"]);
    assert_eq!(got.property("color"), Some("red"));
    assert_eq!(got.queue(), queue);
    assert_eq!(got.offset_msg_id, sent.header.msg_id);
    assert_eq!(pulled.header.next_begin_offset, 1);

    let nothing = instance
        .pull_message(&addr, &pull_header("CoreTopic", 1, 1, 0), TIMEOUT)
        .await
        .expect("pull");
    assert_eq!(nothing.status, PullStatus::NoNewMsg);

    assert_eq!(instance.max_offset(&addr, &queue).await.expect("max"), 1);
    assert_eq!(instance.min_offset(&addr, &queue).await.expect("min"), 0);
    assert_eq!(
        instance
            .search_offset(&addr, &queue, 0)
            .await
            .expect("search"),
        0
    );
    assert_eq!(
        instance
            .query_consumer_offset(&addr, "cg", &queue)
            .await
            .expect("q"),
        None
    );
    instance
        .update_consumer_offset(&addr, "cg", &queue, 1, false)
        .await
        .expect("commit");
    assert_eq!(
        instance
            .query_consumer_offset(&addr, "cg", &queue)
            .await
            .expect("q"),
        Some(1)
    );

    let viewed = instance
        .view_message(&addr, got.commit_log_offset, &queue.broker_name)
        .await
        .expect("view");
    assert_eq!(viewed.body, got.body);

    let info = instance.cluster_info().await.expect("cluster info");
    assert!(info.broker_addr_table.contains_key("broker-a"));
    let topics = instance.all_topics().await.expect("topics");
    assert!(topics.iter().any(|t| t == "CoreTopic"));

    instance.shutdown().await;
    cluster.shutdown().await;
}

/// Unknown topics, refusals, and unreachable or failing-over name servers give clear errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_namesrv_failover() {
    let cluster = TestCluster::start(1).await;
    // A dead name server first in the list: the live one answers.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_addr = dead.local_addr().expect("addr").to_string();
    drop(dead);
    let config = ClientConfig::with_namesrv(&format!("{dead_addr};{}", cluster.namesrv_addr()));
    let instance = ClientInstance::start(config);
    let error = instance
        .fetch_route("NoSuchTopic")
        .await
        .expect_err("no route");
    assert!(
        matches!(error, ClientError::TopicNotExist { .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("apogee topic create NoSuchTopic"),
        "{error}"
    );
    assert!(instance.cluster_info().await.is_ok());
    instance.shutdown().await;

    let only_dead = ClientInstance::start(ClientConfig::with_namesrv(&dead_addr));
    let error = only_dead.all_topics().await.expect_err("unreachable");
    assert!(
        matches!(error, ClientError::NameServerUnreachable { .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&dead_addr), "{error}");
    only_dead.shutdown().await;

    let none = ClientInstance::start(ClientConfig {
        namesrv_addr: Vec::new(),
        ..ClientConfig::default()
    });
    assert!(matches!(
        none.all_topics().await,
        Err(ClientError::NoNameServer)
    ));
    none.shutdown().await;

    // A refused request keeps its code and remark.
    let instance = cluster.instance();
    let addr = cluster.brokers[0].addr().to_string();
    let bad = Message::new("Bad Topic", Bytes::from_static(b"x"));
    let error = instance
        .send_message(
            &addr,
            &common::send_header(0, &bad),
            bad.body.clone(),
            TIMEOUT,
        )
        .await
        .expect_err("invalid topic refused");
    assert!(error.response_code().is_some(), "{error}");
    assert!(!error.is_retriable(), "{error}");
    instance.shutdown().await;
    let after = instance.all_topics().await.expect_err("shut down");
    assert!(matches!(after, ClientError::ShutDown), "{after}");
    cluster.shutdown().await;
}

/// A client that sends ROCKETMQ binary headers (as the C++ and some Go clients do) gets the
/// same service: route, send, pull.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_header_serialization() {
    let cluster = TestCluster::start(1).await;
    cluster.create_topic("BinTopic", 1).await;
    let instance = ClientInstance::start(ClientConfig {
        serialize_type: apogee_remoting::SerializeType::RocketMq,
        ..cluster.client_config()
    });
    let route = instance
        .fetch_route("BinTopic")
        .await
        .expect("route over binary headers");
    let addr = route.master_addr("broker-a").expect("master").to_owned();
    let message = Message::new("BinTopic", Bytes::from_static(b"binary")).with_tags("T");
    let sent = common::send_raw(&instance, &addr, 0, &message).await;
    assert_eq!(sent.code, response::SUCCESS);
    let pulled = instance
        .pull_message(&addr, &pull_header("BinTopic", 0, 0, 3000), TIMEOUT)
        .await
        .expect("pull");
    let got = pulled.messages(&addr, "broker-a").expect("decode");
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0].body[..], b"binary");
    assert_eq!(got[0].tags(), Some("T"));
    instance.shutdown().await;
    cluster.shutdown().await;
}
