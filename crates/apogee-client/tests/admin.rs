//! The admin client against real name servers and brokers: topic create, update, list,
//! describe and delete on one and two brokers; the cluster map; a group's progress and lag;
//! messages by key, by offset id and by unique key; and the errors people see.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_client::admin::{ClusterView, TopicKind, TopicTarget};
use apogee_client::{
    Admin, AdminError, ClientConfig, ClientError, ClientInstance, Message, MessageQueue, TopicSpec,
};
use apogee_protocol::message::properties::UNIQ_KEY;
use bytes::Bytes;
use common::TestCluster;

/// Sends `message` to queue `queue_id` of the broker named `broker`; returns the offset id.
async fn send(
    instance: &Arc<ClientInstance>,
    broker: &str,
    queue_id: i32,
    message: &Message,
) -> String {
    let route = instance.fetch_route(&message.topic).await.expect("route");
    let addr = route.master_addr(broker).expect("master").to_owned();
    let sent = common::send_raw(instance, &addr, queue_id, message).await;
    sent.header.msg_id
}

/// Sends `n` messages to one queue (empty before) and waits until they are dispatched.
async fn send_n(
    instance: &Arc<ClientInstance>,
    topic: &str,
    broker: &str,
    queue_id: i32,
    n: usize,
) {
    for i in 0..n {
        let message = Message::new(topic, Bytes::from(format!("m{i}")));
        send(instance, broker, queue_id, &message).await;
    }
    let addr = instance.master_addr(broker).expect("master");
    let q = queue(topic, broker, queue_id);
    let deadline = Instant::now() + common::WAIT;
    while instance.max_offset(&addr, &q).await.expect("max") < n as i64 {
        assert!(Instant::now() < deadline, "{q:?} never reached {n}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `n` brokers have registered (they do shortly after they start).
async fn wait_registered(admin: &Admin, n: usize) -> ClusterView {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let view = admin.cluster_info().await.expect("cluster info");
        if view.brokers().count() == n {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "brokers never registered: {view:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until a key query finds `n` messages (the index is built after the send returns).
async fn wait_indexed(admin: &Admin, topic: &str, key: &str, n: usize) {
    let deadline = Instant::now() + common::WAIT;
    while admin
        .query_message_by_key(topic, key, 32)
        .await
        .expect("query")
        .len()
        < n
    {
        assert!(
            Instant::now() < deadline,
            "key {key} never indexed {n} times"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn queue(topic: &str, broker: &str, queue_id: i32) -> MessageQueue {
    MessageQueue {
        topic: topic.to_owned(),
        broker_name: broker.to_owned(),
        queue_id,
    }
}

/// Create (8 queues by default), update, list, describe and delete on one broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_lifecycle_one_broker() {
    let cluster = TestCluster::start(1).await;
    let admin = Admin::start(cluster.client_config());
    let broker_addr = cluster.brokers[0].addr().to_string();
    wait_registered(&admin, 1).await;

    let addrs = admin
        .create_topic(&TopicSpec::new("Orders"))
        .await
        .expect("create");
    assert_eq!(addrs, vec![broker_addr.clone()]);
    let route = admin.instance().fetch_route("Orders").await.expect("route");
    assert_eq!(route.write_queues.len(), 8);

    let topics = admin.list_topics().await.expect("list");
    let kind = |name: &str| topics.iter().find(|t| t.name == name).map(|t| t.kind);
    assert_eq!(kind("Orders"), Some(TopicKind::Normal));
    assert_eq!(kind("TBW102"), Some(TopicKind::System));

    send_n(admin.instance(), "Orders", "broker-a", 3, 3).await;
    let status = admin.describe_topic("Orders").await.expect("describe");
    assert_eq!(status.configs.len(), 1);
    assert_eq!(status.configs[0].read_queues, 8);
    assert_eq!(status.configs[0].perm, 6);
    assert_eq!(status.queues.len(), 8);
    assert_eq!(status.queues[3].max_offset, 3);
    assert_eq!(status.queues[3].min_offset, 0);
    assert_eq!(status.queues[3].broker_addr, broker_addr);
    assert_eq!(status.stored_messages(), 3);

    // An update shrinks the queues; the call returns once the route shows it.
    admin
        .create_topic(&TopicSpec::new("Orders").with_queues(2))
        .await
        .expect("update");
    let route = admin.instance().fetch_route("Orders").await.expect("route");
    assert_eq!(route.read_queues.len(), 2);

    let deleted = admin.delete_topic("Orders").await.expect("delete");
    assert_eq!(deleted, vec![broker_addr]);
    let gone = admin.instance().fetch_route_data("Orders").await;
    assert!(
        matches!(gone, Err(ClientError::TopicNotExist { .. })),
        "{gone:?}"
    );
    assert!(cluster.brokers[0].context().topics.get("Orders").is_none());
    assert!(
        !admin
            .list_topics()
            .await
            .expect("list")
            .iter()
            .any(|t| t.name == "Orders")
    );
    let again = admin
        .delete_topic("Orders")
        .await
        .expect_err("no such topic");
    assert!(
        matches!(again, AdminError::Client(ClientError::TopicNotExist { .. })),
        "{again}"
    );

    admin.shutdown().await;
    cluster.shutdown().await;
}

/// Creation on all brokers, one cluster, or one address; the cluster map; deletion from
/// both brokers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_and_cluster_two_brokers() {
    let cluster = TestCluster::start(2).await;
    let admin = Admin::start(cluster.client_config());
    let b_addr = cluster.brokers[1].addr().to_string();

    let view = wait_registered(&admin, 2).await;
    assert_eq!(view.clusters.len(), 1);
    assert_eq!(view.clusters[0].name, "DefaultCluster");
    let brokers: Vec<_> = view.brokers().collect();
    assert_eq!(brokers.len(), 2);
    assert_eq!(brokers[0].name, "broker-a");
    assert_eq!(brokers[1].addr, b_addr);
    assert!(brokers.iter().all(|b| b.role() == "MASTER" && b.id == 0));
    assert!(
        brokers
            .iter()
            .all(|b| b.topic_count.is_some_and(|n| n >= 1))
    );

    let all = admin
        .create_topic(&TopicSpec::new("Both").with_queues(2))
        .await
        .expect("create on all");
    assert_eq!(all.len(), 2);
    let in_cluster = admin
        .create_topic(
            &TopicSpec::new("InCluster").with_target(TopicTarget::Cluster("DefaultCluster".into())),
        )
        .await
        .expect("create in cluster");
    assert_eq!(in_cluster.len(), 2);
    let only_b = admin
        .create_topic(&TopicSpec::new("OnlyB").with_target(TopicTarget::Broker(b_addr.clone())))
        .await
        .expect("create on b");
    assert_eq!(only_b, vec![b_addr]);
    let status = admin.describe_topic("OnlyB").await.expect("describe");
    assert_eq!(status.configs.len(), 1);
    assert_eq!(status.configs[0].broker_name, "broker-b");
    let status = admin.describe_topic("Both").await.expect("describe");
    assert_eq!(status.queues.len(), 4);
    assert_eq!(status.queues[2].queue, queue("Both", "broker-b", 0));

    let deleted = admin.delete_topic("Both").await.expect("delete");
    assert_eq!(deleted.len(), 2);
    for broker in &cluster.brokers {
        assert!(broker.context().topics.get("Both").is_none());
    }
    assert!(matches!(
        admin.instance().fetch_route_data("Both").await,
        Err(ClientError::TopicNotExist { .. })
    ));

    admin.shutdown().await;
    cluster.shutdown().await;
}

/// Lag per queue and in total after sends and commits; the topic filter; unknown groups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_progress_and_lag() {
    let cluster = TestCluster::start(2).await;
    cluster.create_topic("Lagging", 2).await;
    cluster.create_topic("Untouched", 1).await;
    let admin = Admin::start(cluster.client_config());
    let instance = admin.instance().clone();
    send_n(&instance, "Lagging", "broker-a", 0, 3).await;
    send_n(&instance, "Lagging", "broker-b", 1, 2).await;
    send_n(&instance, "Untouched", "broker-a", 0, 4).await;
    let a = cluster.brokers[0].addr().to_string();
    let b = cluster.brokers[1].addr().to_string();
    instance
        .update_consumer_offset(&a, "g1", &queue("Lagging", "broker-a", 0), 1, false)
        .await
        .expect("commit a");
    instance
        .update_consumer_offset(&b, "g1", &queue("Lagging", "broker-b", 1), 2, false)
        .await
        .expect("commit b");

    let progress = admin.consumer_progress("g1", None).await.expect("progress");
    assert_eq!(progress.group, "g1");
    let rows: Vec<_> = progress
        .queues
        .iter()
        .map(|q| (q.queue.clone(), q.broker_offset, q.consumer_offset, q.lag()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (queue("Lagging", "broker-a", 0), 3, 1, 2),
            (queue("Lagging", "broker-b", 1), 2, 2, 0),
        ]
    );
    assert_eq!(progress.total_lag(), 2);
    assert!(progress.clients.is_empty());

    let filtered = admin
        .consumer_progress("g1", Some("Untouched"))
        .await
        .expect("filtered");
    assert!(filtered.queues.is_empty());
    let filtered = admin
        .consumer_progress("g1", Some("Lagging"))
        .await
        .expect("filtered");
    assert_eq!(filtered.total_lag(), 2);
    let nobody = admin
        .consumer_progress("nobody", None)
        .await
        .expect("empty");
    assert!(nobody.queues.is_empty());
    let error = admin
        .consumer_progress("g1", Some("NoSuchTopic"))
        .await
        .expect_err("unknown topic");
    assert!(error.to_string().contains("apogee topic create"), "{error}");

    admin.shutdown().await;
    cluster.shutdown().await;
}

/// Key queries merge both brokers; both id kinds find the message; misses explain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_by_key_and_ids() {
    let cluster = TestCluster::start(2).await;
    cluster.create_topic("Lookup", 1).await;
    let admin = Admin::start(cluster.client_config());
    let instance = admin.instance().clone();
    let uniq = "7F0000011234ABCD00000000000000A1";
    let first = Message::new("Lookup", Bytes::from_static(b"first"))
        .with_keys(["order-7", "shared"])
        .with_tags("TagA")
        .with_property(UNIQ_KEY, uniq);
    let offset_id = send(&instance, "broker-a", 0, &first).await;
    let second = Message::new("Lookup", Bytes::from_static(b"second")).with_keys(["shared"]);
    send(&instance, "broker-b", 0, &second).await;
    wait_indexed(&admin, "Lookup", "shared", 2).await;

    let by_key = admin
        .query_message_by_key("Lookup", "shared", 32)
        .await
        .expect("by key");
    let mut bodies: Vec<_> = by_key.iter().map(|m| m.body.clone()).collect();
    bodies.sort();
    assert_eq!(bodies, vec![Bytes::from("first"), Bytes::from("second")]);
    assert_eq!(
        admin
            .query_message_by_key("Lookup", "shared", 1)
            .await
            .expect("capped")
            .len(),
        1
    );
    let one = admin
        .query_message_by_key("Lookup", "order-7", 32)
        .await
        .expect("by key");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].broker_name, "broker-a");
    assert!(
        admin
            .query_message_by_key("Lookup", "missing", 32)
            .await
            .expect("none")
            .is_empty()
    );

    let viewed = admin
        .view_message(&offset_id, None)
        .await
        .expect("by offset id");
    assert_eq!(&viewed.body[..], b"first");
    assert_eq!(viewed.broker_name, "broker-a");
    assert_eq!(viewed.tags(), Some("TagA"));
    let lower = admin
        .view_message(&offset_id.to_lowercase(), None)
        .await
        .expect("ids are case-insensitive");
    assert_eq!(lower.commit_log_offset, viewed.commit_log_offset);

    let by_uniq = admin
        .view_message(uniq, Some("Lookup"))
        .await
        .expect("by unique key");
    assert_eq!(by_uniq.offset_msg_id, offset_id);
    assert_eq!(by_uniq.msg_id(), uniq);
    let needs_topic = admin
        .view_message(uniq, None)
        .await
        .expect_err("needs topic");
    assert!(
        matches!(needs_topic, AdminError::MessageNotFound { .. }),
        "{needs_topic}"
    );
    assert!(needs_topic.to_string().contains("--topic"), "{needs_topic}");
    let unknown = admin
        .view_message("7F0000011234ABCD00000000000000FF", Some("Lookup"))
        .await
        .expect_err("unknown unique key");
    assert!(unknown.to_string().contains("topic Lookup"), "{unknown}");
    // An offset id past the end of the commit log.
    let (host, _) =
        apogee_protocol::message::message_id::decode_offset_msg_id(&offset_id).expect("id");
    let beyond = apogee_protocol::message::message_id::encode_offset_msg_id(host, 1 << 40);
    let missing = admin
        .view_message(&beyond, None)
        .await
        .expect_err("no record");
    assert!(missing.to_string().contains(&host.to_string()), "{missing}");

    admin.shutdown().await;
    cluster.shutdown().await;
}

/// Bad specs and unreachable name servers fail with messages that say what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_for_people() {
    let cluster = TestCluster::start(1).await;
    let admin = Admin::start(cluster.client_config());
    wait_registered(&admin, 1).await;
    let bad_name = admin
        .create_topic(&TopicSpec::new("bad topic"))
        .await
        .expect_err("bad name");
    assert!(matches!(
        bad_name,
        AdminError::Client(ClientError::InvalidName(_))
    ));
    let no_queues = admin
        .create_topic(&TopicSpec::new("T").with_queues(0))
        .await
        .expect_err("no queues");
    assert!(
        no_queues.to_string().contains("at least one"),
        "{no_queues}"
    );
    let unknown_cluster = admin
        .create_topic(&TopicSpec::new("T").with_target(TopicTarget::Cluster("Nope".into())))
        .await
        .expect_err("unknown cluster");
    assert!(
        matches!(unknown_cluster, AdminError::UnknownCluster { .. }),
        "{unknown_cluster}"
    );
    assert!(
        unknown_cluster.to_string().contains("DefaultCluster"),
        "{unknown_cluster}"
    );
    let describe = admin.describe_topic("Nope").await.expect_err("no topic");
    assert!(
        describe.to_string().contains("does not exist"),
        "{describe}"
    );
    admin.shutdown().await;

    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_addr = dead.local_addr().expect("addr").to_string();
    drop(dead);
    let offline = Admin::start(ClientConfig::with_namesrv(&dead_addr));
    let error = offline.list_topics().await.expect_err("unreachable");
    assert!(
        matches!(
            error.client_error(),
            Some(ClientError::NameServerUnreachable { .. })
        ),
        "{error}"
    );
    assert!(error.to_string().contains(&dead_addr), "{error}");
    offline.shutdown().await;
    cluster.shutdown().await;
}
