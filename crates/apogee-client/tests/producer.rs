//! The producer against a real name server and brokers: sync, async, oneway, batch, queue
//! and selector sends, auto-creation through TBW102, retries on another broker, latency
//! fault avoidance, compression, and message validation.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_client::producer::{SendStatus, compression::ZLIB_SYS_FLAG};
use apogee_client::{
    ClientError, ClientInstance, Message, MessageExt, MessageQueue, Producer, ProducerConfig,
    PullStatus, SelectMessageQueueByHash,
};
use apogee_protocol::header::{PullMessageRequestHeader, PullSysFlag};
use apogee_protocol::message::message_id::decode_offset_msg_id;
use apogee_protocol::message::properties::UNIQ_KEY;
use bytes::Bytes;
use common::{TestCluster, WAIT};

const TIMEOUT: Duration = Duration::from_secs(5);

fn pull_header(queue: &MessageQueue, offset: i64) -> PullMessageRequestHeader {
    PullMessageRequestHeader {
        consumer_group: "cg".to_owned(),
        topic: queue.topic.clone(),
        queue_id: queue.queue_id,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag: PullSysFlag::build(false, true, true, false).0,
        commit_offset: 0,
        suspend_timeout_millis: 500,
        subscription: Some("*".to_owned()),
        sub_version: 0,
        expression_type: Some("TAG".to_owned()),
        max_msg_bytes: None,
        request_source: None,
        proxy_forward_client_id: None,
    }
}

/// Pulls `queue` from `offset` until `count` messages arrived (long-polling), failing the
/// test after [`WAIT`].
async fn pull(
    instance: &ClientInstance,
    queue: &MessageQueue,
    offset: i64,
    count: usize,
) -> Vec<MessageExt> {
    let addr = instance
        .master_addr(&queue.broker_name)
        .expect("broker known");
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut next = offset;
    while got.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} arrived",
            got.len()
        );
        let pulled = instance
            .pull_message(&addr, &pull_header(queue, next), TIMEOUT)
            .await
            .expect("pull");
        if pulled.status == PullStatus::Found {
            got.extend(pulled.messages(&addr, &queue.broker_name).expect("decode"));
        }
        next = pulled.header.next_begin_offset;
    }
    got
}

async fn started(instance: &Arc<ClientInstance>, config: ProducerConfig) -> Producer {
    let producer = Producer::new(config, instance.clone()).expect("producer");
    producer.start().await.expect("start");
    producer
}

/// A sync send reports SEND_OK with the producer's id; the stored message keeps body, tags,
/// keys and properties; round-robin spreads sends evenly over every queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_send_result_round_trip_and_round_robin() {
    let cluster = TestCluster::start(1).await;
    cluster.create_topic("SyncTopic", 4).await;
    let instance = cluster.instance();
    let producer = started(&instance, ProducerConfig::new("pg-sync")).await;

    let message = Message::new("SyncTopic", Bytes::from_static(b"hello"))
        .with_tags("TagA")
        .with_keys(["order-1", "order-2"])
        .with_property("color", "red");
    let sent = producer.send(message).await.expect("send");
    assert_eq!(sent.send_status, SendStatus::SendOk);
    assert_eq!(sent.send_status.to_string(), "SEND_OK");
    assert_eq!(sent.msg_id.len(), 32, "{}", sent.msg_id);
    assert!(sent.msg_id.starts_with("7F000001"), "{}", sent.msg_id);
    assert_eq!(sent.message_queue.topic, "SyncTopic");
    assert_eq!(sent.message_queue.broker_name, "broker-a");
    assert_eq!(sent.queue_offset, 0);
    assert_eq!(sent.region_id, "DefaultRegion");
    assert_eq!(sent.transaction_id.as_deref(), Some(sent.msg_id.as_str()));
    let (store_host, _) = decode_offset_msg_id(&sent.offset_msg_id).expect("offset id");
    assert_eq!(store_host.port(), cluster.brokers[0].addr().port());

    let got = pull(&instance, &sent.message_queue, 0, 1).await;
    let got = &got[0];
    assert_eq!(&got.body[..], b"hello");
    assert_eq!(got.tags(), Some("TagA"));
    assert_eq!(got.keys(), vec!["order-1", "order-2"]);
    assert_eq!(got.property("color"), Some("red"));
    assert_eq!(got.property(UNIQ_KEY), Some(sent.msg_id.as_str()));
    assert_eq!(got.msg_id(), sent.msg_id);
    assert_eq!(got.offset_msg_id, sent.offset_msg_id);
    assert_eq!(got.sys_flag, 0);

    let mut per_queue = BTreeMap::new();
    for i in 0..8 {
        let sent = producer
            .send(Message::new("SyncTopic", format!("m{i}")))
            .await
            .expect("send");
        *per_queue.entry(sent.message_queue.queue_id).or_insert(0) += 1;
    }
    assert_eq!(per_queue, BTreeMap::from([(0, 2), (1, 2), (2, 2), (3, 2)]));

    producer.shutdown().await;
    let after = producer.send(Message::new("SyncTopic", "x")).await;
    assert!(matches!(after, Err(ClientError::ShutDown)), "{after:?}");
    instance.shutdown().await;
    cluster.shutdown().await;
}

