//! Orderly push consumption against a real name server and broker: per-queue order without
//! overlapping calls, SUSPEND_CURRENT_QUEUE_A_MOMENT holding the queue back, and broker
//! locks splitting the queues between two members and passing them on at shutdown, and
//! broadcasting without locks.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_client::consumer::{
    ConsumeFromWhere, ConsumeOrderlyStatus, MessageModel, PushConsumer, PushConsumerConfig,
};
use apogee_client::{ClientConfig, ClientInstance, Message, MessageQueue, TopicRoute};
use bytes::Bytes;
use common::{TestCluster, wait_until};
use parking_lot::Mutex;

/// One listener call's message: who got it, its queue, offset, body and reconsume count.
#[derive(Debug, Clone)]
struct Seen {
    client: String,
    queue_id: i32,
    offset: i64,
    body: String,
    reconsume_times: i32,
}

/// Everything the listeners saw, in call order, and whether two calls on one queue overlapped.
#[derive(Default)]
struct Log {
    seen: Mutex<Vec<Seen>>,
    in_progress: Mutex<BTreeSet<i32>>,
    overlapped: Mutex<Vec<i32>>,
}

impl Log {
    fn len(&self) -> usize {
        self.seen.lock().len()
    }

    /// Offsets per queue id, in delivery order, of `client` (all clients for `None`).
    fn per_queue(&self, client: Option<&str>) -> BTreeMap<i32, Vec<i64>> {
        let mut queues: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
        for seen in self.seen.lock().iter() {
            if client.is_none_or(|c| c == seen.client) {
                queues.entry(seen.queue_id).or_default().push(seen.offset);
            }
        }
        queues
    }
}

/// Fast settings for tests.
fn config(group: &str) -> PushConsumerConfig {
    PushConsumerConfig {
        consume_from_where: ConsumeFromWhere::ConsumeFromFirstOffset,
        persist_consumer_offset_interval: Duration::from_millis(200),
        rebalance_interval: Duration::from_secs(1),
        pull_delay_when_exception: Duration::from_millis(200),
        suspend_current_queue_time: Duration::from_millis(200),
        ..PushConsumerConfig::new(group)
    }
}

/// A client instance with its own client id.
fn named_instance(cluster: &TestCluster, name: &str) -> Arc<ClientInstance> {
    ClientInstance::start(ClientConfig {
        instance_name: name.to_owned(),
        ..cluster.client_config()
    })
}

/// A started orderly consumer that logs every message, sleeping 0..4 ms per call.
async fn logging(
    instance: Arc<ClientInstance>,
    config: PushConsumerConfig,
    topic: &str,
    log: &Arc<Log>,
) -> PushConsumer {
    let consumer = PushConsumer::new(instance.clone(), config);
    consumer.subscribe(topic, "*").expect("subscribe");
    let (log, client) = (log.clone(), instance.client_id().to_owned());
    consumer.register_message_listener_orderly_fn(move |messages, context| {
        let queue_id = context.message_queue.queue_id;
        if !log.in_progress.lock().insert(queue_id) {
            log.overlapped.lock().push(queue_id);
        }
        std::thread::sleep(Duration::from_millis(rand::random_range(0..4)));
        log.seen.lock().extend(messages.iter().map(|m| Seen {
            client: client.clone(),
            queue_id: m.queue_id,
            offset: m.queue_offset,
            body: String::from_utf8_lossy(&m.body).into_owned(),
            reconsume_times: m.reconsume_times,
        }));
        log.in_progress.lock().remove(&queue_id);
        ConsumeOrderlyStatus::Success
    });
    consumer.start().await.expect("start");
    consumer
}

/// Sends `<prefix>-<i>` for `i` in `range` to queue `i % 4` (of broker 0).
async fn send_range(
    sender: &ClientInstance,
    cluster: &TestCluster,
    topic: &str,
    prefix: &str,
    range: std::ops::Range<usize>,
) {
    let addr = cluster.brokers[0].addr().to_string();
    for i in range {
        let message = Message::new(topic, Bytes::from(format!("{prefix}-{i}")));
        let queue_id = i32::try_from(i % 4).expect("small");
        common::send_raw(sender, &addr, queue_id, &message).await;
    }
}

/// Every queue's offsets are exactly `0..n` in order, `n` its message count.
fn assert_complete_in_order(queues: &BTreeMap<i32, Vec<i64>>, expected: &BTreeMap<i32, i64>) {
    for (queue_id, count) in expected {
        let offsets = queues.get(queue_id).cloned().unwrap_or_default();
        let want: Vec<i64> = (0..*count).collect();
        assert_eq!(offsets, want, "queue {queue_id}");
    }
}

