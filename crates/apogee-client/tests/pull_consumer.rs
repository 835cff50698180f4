//! The lite pull consumer against a real name server and broker: subscribe and poll,
//! assign and seek, commit and continue.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use apogee_client::consumer::{
    ConsumeFromWhere, ConsumerError, LitePullConsumer, LitePullConsumerConfig,
};
use apogee_client::{ClientInstance, Message, MessageExt, TopicRoute};
use bytes::Bytes;
use common::{TestCluster, WAIT};

/// Sends `count` messages `<prefix>-<i>` round robin over the queues.
async fn send_many(instance: &ClientInstance, route: &TopicRoute, prefix: &str, count: usize) {
    for i in 0..count {
        let message = Message::new(route.topic.clone(), Bytes::from(format!("{prefix}-{i}")));
        common::send_round_robin(instance, route, i, &message).await;
    }
}

fn config(group: &str) -> LitePullConsumerConfig {
    LitePullConsumerConfig {
        consume_from_where: ConsumeFromWhere::ConsumeFromFirstOffset,
        auto_commit: false,
        ..LitePullConsumerConfig::new(group)
    }
}

/// Polls until `count` messages came (failing after [`WAIT`]), then checks for extras.
async fn poll_exactly(consumer: &LitePullConsumer, count: usize) -> Vec<MessageExt> {
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    while got.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} polled",
            got.len()
        );
        got.extend(
            consumer
                .poll(Duration::from_millis(200))
                .await
                .expect("poll"),
        );
    }
    let extra = consumer
        .poll(Duration::from_millis(300))
        .await
        .expect("poll");
    assert!(extra.is_empty(), "unexpected {} more", extra.len());
    assert_eq!(got.len(), count);
    got
}

fn bodies(messages: &[MessageExt]) -> BTreeSet<String> {
    messages
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect()
}

/// subscribe + poll gets every message once, over every queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscribe_and_poll_everything() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("LiteAll", 4).await;
    let sender = cluster.instance();
    send_many(&sender, &route, "m", 20).await;
    let instance = cluster.instance();
    let consumer = LitePullConsumer::new(instance.clone(), config("LiteAllGroup"));
    assert!(matches!(
        consumer.poll(Duration::ZERO).await,
        Err(ConsumerError::State { .. })
    ));
    consumer.subscribe("LiteAll", "*").expect("subscribe");
    assert!(matches!(
        consumer.assign(route.read_queues.clone()),
        Err(ConsumerError::MixedSubscribeAndAssign)
    ));
    consumer.start().await.expect("start");
    assert_eq!(consumer.assigned_queues().len(), 4);
    let got = poll_exactly(&consumer, 20).await;
    assert_eq!(bodies(&got).len(), 20);
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// assign one queue, read it, seek back, and read the tail again; bad seeks are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn assign_and_seek() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("LiteSeek", 2).await;
    let sender = cluster.instance();
    send_many(&sender, &route, "s", 20).await;
    let queue = route.read_queues[0].clone();
    let instance = cluster.instance();
    let consumer = LitePullConsumer::new(instance.clone(), config("LiteSeekGroup"));
    consumer.assign(vec![queue.clone()]).expect("assign");
    consumer.start().await.expect("start");
    let got = poll_exactly(&consumer, 10).await;
    assert!(got.iter().all(|m| m.queue() == queue));
    let offsets: Vec<i64> = got.iter().map(|m| m.queue_offset).collect();
    assert_eq!(offsets, (0..10).collect::<Vec<_>>());
    assert_eq!(consumer.position(&queue), Some(10));

    consumer.seek(&queue, 3).await.expect("seek");
    assert_eq!(consumer.position(&queue), Some(3));
    let again = poll_exactly(&consumer, 7).await;
    let offsets: Vec<i64> = again.iter().map(|m| m.queue_offset).collect();
    assert_eq!(offsets, (3..10).collect::<Vec<_>>());

    assert!(matches!(
        consumer.seek(&queue, 11).await,
        Err(ConsumerError::SeekOutOfRange { max: 10, .. })
    ));
    assert!(matches!(
        consumer.seek(&route.read_queues[1], 0).await,
        Err(ConsumerError::NotAssigned(_))
    ));
    consumer.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}

/// After commit_sync the broker holds the polled offsets, and a new consumer of the group
/// continues from them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commit_then_continue() {
    let cluster = TestCluster::start(1).await;
    let route = cluster.create_topic("LiteCommit", 2).await;
    let sender = cluster.instance();
    send_many(&sender, &route, "before", 10).await;
    let instance = cluster.instance();
    let first = LitePullConsumer::new(instance.clone(), config("LiteCommitGroup"));
    first.subscribe("LiteCommit", "*").expect("subscribe");
    first.start().await.expect("start");
    poll_exactly(&first, 10).await;
    first.commit_sync().await.expect("commit");
    for queue in &route.read_queues {
        assert_eq!(first.committed(queue).await.expect("committed"), Some(5));
    }
    first.shutdown().await.expect("shutdown");
    instance.shutdown().await;

    send_many(&sender, &route, "after", 4).await;
    let instance = cluster.instance();
    let second = LitePullConsumer::new(instance.clone(), config("LiteCommitGroup"));
    second.subscribe("LiteCommit", "*").expect("subscribe");
    second.start().await.expect("start");
    let got = poll_exactly(&second, 4).await;
    assert!(
        bodies(&got).iter().all(|b| b.starts_with("after")),
        "{got:?}"
    );
    second.shutdown().await.expect("shutdown");
    instance.shutdown().await;
    sender.shutdown().await;
    cluster.shutdown().await;
}