/// A topic nobody created is sent through the TBW102 route, and the broker creates it with
/// `defaultTopicQueueNums` queues; with auto-creation off the send fails with a hint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_create_through_template() {
    let cluster = TestCluster::start(1).await;
    let instance = cluster.instance();
    let producer = started(&instance, ProducerConfig::new("pg-auto")).await;
    let queues = producer.publish_queues("BrandNew").await.expect("template");
    assert_eq!(
        queues.len(),
        4,
        "min(defaultTopicQueueNums, template queues)"
    );
    assert!(queues.iter().all(|q| q.topic == "BrandNew"));

    let sent = producer
        .send(Message::new("BrandNew", "first"))
        .await
        .expect("auto-created");
    assert_eq!(sent.send_status, SendStatus::SendOk);
    assert!(sent.message_queue.queue_id < 4);
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(route) = instance.fetch_route("BrandNew").await {
            assert_eq!(route.write_queues.len(), 4);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the broker never registered BrandNew"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = pull(&instance, &sent.message_queue, 0, 1).await;
    assert_eq!(&got[0].body[..], b"first");
    producer.shutdown().await;
    instance.shutdown().await;
    cluster.shutdown().await;

    let cluster = TestCluster::start_with(1, |c| c.auto_create_topic_enable = false).await;
    let instance = cluster.instance();
    let producer = started(&instance, ProducerConfig::new("pg-auto")).await;
    let error = producer
        .send(Message::new("NotCreated", "x"))
        .await
        .expect_err("no auto-creation");
    assert!(
        matches!(error, ClientError::TopicNotExist { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("autoCreateTopicEnable"),
        "{error}"
    );
    producer.shutdown().await;
    instance.shutdown().await;
    cluster.shutdown().await;
}

/// With one of two brokers down but still routed, sends retry on the other broker; without
/// retries, sends that pick the dead broker fail naming it; latency fault avoidance isolates
/// it after one failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_switch_broker() {
    let mut cluster = TestCluster::start(2).await;
    cluster.create_topic("Failover", 4).await;
    let instance = cluster.instance();
    let retrying = started(&instance, ProducerConfig::new("pg-retry")).await;
    assert_eq!(
        retrying.publish_queues("Failover").await.expect("r").len(),
        8
    );
    let dead = cluster.brokers.remove(1);
    dead.shutdown().await.expect("broker-b stops");
    let cached = instance.cached_route("Failover").expect("route cached");
    assert_eq!(
        cached.write_queues.len(),
        8,
        "the route still lists broker-b"
    );

    for i in 0..8 {
        let sent = retrying
            .send(Message::new("Failover", format!("m{i}")))
            .await
            .expect("retried on broker-a");
        assert_eq!(sent.message_queue.broker_name, "broker-a");
    }

    let no_retry = ProducerConfig {
        retry_times_when_send_failed: 0,
        ..ProducerConfig::new("pg-no-retry")
    };
    let single = started(&instance, no_retry).await;
    let mut failures = 0;
    for i in 0..8 {
        match single.send(Message::new("Failover", format!("n{i}"))).await {
            Ok(sent) => assert_eq!(sent.message_queue.broker_name, "broker-a"),
            Err(error) => {
                failures += 1;
                let ClientError::SendFailed {
                    attempts, brokers, ..
                } = &error
                else {
                    panic!("unexpected error {error}");
                };
                assert_eq!(*attempts, 1);
                assert_eq!(brokers, &vec!["broker-b".to_owned()]);
                let text = error.to_string();
                assert!(text.contains("topic Failover"), "{text}");
                assert!(text.contains("broker-b"), "{text}");
                assert!(error.is_retriable(), "{text}");
            }
        }
    }
    assert_eq!(failures, 4, "half the queues are on the dead broker");

    let avoiding = ProducerConfig {
        send_latency_fault_enable: true,
        ..ProducerConfig::new("pg-fault")
    };
    let avoiding = started(&instance, avoiding).await;
    for i in 0..8 {
        let sent = avoiding
            .send(Message::new("Failover", format!("f{i}")))
            .await
            .expect("sent");
        assert_eq!(sent.message_queue.broker_name, "broker-a");
    }
    let strategy = avoiding.fault_strategy();
    assert!(!strategy.is_available("broker-b"), "isolated after failing");
    assert!(strategy.is_available("broker-a"));

    for p in [retrying, single, avoiding] {
        p.shutdown().await;
    }
    instance.shutdown().await;
    cluster.shutdown().await;
}

/// Many concurrent async sends are all acknowledged with dense offsets per queue; callback
/// sends report back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_sends_and_callbacks() {
    let cluster = TestCluster::start(1).await;
    cluster.create_topic("AsyncTopic", 4).await;
    let instance = cluster.instance();
    let producer = started(&instance, ProducerConfig::new("pg-async")).await;

    let tasks: Vec<_> = (0..200)
        .map(|i| tokio::spawn(producer.send_async(Message::new("AsyncTopic", format!("a{i}")))))
        .collect();
    let mut offsets: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for task in tasks {
        let sent = task.await.expect("task").expect("acked");
        assert_eq!(sent.send_status, SendStatus::SendOk);
        ids.insert(sent.msg_id);
        offsets
            .entry(sent.message_queue.queue_id)
            .or_default()
            .push(sent.queue_offset);
    }
    assert_eq!(ids.len(), 200, "every id unique");
    assert_eq!(offsets.len(), 4);
    for (queue, mut got) in offsets {
        got.sort_unstable();
        let dense: Vec<i64> = (0..got.len() as i64).collect();
        assert_eq!(got, dense, "queue {queue}");
    }

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..10 {
        let tx = tx.clone();
        producer.send_with_callback(Message::new("AsyncTopic", format!("c{i}")), move |r| {
            let _ = tx.send(r.map(|s| s.send_status));
        });
    }
    for _ in 0..10 {
        let status = tokio::time::timeout(WAIT, rx.recv()).await.expect("called");
        assert_eq!(status.map(|r| r.expect("sent")), Some(SendStatus::SendOk));
    }
    producer.shutdown().await;
    instance.shutdown().await;
    cluster.shutdown().await;
}