/// 50 messages over 4 queues: each queue's messages arrive in offset (= send) order, every
/// one exactly once, with never two calls on one queue at the same time; the committed
/// offsets end at each queue's count.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn per_queue_order_without_overlap() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("OrderlyAll", 4).await;
    let sender = cluster.instance();
    send_range(&sender, &cluster, "OrderlyAll", "m", 0..25).await;
    let log = Arc::new(Log::default());
    let instance = cluster.instance();
    let consumer = logging(
        instance.clone(),
        config("OrderlyAllGroup"),
        "OrderlyAll",
        &log,
    )
    .await;
    send_range(&sender, &cluster, "OrderlyAll", "m", 25..50).await;
    wait_until("50 messages", || log.len() >= 50).await;
    let expected: BTreeMap<i32, i64> = [(0, 13), (1, 13), (2, 12), (3, 12)].into();
    assert_complete_in_order(&log.per_queue(None), &expected);
    assert!(
        log.overlapped.lock().is_empty(),
        "{:?}",
        log.overlapped.lock()
    );
    // Bodies follow the send order per queue; nothing was redelivered.
    for seen in log.seen.lock().iter() {
        assert_eq!(seen.reconsume_times, 0, "{seen:?}");
        let i: i64 = seen.body["m-".len()..].parse().expect("index");
        assert_eq!(i, seen.offset * 4 + i64::from(seen.queue_id), "{seen:?}");
    }
    wait_until("offsets committed", || {
        route
            .read_queues
            .iter()
            .all(|q| consumer.current_offset(q) == expected.get(&q.queue_id).copied())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(log.len(), 50, "nothing delivered twice");
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// A message suspended twice is delivered three times, its reconsume count rising, after
/// the suspend time each; the queue's later messages wait for it and the committed offset
/// never passes it before it succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn suspend_holds_the_queue_back() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("OrderlySuspend", 1).await;
    let queue = route.read_queues[0].clone();
    let sender = cluster.instance();
    send_range(&sender, &cluster, "OrderlySuspend", "s", 0..1).await;
    let addr = cluster.brokers[0].addr().to_string();
    for i in 1..6 {
        let message = Message::new("OrderlySuspend", Bytes::from(format!("s-{i}")));
        common::send_raw(&sender, &addr, 0, &message).await;
    }
    let instance = cluster.instance();
    let consumer = PushConsumer::new(instance.clone(), config("OrderlySuspendGroup"));
    consumer
        .subscribe("OrderlySuspend", "*")
        .expect("subscribe");
    let calls: Arc<Mutex<Vec<(String, i32, Instant)>>> = Arc::default();
    let sink = calls.clone();
    consumer.register_message_listener_orderly_fn(move |messages, context| {
        let m = &messages[0];
        let body = String::from_utf8_lossy(&m.body).into_owned();
        sink.lock()
            .push((body.clone(), m.reconsume_times, Instant::now()));
        if body == "s-2" && m.reconsume_times < 2 {
            // The second suspend asks for its own wait.
            if m.reconsume_times == 1 {
                context.suspend_current_queue_time_millis = 300;
            }
            return ConsumeOrderlyStatus::SuspendCurrentQueueAMoment;
        }
        ConsumeOrderlyStatus::Success
    });
    consumer.start().await.expect("start");
    // While s-2 is being retried, the committed offset stays at it.
    wait_until("s-2 delivered", || calls.lock().len() >= 3).await;
    while calls.lock().len() < 5 {
        let offset = consumer.current_offset(&queue).unwrap_or(0);
        assert!(offset <= 2 || calls.lock().len() >= 5, "committed {offset}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    wait_until("6 successes", || calls.lock().len() >= 8).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let calls = calls.lock().clone();
    let order: Vec<(&str, i32)> = calls.iter().map(|(b, t, _)| (b.as_str(), *t)).collect();
    assert_eq!(
        order,
        [
            ("s-0", 0),
            ("s-1", 0),
            ("s-2", 0),
            ("s-2", 1),
            ("s-2", 2),
            ("s-3", 0),
            ("s-4", 0),
            ("s-5", 0)
        ]
    );
    let first_wait = calls[3].2 - calls[2].2;
    let second_wait = calls[4].2 - calls[3].2;
    assert!(first_wait >= Duration::from_millis(190), "{first_wait:?}");
    assert!(second_wait >= Duration::from_millis(290), "{second_wait:?}");
    wait_until("offset 6 committed", || {
        consumer.current_offset(&queue) == Some(6)
    })
    .await;
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// Locks `queues` as `instance`; returns the ones granted.
async fn try_lock(
    instance: &ClientInstance,
    addr: &str,
    group: &str,
    queues: &[MessageQueue],
) -> BTreeSet<MessageQueue> {
    let granted = instance
        .lock_queues(addr, group, queues.to_vec())
        .await
        .expect("LOCK_BATCH_MQ");
    granted.into_iter().collect()
}

/// Two members split the queues, each holding the broker locks of its own (a third client
/// gets none); when one shuts down it unlocks them and the other takes over, continuing
/// every queue in order without losing or repeating a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_members_lock_split_and_take_over() {
    let cluster = TestCluster::start(1).await;
    let route: Arc<TopicRoute> = cluster.create_topic("OrderlySplit", 4).await;
    let all: Vec<MessageQueue> = route.read_queues.clone();
    let addr = cluster.brokers[0].addr().to_string();
    let group = "OrderlySplitGroup";
    let sender = cluster.instance();
    let log = Arc::new(Log::default());
    let (ia, ib, ic) = (
        named_instance(&cluster, "A"),
        named_instance(&cluster, "B"),
        named_instance(&cluster, "C"),
    );
    let a = logging(ia.clone(), config(group), "OrderlySplit", &log).await;
    send_range(&sender, &cluster, "OrderlySplit", "x", 0..20).await;
    let b = logging(ib.clone(), config(group), "OrderlySplit", &log).await;
    wait_until("an even split", || {
        a.assigned_queues().len() == 2 && b.assigned_queues().len() == 2
    })
    .await;
    let (qa, qb) = (a.assigned_queues(), b.assigned_queues());
    let union: BTreeSet<MessageQueue> = qa.iter().chain(&qb).cloned().collect();
    assert_eq!(union.len(), 4, "{qa:?} {qb:?}");
    send_range(&sender, &cluster, "OrderlySplit", "x", 20..40).await;
    wait_until("40 messages", || log.len() >= 40).await;
    // B assigns itself a queue only once it holds its lock, A holds its own since start:
    // a third client gets none (a lock it got would last 60 s and stall B).
    let stolen = try_lock(&ic, &addr, group, &all).await;
    assert!(stolen.is_empty(), "a third client locked {stolen:?}");
    assert_eq!(
        try_lock(&ia, &addr, group, &qa).await.len(),
        2,
        "A holds its queues"
    );
    assert_eq!(
        try_lock(&ib, &addr, group, &qb).await.len(),
        2,
        "B holds its queues"
    );
    assert!(
        try_lock(&ia, &addr, group, &qb).await.is_empty(),
        "A cannot take B's"
    );

    a.shutdown().await.expect("shutdown A");
    wait_until("B takes over", || b.assigned_queues().len() == 4).await;
    send_range(&sender, &cluster, "OrderlySplit", "x", 40..60).await;
    wait_until("60 messages", || log.len() >= 60).await;
    assert!(
        try_lock(&ic, &addr, group, &all).await.is_empty(),
        "B holds all"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let expected: BTreeMap<i32, i64> = (0..4).map(|q| (q, 15)).collect();
    assert_complete_in_order(&log.per_queue(None), &expected);
    for client in [ia.client_id(), ib.client_id()] {
        for (queue_id, offsets) in log.per_queue(Some(client)) {
            assert!(
                offsets.windows(2).all(|w| w[0] < w[1]),
                "{client} {queue_id}"
            );
        }
    }
    assert!(
        log.overlapped.lock().is_empty(),
        "{:?}",
        log.overlapped.lock()
    );
    b.shutdown().await.expect("shutdown B");
    assert_eq!(
        try_lock(&ic, &addr, group, &all).await.len(),
        4,
        "B unlocked all"
    );
    for instance in [ia, ib, ic, sender] {
        instance.shutdown().await;
    }
    cluster.shutdown().await;
}

/// Broadcasting takes no broker locks (a third client can lock every queue meanwhile) and
/// still consumes each queue in order, one call at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broadcasting_is_sequential_without_locks() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("OrderlyBroadcast", 4).await;
    let addr = cluster.brokers[0].addr().to_string();
    let group = "OrderlyBroadcastGroup";
    let sender = cluster.instance();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Arc::new(Log::default());
    let instance = named_instance(&cluster, "A");
    let cfg = PushConsumerConfig {
        message_model: MessageModel::Broadcasting,
        offset_store_dir: Some(dir.path().to_path_buf()),
        ..config(group)
    };
    let consumer = logging(instance.clone(), cfg, "OrderlyBroadcast", &log).await;
    send_range(&sender, &cluster, "OrderlyBroadcast", "b", 0..40).await;
    wait_until("40 messages", || log.len() >= 40).await;
    let expected: BTreeMap<i32, i64> = (0..4).map(|q| (q, 10)).collect();
    assert_complete_in_order(&log.per_queue(None), &expected);
    assert!(
        log.overlapped.lock().is_empty(),
        "{:?}",
        log.overlapped.lock()
    );
    let other = named_instance(&cluster, "C");
    let granted = try_lock(&other, &addr, group, &route.read_queues).await;
    assert_eq!(granted.len(), 4, "the broadcasting consumer holds no lock");
    consumer.shutdown().await.expect("shutdown");
    for instance in [instance, other, sender] {
        instance.shutdown().await;
    }
    cluster.shutdown().await;
}
