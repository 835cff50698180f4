//! The push consumer against a real name server and brokers: delivery, tag filtering,
//! clustering rebalance and takeover, committed offsets, local redelivery, broadcasting and
//! flow control.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use apogee_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, ConsumerError, MessageModel, PushConsumer,
    PushConsumerConfig,
};
use apogee_client::{ClientInstance, Message, MessageExt, MessageQueue, TopicRoute};
use bytes::Bytes;
use common::{TestCluster, wait_until};
use parking_lot::Mutex;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Sends `message` to write queue `index % n` of `route`; returns its queue offset.
async fn send(
    instance: &ClientInstance,
    route: &TopicRoute,
    index: usize,
    message: &Message,
) -> i64 {
    let sent = common::send_round_robin(instance, route, index, message).await;
    sent.header.queue_offset
}

/// Sends `count` messages `<prefix>-<i>` round robin over the queues.
async fn send_many(instance: &ClientInstance, route: &TopicRoute, prefix: &str, count: usize) {
    for i in 0..count {
        let body = format!("{prefix}-{i}");
        let message = Message::new(route.topic.clone(), Bytes::from(body));
        send(instance, route, i, &message).await;
    }
}

/// Waits until the queues' max offsets (the consume queues are written after the commit
/// log) add up to `total`.
async fn wait_dispatched(instance: &ClientInstance, route: &TopicRoute, total: i64) {
    for _ in 0..500 {
        let mut sum = 0;
        for queue in &route.read_queues {
            let addr = route.master_addr(&queue.broker_name).expect("master");
            sum += instance.max_offset(addr, queue).await.expect("max offset");
        }
        if sum == total {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the queues never held {total} messages");
}

/// Fast settings for tests.
fn config(group: &str, from: ConsumeFromWhere) -> PushConsumerConfig {
    PushConsumerConfig {
        consume_from_where: from,
        persist_consumer_offset_interval: Duration::from_millis(200),
        rebalance_interval: Duration::from_secs(1),
        pull_delay_when_exception: Duration::from_millis(200),
        local_retry_delay: Duration::from_millis(300),
        ..PushConsumerConfig::new(group)
    }
}

/// The bodies received, in arrival order.
type Received = Arc<Mutex<Vec<MessageExt>>>;

/// A started consumer that records every message it is given and acknowledges it.
async fn collecting(
    instance: Arc<ClientInstance>,
    config: PushConsumerConfig,
    topic: &str,
    expression: &str,
) -> (PushConsumer, Received) {
    let consumer = PushConsumer::new(instance, config);
    consumer.subscribe(topic, expression).expect("subscribe");
    let received: Received = Arc::default();
    let sink = received.clone();
    consumer.register_message_listener_fn(move |messages, _context| {
        sink.lock().extend(messages.iter().cloned());
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    consumer.start().await.expect("start");
    (consumer, received)
}

fn bodies(received: &Received) -> Vec<String> {
    received
        .lock()
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect()
}

fn distinct(received: &Received) -> BTreeSet<String> {
    bodies(received).into_iter().collect()
}

/// Messages sent before and after start arrive exactly once, body, tags, keys and
/// properties intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receives_everything_exactly_once() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("PushAll", 4).await;
    let sender = cluster.instance();
    let make = |i: usize| {
        Message::new("PushAll", Bytes::from(format!("m-{i}")))
            .with_tags("TagA")
            .with_keys([format!("k-{i}")])
            .with_property("n", i.to_string())
    };
    for i in 0..8 {
        send(&sender, &route, i, &make(i)).await;
    }
    let instance = cluster.instance();
    let cfg = config("PushAllGroup", ConsumeFromWhere::ConsumeFromFirstOffset);
    let (consumer, received) = collecting(instance.clone(), cfg, "PushAll", "*").await;
    for i in 8..16 {
        send(&sender, &route, i, &make(i)).await;
    }
    wait_until("16 messages", || received.lock().len() >= 16).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = received.lock().clone();
    assert_eq!(got.len(), 16, "{:?}", bodies(&received));
    assert_eq!(distinct(&received).len(), 16);
    for m in &got {
        let i: usize = m.property("n").expect("n").parse().expect("number");
        assert_eq!(&m.body[..], format!("m-{i}").as_bytes());
        assert_eq!(m.tags(), Some("TagA"));
        assert_eq!(m.keys(), vec![format!("k-{i}")]);
        assert_eq!(m.topic, "PushAll");
    }
    assert_eq!(consumer.assigned_queues().len(), 4);
    consumer.shutdown().await.expect("shutdown");
    assert!(consumer.start().await.is_err(), "no restart after shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// `TagA || TagB` gets only those tags.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tag_filter() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("PushTags", 2).await;
    let sender = cluster.instance();
    let tags = ["TagA", "TagB", "TagC", ""];
    for i in 0..12 {
        let tag = tags[i % tags.len()];
        let mut message = Message::new("PushTags", Bytes::from(format!("{tag}-{i}")));
        if !tag.is_empty() {
            message = message.with_tags(tag);
        }
        send(&sender, &route, i, &message).await;
    }
    let instance = cluster.instance();
    let cfg = config("PushTagsGroup", ConsumeFromWhere::ConsumeFromFirstOffset);
    let (consumer, received) = collecting(instance.clone(), cfg, "PushTags", "TagA || TagB").await;
    wait_until("6 tagged messages", || received.lock().len() >= 6).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = received.lock().clone();
    assert_eq!(got.len(), 6, "{:?}", bodies(&received));
    assert!(
        got.iter()
            .all(|m| matches!(m.tags(), Some("TagA" | "TagB")))
    );
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// Two members split the queues (disjoint, covering all) and together get every message;
/// when one leaves, the other takes its queues over and gets the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_members_split_and_take_over() {
    let cluster = TestCluster::start(2).await;
    let route = cluster.create_topic("PushSplit", 2).await;
    let all: BTreeSet<MessageQueue> = route.read_queues.iter().cloned().collect();
    assert_eq!(all.len(), 4);
    let sender = cluster.instance();
    let from = ConsumeFromWhere::ConsumeFromFirstOffset;
    let (i1, i2) = (cluster.instance(), cluster.instance());
    let (c1, r1) = collecting(i1.clone(), config("SplitGroup", from), "PushSplit", "*").await;
    let (c2, r2) = collecting(i2.clone(), config("SplitGroup", from), "PushSplit", "*").await;
    wait_until("an even split", || {
        let (a, b) = (c1.assigned_queues(), c2.assigned_queues());
        a.len() == 2 && b.len() == 2
    })
    .await;
    let (a, b) = (c1.assigned_queues(), c2.assigned_queues());
    let union: BTreeSet<MessageQueue> = a.iter().chain(&b).cloned().collect();
    assert_eq!(union, all, "{a:?} {b:?}");

    send_many(&sender, &route, "first", 20).await;
    let total = |r1: &Received, r2: &Received| {
        let mut all = distinct(r1);
        all.extend(distinct(r2));
        all
    };
    wait_until("20 messages over both", || total(&r1, &r2).len() == 20).await;
    assert!(!r1.lock().is_empty() && !r2.lock().is_empty());

    c2.shutdown().await.expect("shutdown");
    wait_until("c1 takes every queue", || c1.assigned_queues().len() == 4).await;
    send_many(&sender, &route, "second", 20).await;
    wait_until("40 messages", || total(&r1, &r2).len() == 40).await;
    let seconds = distinct(&r1)
        .into_iter()
        .filter(|b| b.starts_with("second"))
        .count();
    assert_eq!(seconds, 20, "c1 got every later message");
    c1.shutdown().await.expect("shutdown");
    for instance in [i1, i2, sender] {
        instance.shutdown().await;
    }
    cluster.shutdown().await;
}

/// A restarted group continues from its committed offsets: nothing acknowledged comes back
/// and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_resumes_from_committed_offset() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("PushRestart", 2).await;
    let sender = cluster.instance();
    let from = ConsumeFromWhere::ConsumeFromFirstOffset;
    send_many(&sender, &route, "before", 10).await;
    let instance = cluster.instance();
    let (c1, r1) = collecting(
        instance.clone(),
        config("RestartGroup", from),
        "PushRestart",
        "*",
    )
    .await;
    wait_until("10 messages", || r1.lock().len() >= 10).await;
    c1.shutdown().await.expect("shutdown commits");
    instance.shutdown().await;
    let addr = cluster.brokers[0].addr().to_string();
    let mut committed = 0;
    for queue in &route.read_queues {
        committed += sender
            .query_consumer_offset(&addr, "RestartGroup", queue)
            .await
            .expect("query")
            .expect("committed");
    }
    assert_eq!(committed, 10);

    send_many(&sender, &route, "after", 6).await;
    let instance = cluster.instance();
    let (c2, r2) = collecting(
        instance.clone(),
        config("RestartGroup", from),
        "PushRestart",
        "*",
    )
    .await;
    wait_until("6 new messages", || r2.lock().len() >= 6).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = distinct(&r2);
    assert_eq!(r2.lock().len(), 6, "{got:?}");
    assert!(got.iter().all(|b| b.starts_with("after")), "{got:?}");
    c2.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// While the listener of offset 3 is blocked, later messages succeed but the committed
/// offset (on the broker and in memory) stays at 3; once released it moves to the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn committed_offset_never_passes_a_running_message() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("PushSlow", 1).await;
    let queue = route.read_queues[0].clone();
    let sender = cluster.instance();
    send_many(&sender, &route, "slow", 10).await;
    let instance = cluster.instance();
    let consumer = PushConsumer::new(
        instance.clone(),
        config("SlowGroup", ConsumeFromWhere::ConsumeFromFirstOffset),
    );
    consumer.subscribe("PushSlow", "*").expect("subscribe");
    let release = Arc::new(AtomicBool::new(false));
    let done = Arc::new(Mutex::new(BTreeSet::new()));
    let (gate, sink) = (release.clone(), done.clone());
    consumer.register_message_listener_fn(move |messages, _context| {
        for m in messages {
            while m.queue_offset == 3 && !gate.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(10));
            }
            sink.lock().insert(m.queue_offset);
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    consumer.start().await.expect("start");
    wait_until("all but offset 3", || done.lock().len() == 9).await;
    assert!(!done.lock().contains(&3));
    // Several persist intervals pass; the broker must never see more than 3.
    let addr = cluster.brokers[0].addr().to_string();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let committed = sender
            .query_consumer_offset(&addr, "SlowGroup", &queue)
            .await
            .expect("query");
        assert!(
            committed.unwrap_or(0) <= 3,
            "committed {committed:?} passed offset 3"
        );
    }
    assert_eq!(consumer.current_offset(&queue), Some(3));
    let stats = consumer.process_queue_stats(&queue).expect("stats");
    assert_eq!((stats.cached_count, stats.commit_offset), (1, 3));
    release.store(true, Ordering::Release);
    let mut committed = None;
    for _ in 0..100 {
        committed = sender
            .query_consumer_offset(&addr, "SlowGroup", &queue)
            .await
            .expect("query");
        if committed == Some(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(committed, Some(10));
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// RECONSUME_LATER: the message comes back (with a raised reconsume count) and the offset
/// waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reconsume_later_redelivers() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("PushRetry", 1).await;
    let queue = route.read_queues[0].clone();
    let sender = cluster.instance();
    send_many(&sender, &route, "retry", 3).await;
    let instance = cluster.instance();
    let consumer = PushConsumer::new(
        instance.clone(),
        config("RetryGroup", ConsumeFromWhere::ConsumeFromFirstOffset),
    );
    consumer.subscribe("PushRetry", "*").expect("subscribe");
    let attempts: Arc<Mutex<BTreeMap<i64, Vec<i32>>>> = Arc::default();
    let sink = attempts.clone();
    consumer.register_message_listener_fn(move |messages, _context| {
        let mut attempts = sink.lock();
        let mut status = ConsumeConcurrentlyStatus::ConsumeSuccess;
        for m in messages {
            let seen = attempts.entry(m.queue_offset).or_default();
            seen.push(m.reconsume_times);
            if seen.len() == 1 {
                status = ConsumeConcurrentlyStatus::ReconsumeLater;
            }
        }
        status
    });
    consumer.start().await.expect("start");
    wait_until("first attempts", || attempts.lock().len() == 3).await;
    assert!(consumer.current_offset(&queue).unwrap_or(0) < 3);
    wait_until("second attempts", || {
        attempts.lock().values().all(|seen| seen.len() >= 2)
    })
    .await;
    for seen in attempts.lock().values() {
        assert_eq!(&seen[..2], &[0, 1]);
    }
    wait_until("offset at the end", || {
        consumer.current_offset(&queue) == Some(3)
    })
    .await;
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// Broadcasting: both members get every message; offsets go to local files, not the broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broadcasting_delivers_everything_to_everyone() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("PushBroadcast", 2).await;
    let sender = cluster.instance();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = PushConsumerConfig {
        message_model: MessageModel::Broadcasting,
        offset_store_dir: Some(dir.path().to_path_buf()),
        ..config("BroadcastGroup", ConsumeFromWhere::ConsumeFromFirstOffset)
    };
    let (i1, i2) = (cluster.instance(), cluster.instance());
    let (c1, r1) = collecting(i1.clone(), cfg.clone(), "PushBroadcast", "*").await;
    let (c2, r2) = collecting(i2.clone(), cfg, "PushBroadcast", "*").await;
    assert_eq!(c1.assigned_queues().len(), 2);
    assert_eq!(c2.assigned_queues().len(), 2);
    send_many(&sender, &route, "all", 10).await;
    wait_until("both get 10", || {
        distinct(&r1).len() == 10 && distinct(&r2).len() == 10
    })
    .await;
    let files = [
        c1.offset_file().expect("file"),
        c2.offset_file().expect("file"),
    ];
    assert_ne!(files[0], files[1]);
    c1.shutdown().await.expect("shutdown");
    c2.shutdown().await.expect("shutdown");
    for file in &files {
        assert!(file.starts_with(dir.path()), "{file:?}");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file).expect("offset file")).expect("json");
        let sum: i64 = json["offsets"]
            .as_array()
            .expect("offsets")
            .iter()
            .map(|e| e["offset"].as_i64().expect("offset"))
            .sum();
        assert_eq!(sum, 10, "{json}");
    }
    let addr = cluster.brokers[0].addr().to_string();
    let on_broker = sender
        .query_consumer_offset(&addr, "BroadcastGroup", &route.read_queues[0])
        .await
        .expect("query");
    assert_eq!(on_broker, None);
    for instance in [i1, i2, sender] {
        instance.shutdown().await;
    }
    cluster.shutdown().await;
}

/// With a small `pull_threshold_for_queue` and a blocked listener, no more than that many
/// messages of the queue are ever held; after the release everything arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flow_control_bounds_in_flight_messages() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("PushFlow", 1).await;
    let queue = route.read_queues[0].clone();
    let sender = cluster.instance();
    send_many(&sender, &route, "flow", 30).await;
    let instance = cluster.instance();
    let consumer = PushConsumer::new(
        instance.clone(),
        PushConsumerConfig {
            pull_threshold_for_queue: 5,
            ..config("FlowGroup", ConsumeFromWhere::ConsumeFromFirstOffset)
        },
    );
    consumer.subscribe("PushFlow", "*").expect("subscribe");
    let release = Arc::new(AtomicBool::new(false));
    let (running, most, total) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let (gate, now, max, count) = (
        release.clone(),
        running.clone(),
        most.clone(),
        total.clone(),
    );
    consumer.register_message_listener_fn(move |messages, _context| {
        let n = now.fetch_add(1, Ordering::AcqRel) + 1;
        max.fetch_max(n, Ordering::AcqRel);
        while !gate.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(5));
        }
        now.fetch_sub(1, Ordering::AcqRel);
        count.fetch_add(messages.len(), Ordering::AcqRel);
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    consumer.start().await.expect("start");
    wait_until("5 running", || running.load(Ordering::Acquire) == 5).await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let stats = consumer.process_queue_stats(&queue).expect("stats");
        assert!(stats.cached_count <= 5, "{stats:?}");
    }
    assert_eq!(most.load(Ordering::Acquire), 5);
    release.store(true, Ordering::Release);
    wait_until("30 consumed", || total.load(Ordering::Acquire) == 30).await;
    assert!(most.load(Ordering::Acquire) <= 5);
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// A new group starts at 0 on queues that still hold their first message whether it asks
/// for FIRST or LAST (RocketMQ's "young queue" rule: a new group on a new topic misses
/// nothing); a group with a committed offset resumes there whatever it asks for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_from_first_versus_last() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("PushFrom", 2).await;
    let sender = cluster.instance();
    send_many(&sender, &route, "old", 6).await;
    wait_dispatched(&sender, &route, 6).await;
    let (i1, i2) = (cluster.instance(), cluster.instance());
    let first = config("FromFirst", ConsumeFromWhere::ConsumeFromFirstOffset);
    let last = config("FromLast", ConsumeFromWhere::ConsumeFromLastOffset);
    let (c1, r1) = collecting(i1.clone(), first, "PushFrom", "*").await;
    let (c2, r2) = collecting(i2.clone(), last, "PushFrom", "*").await;
    send_many(&sender, &route, "new", 2).await;
    wait_until("FIRST gets 8", || distinct(&r1).len() == 8).await;
    wait_until("LAST on young queues gets 8", || distinct(&r2).len() == 8).await;
    c1.shutdown().await.expect("shutdown");
    c2.shutdown().await.expect("shutdown");

    // Committed offsets win over consume-from-where: a restarted LAST group gets only what
    // was sent while it was away.
    send_many(&sender, &route, "away", 2).await;
    let i3 = cluster.instance();
    let last = config("FromLast", ConsumeFromWhere::ConsumeFromLastOffset);
    let (c3, r3) = collecting(i3.clone(), last, "PushFrom", "*").await;
    wait_until("resumed group gets 2", || distinct(&r3).len() == 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r3.lock().len(), 2);
    assert!(distinct(&r3).iter().all(|b| b.starts_with("away")));
    c3.shutdown().await.expect("shutdown");
    for instance in [i1, i2, i3, sender] {
        instance.shutdown().await;
    }
    cluster.shutdown().await;
}

/// Bad settings, a missing listener and a second start are refused before any traffic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_checks() {
    let cluster = TestCluster::start(1).await;
    cluster.create_topic("PushChecks", 1).await;
    let instance = cluster.instance();
    let no_listener = PushConsumer::new(
        instance.clone(),
        config("ChecksGroup", ConsumeFromWhere::ConsumeFromLastOffset),
    );
    no_listener.subscribe("PushChecks", "*").expect("subscribe");
    assert!(matches!(
        no_listener.start().await,
        Err(ConsumerError::InvalidConfig(_))
    ));
    assert!(no_listener.subscribe("PushChecks", "A || *").is_err());
    let bad_group = PushConsumer::new(instance.clone(), PushConsumerConfig::new("bad group"));
    bad_group.register_message_listener_fn(|_, _| ConsumeConcurrentlyStatus::ConsumeSuccess);
    assert!(bad_group.start().await.is_err());
    let (consumer, _) = collecting(
        instance.clone(),
        config("ChecksGroup", ConsumeFromWhere::ConsumeFromLastOffset),
        "PushChecks",
        "*",
    )
    .await;
    assert!(matches!(
        consumer.start().await,
        Err(ConsumerError::State { .. })
    ));
    // A second consumer of the group on the same instance is refused, and the first one
    // stays a member.
    let twin = PushConsumer::new(
        instance.clone(),
        config("ChecksGroup", ConsumeFromWhere::ConsumeFromLastOffset),
    );
    twin.subscribe("PushChecks", "*").expect("subscribe");
    twin.register_message_listener_fn(|_, _| ConsumeConcurrentlyStatus::ConsumeSuccess);
    let refused = twin
        .start()
        .await
        .expect_err("same group twice on one instance");
    assert!(refused.to_string().contains("already started"), "{refused}");
    twin.shutdown()
        .await
        .expect("shutdown of a consumer that never started");
    assert!(
        instance
            .heartbeat_data()
            .consumer_data_set
            .iter()
            .any(|c| c.group_name == "ChecksGroup")
    );
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    cluster.shutdown().await;
}

/// A body sent zlib-compressed (COMPRESSED, type zlib) reaches the listener inflated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_bodies_arrive_inflated() {
    use std::io::Write;
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("PushZip", 1).await;
    let sender = cluster.instance();
    let text = b"compressible ".repeat(100);
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&text).expect("compress");
    let packed = Bytes::from(encoder.finish().expect("finish"));
    let addr = route.master_addr("broker-a").expect("master");
    let mut header = common::send_header(0, &Message::new("PushZip", Bytes::new()));
    header.sys_flag = 0x1 | 0x300;
    sender
        .send_message(addr, &header, packed.clone(), TIMEOUT)
        .await
        .expect("send");
    let instance = cluster.instance();
    let cfg = config("ZipGroup", ConsumeFromWhere::ConsumeFromFirstOffset);
    let (consumer, received) = collecting(instance.clone(), cfg, "PushZip", "*").await;
    wait_until("the message", || !received.lock().is_empty()).await;
    let got = received.lock()[0].clone();
    assert_eq!(&got.body[..], &text[..]);
    assert_eq!(got.sys_flag & 0x1, 0);
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}