/// A oneway send arrives; a batch is stored as separate messages with their own ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneway_and_batch() {
    let cluster = TestCluster::start(1).await;
    cluster.create_topic("OneTopic", 1).await;
    let instance = cluster.instance();
    let producer = started(&instance, ProducerConfig::new("pg-batch")).await;
    let queue = producer.publish_queues("OneTopic").await.expect("q")[0].clone();

    producer
        .send_oneway(Message::new("OneTopic", "oneway").with_tags("O"))
        .await
        .expect("written");
    let got = pull(&instance, &queue, 0, 1).await;
    assert_eq!(&got[0].body[..], b"oneway");
    assert_eq!(got[0].tags(), Some("O"));
    assert_eq!(got[0].msg_id().len(), 32);

    let batch = (0..3)
        .map(|i| {
            Message::new("OneTopic", format!("b{i}"))
                .with_tags(format!("T{i}"))
                .with_flag(i)
        })
        .collect();
    let sent = producer.send_batch(batch).await.expect("batch");
    assert_eq!(sent.send_status, SendStatus::SendOk);
    assert_eq!(sent.queue_offset, 1);
    let ids: Vec<&str> = sent.msg_id.split(',').collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(sent.offset_msg_id.split(',').count(), 3);
    let got = pull(&instance, &queue, 1, 3).await;
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.body, Bytes::from(format!("b{i}")));
        assert_eq!(m.tags(), Some(format!("T{i}").as_str()));
        assert_eq!(m.flag, i as i32);
        assert_eq!(m.msg_id(), ids[i]);
        assert_eq!(m.queue_offset, 1 + i as i64);
    }
    let mixed = vec![Message::new("OneTopic", "a"), Message::new("Other", "b")];
    let error = producer.send_batch(mixed).await.expect_err("mixed");
    assert!(matches!(error, ClientError::InvalidArgument(_)), "{error}");
    producer.shutdown().await;
    instance.shutdown().await;
    cluster.shutdown().await;
}

/// Messages with one key go to one queue, in order; a closure selector and an explicit
/// queue work too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_keeps_order_per_key() {
    let cluster = TestCluster::start(1).await;
    cluster.create_topic("OrderTopic", 4).await;
    let instance = cluster.instance();
    let producer = started(&instance, ProducerConfig::new("pg-order")).await;
    let mut queue_of: BTreeMap<String, BTreeSet<MessageQueue>> = BTreeMap::new();
    for step in 0..5 {
        for order in ["order-1", "order-2", "order-3", "order-4"] {
            let msg = Message::new("OrderTopic", format!("{order}:{step}")).with_keys([order]);
            let sent = producer
                .send_with_selector(msg, &SelectMessageQueueByHash, order)
                .await
                .expect("sent");
            queue_of
                .entry(order.to_owned())
                .or_default()
                .insert(sent.message_queue);
        }
    }
    let mut per_queue: BTreeMap<MessageQueue, usize> = BTreeMap::new();
    for queues in queue_of.values() {
        assert_eq!(queues.len(), 1, "one key, one queue");
        let queue = queues.iter().next().expect("queue").clone();
        *per_queue.entry(queue).or_default() += 5;
    }
    for (queue, count) in per_queue {
        let got = pull(&instance, &queue, 0, count).await;
        let mut last_step: BTreeMap<String, i32> = BTreeMap::new();
        for m in got {
            let text = String::from_utf8(m.body.to_vec()).expect("utf8");
            let (order, step) = text.split_once(':').expect("order:step");
            let step: i32 = step.parse().expect("step");
            let previous = last_step.insert(order.to_owned(), step).unwrap_or(-1);
            assert_eq!(step, previous + 1, "order of {order} kept");
        }
    }

    let last = |qs: &[MessageQueue], _m: &Message, _a: &()| qs.last().cloned();
    let sent = producer
        .send_with_selector(Message::new("OrderTopic", "last"), &last, &())
        .await
        .expect("sent");
    assert_eq!(sent.message_queue.queue_id, 3);
    let none = |_: &[MessageQueue], _m: &Message, _a: &()| None;
    let error = producer
        .send_with_selector(Message::new("OrderTopic", "x"), &none, &())
        .await
        .expect_err("no queue");
    assert!(error.to_string().contains("chose no queue"), "{error}");
    let target = MessageQueue {
        topic: "OrderTopic".to_owned(),
        broker_name: "broker-a".to_owned(),
        queue_id: 2,
    };
    let sent = producer
        .send_to_queue(Message::new("OrderTopic", "direct"), &target)
        .await
        .expect("sent");
    assert_eq!(sent.message_queue, target);
    producer.shutdown().await;
    instance.shutdown().await;
    cluster.shutdown().await;
}

/// Bodies from the threshold on travel zlib-compressed and decompress to the original.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_on_the_wire() {
    let cluster = TestCluster::start(1).await;
    cluster.create_topic("ZipTopic", 1).await;
    let instance = cluster.instance();
    let producer = started(&instance, ProducerConfig::new("pg-zip")).await;
    let original: Bytes = "compress me please; ".repeat(1000).into();
    let big = producer
        .send(Message::new("ZipTopic", original.clone()))
        .await
        .expect("big");
    let small = producer
        .send(Message::new("ZipTopic", "tiny"))
        .await
        .expect("small");
    let got = pull(&instance, &big.message_queue, big.queue_offset, 2).await;
    assert_eq!(
        got[0].sys_flag & ZLIB_SYS_FLAG,
        ZLIB_SYS_FLAG,
        "compressed, zlib"
    );
    assert!(got[0].body.len() < original.len() / 10, "stored compressed");
    assert_eq!(got[0].decompressed_body().expect("inflates"), original);
    assert_eq!(got[1].queue_offset, small.queue_offset);
    assert_eq!(got[1].sys_flag, 0);
    assert_eq!(&got[1].decompressed_body().expect("as is")[..], b"tiny");
    producer.shutdown().await;
    instance.shutdown().await;
    cluster.shutdown().await;
}

/// Bad topics, empty and oversized bodies, and misuse of the lifecycle give clear errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_and_lifecycle_errors() {
    let cluster = TestCluster::start(1).await;
    let instance = cluster.instance();
    let reserved = Producer::new(ProducerConfig::new("DEFAULT_PRODUCER"), instance.clone());
    assert!(matches!(reserved, Err(ClientError::InvalidArgument(_))));
    let bad_group = Producer::new(ProducerConfig::new("bad group"), instance.clone());
    assert!(matches!(bad_group, Err(ClientError::InvalidName(_))));

    let config = ProducerConfig {
        max_message_size: 1024,
        ..ProducerConfig::new("pg-check")
    };
    let producer = Producer::new(config, instance.clone()).expect("producer");
    let early = producer
        .send(Message::new("T", "x"))
        .await
        .expect_err("early");
    assert!(early.to_string().contains("not started"), "{early}");
    producer.start().await.expect("start");
    let twice = producer.start().await.expect_err("twice");
    assert!(matches!(twice, ClientError::InvalidArgument(_)), "{twice}");
    let same_group = Producer::new(ProducerConfig::new("pg-check"), instance.clone());
    let error = same_group.expect("made").start().await.expect_err("dup");
    assert!(error.to_string().contains("already started"), "{error}");

    let cases = [
        (Message::new("bad topic!", "x"), "contains"),
        (Message::new("", "x"), "empty"),
        (Message::new("T", Bytes::new()), "empty"),
        (Message::new("T", vec![b'x'; 1025]), "maximum is 1024"),
        (Message::new("TBW102", "x"), "reserved"),
    ];
    for (msg, expected) in cases {
        let topic = msg.topic.clone();
        let error = producer.send(msg).await.expect_err("invalid");
        let text = error.to_string();
        assert!(text.contains(expected), "{topic:?}: {text}");
        assert!(!error.is_retriable(), "{text}");
    }
    let oneway = producer.send_oneway(Message::new("T", Bytes::new())).await;
    assert!(matches!(oneway, Err(ClientError::InvalidArgument(_))));
    producer.shutdown().await;
    instance.shutdown().await;
    cluster.shutdown().await;
}
