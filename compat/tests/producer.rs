//! The crates.io `DefaultMQProducer` against Apogee: synchronous, oneway and batch sends to a
//! topic that does not exist yet (auto-created through the TBW102 route), then what reached
//! the store, read back with Apogee's own codec.

#![recursion_limit = "256"]

use apogee_compat::{
    Apogee, ClientEnv, StoredMsg, assert_test_message, describe, index_of, start_producer,
    test_message, wait_until,
};
use rocketmq_client_rust::SendStatus;
use rocketmq_model::common::message::message_single::Message;

fn message(topic: &str, i: usize, kind: &str) -> Message {
    test_message(topic, i, kind)
}

/// Checks that `stored` carries message `i` of `kind` with everything intact.
fn assert_intact(stored: &StoredMsg, topic: &str, i: usize, kind: &str) {
    assert_eq!(stored.topic, topic);
    if let Err(e) = assert_test_message(&stored.body, &stored.properties, i, kind) {
        panic!("stored {e}");
    }
}

/// The stored messages of `kind`, by their index in the body.
fn of_kind(stored: &[StoredMsg], kind: &str) -> Vec<(usize, StoredMsg)> {
    let mut found: Vec<(usize, StoredMsg)> = stored
        .iter()
        .filter_map(|m| Some((index_of(&m.body, kind)?, m.clone())))
        .collect();
    found.sort_by_key(|(i, _)| *i);
    found
}

/// 20 synchronous sends with keys, tags and user properties to a new topic: every one is
/// SEND_OK with a message id, and the store holds them intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_send_to_new_topic_keeps_keys_tags_properties() {
    let apogee = Apogee::start().await;
    let env = ClientEnv::new("sync");
    let mut producer = start_producer(&env, &apogee, "compat_sync_pg").await;
    let topic = "CompatSyncTopic";
    assert!(apogee.broker.context().topics.get(topic).is_none());

    let mut ids = Vec::new();
    for i in 0..20 {
        let result = producer
            .send(message(topic, i, "sync"))
            .await
            .unwrap_or_else(|e| panic!("send {i} failed: {}", describe(&e)))
            .expect("a synchronous send returns a result");
        assert_eq!(
            result.send_status,
            SendStatus::SendOk,
            "send {i}: {result:?}"
        );
        let msg_id = result.msg_id.clone().expect("message id");
        assert!(!msg_id.is_empty(), "send {i}: {result:?}");
        let offset_id = result.offset_msg_id.clone().expect("offset message id");
        assert_eq!(offset_id.len(), 32, "send {i}: {result:?}");
        let mq = result.message_queue.clone().expect("message queue");
        assert_eq!(mq.topic().as_str(), topic);
        ids.push(msg_id.to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "message ids are unique");

    let topic_config = apogee
        .broker
        .context()
        .topics
        .get(topic)
        .expect("auto-created");
    assert!(topic_config.write_queue_nums > 0);

    let stored = apogee.stored(topic).await;
    let sync = of_kind(&stored, "sync");
    assert_eq!(sync.len(), 20, "stored: {stored:?}");
    for (i, m) in &sync {
        assert_intact(m, topic, *i, "sync");
    }
    // The client's unique ids are the message ids it reported.
    let mut uniq: Vec<String> = sync
        .iter()
        .map(|(_, m)| m.prop("UNIQ_KEY").unwrap_or_default().to_owned())
        .collect();
    uniq.sort();
    assert_eq!(uniq, ids);

    producer.shutdown().await;
    let unhealthy = env.shutdown().await;
    assert!(
        unhealthy.is_empty(),
        "client runtime shutdown: {unhealthy:?}"
    );
    apogee.shutdown().await;
}

/// Oneway sends (no response expected) all reach the store intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneway_sends_reach_the_store() {
    let apogee = Apogee::start().await;
    let env = ClientEnv::new("oneway");
    let mut producer = start_producer(&env, &apogee, "compat_oneway_pg").await;
    let topic = "CompatOnewayTopic";
    // One synchronous send first, so the route exists and oneway sends are not lost to the
    // client's first route lookup.
    producer
        .send(message(topic, 0, "oneway"))
        .await
        .expect("first send")
        .expect("result");
    for i in 1..10 {
        producer
            .send_oneway(message(topic, i, "oneway"))
            .await
            .unwrap_or_else(|e| panic!("oneway send {i} failed: {}", describe(&e)));
    }
    wait_until("10 oneway messages in the store", || async {
        apogee.max_offsets(topic).values().sum::<u64>() >= 10
    })
    .await;
    let stored = apogee.stored(topic).await;
    let oneway = of_kind(&stored, "oneway");
    assert_eq!(
        oneway.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    for (i, m) in &oneway {
        assert_intact(m, topic, *i, "oneway");
    }
    producer.shutdown().await;
    let unhealthy = env.shutdown().await;
    assert!(
        unhealthy.is_empty(),
        "client runtime shutdown: {unhealthy:?}"
    );
    apogee.shutdown().await;
}

/// A batch send: one SEND_OK result whose message id lists every message, and every message
/// stored on its own with its own keys, tags and properties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_send_stores_each_message() {
    let apogee = Apogee::start().await;
    let env = ClientEnv::new("batch");
    let mut producer = start_producer(&env, &apogee, "compat_batch_pg").await;
    let topic = "CompatBatchTopic";
    let batch: Vec<Message> = (0..5).map(|i| message(topic, i, "batch")).collect();
    let result = producer.send_batch(batch).await;
    let result = result.unwrap_or_else(|e| panic!("batch send failed: {}", describe(&e)));
    assert_eq!(result.send_status, SendStatus::SendOk, "{result:?}");
    let ids = result.msg_id.clone().expect("message ids");
    assert_eq!(ids.as_str().split(',').count(), 5, "{result:?}");

    let stored = apogee.stored(topic).await;
    let batch = of_kind(&stored, "batch");
    assert_eq!(batch.len(), 5, "stored: {stored:?}");
    for (i, m) in &batch {
        assert_intact(m, topic, *i, "batch");
        assert_eq!(m.queue_id, batch[0].1.queue_id, "a batch goes to one queue");
    }
    let offsets: Vec<i64> = batch.iter().map(|(_, m)| m.queue_offset).collect();
    assert_eq!(
        offsets,
        (offsets[0]..offsets[0] + 5).collect::<Vec<_>>(),
        "consecutive offsets"
    );
    producer.shutdown().await;
    let unhealthy = env.shutdown().await;
    assert!(
        unhealthy.is_empty(),
        "client runtime shutdown: {unhealthy:?}"
    );
    apogee.shutdown().await;
}

/// The producer's queue and message look-ups: max/min offsets, search by time, earliest
/// store time, view by (offset) message id, query by key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_view_and_query_by_key() {
    let apogee = Apogee::start().await;
    let env = ClientEnv::new("lookup");
    let mut producer = start_producer(&env, &apogee, "compat_lookup_pg").await;
    let topic = "CompatLookupTopic";
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let mut results = Vec::new();
    for i in 0..6 {
        let result = producer
            .send(message(topic, i, "lookup"))
            .await
            .unwrap_or_else(|e| panic!("send {i} failed: {}", describe(&e)))
            .expect("result");
        results.push(result);
    }
    apogee.wait_dispatched().await;
    let mq = results[0].message_queue.clone().expect("queue");
    let in_queue = results
        .iter()
        .filter(|r| r.message_queue.as_ref() == Some(&mq))
        .count() as i64;

    let max = producer
        .max_offset(&mq)
        .await
        .unwrap_or_else(|e| panic!("max offset: {}", describe(&e)));
    assert_eq!(max, in_queue, "GET_MAX_OFFSET of {mq:?}");
    let min = producer
        .min_offset(&mq)
        .await
        .unwrap_or_else(|e| panic!("min offset: {}", describe(&e)));
    assert_eq!(min, 0, "GET_MIN_OFFSET");
    let found = producer
        .search_offset(&mq, before)
        .await
        .unwrap_or_else(|e| panic!("search offset: {}", describe(&e)));
    assert_eq!(
        found, 0,
        "SEARCH_OFFSET_BY_TIMESTAMP before the first message"
    );

    // VIEW_MESSAGE_BY_ID with the offset message id from the send result.
    let offset_id = results[0].offset_msg_id.clone().expect("offset message id");
    let viewed = producer
        .view_message(topic, &offset_id)
        .await
        .unwrap_or_else(|e| panic!("view message {offset_id}: {}", describe(&e)));
    assert_eq!(viewed.body().as_deref(), Some(&b"lookup body 0"[..]));
    assert_eq!(viewed.get_tags().as_deref(), Some("TagA"));

    // QUERY_MESSAGE by key (the index of KEYS).
    let end = before + 3_600_000;
    let queried = producer
        .query_message(
            topic,
            "lookup-key-3",
            32,
            before.saturating_sub(60_000),
            end,
        )
        .await
        .unwrap_or_else(|e| panic!("query by key: {}", describe(&e)));
    let bodies: Vec<Vec<u8>> = queried
        .message_list()
        .iter()
        .map(|m| m.body().map(|b| b.to_vec()).unwrap_or_default())
        .collect();
    assert_eq!(
        bodies,
        vec![b"lookup body 3".to_vec()],
        "QUERY_MESSAGE by key"
    );

    producer.shutdown().await;
    let unhealthy = env.shutdown().await;
    assert!(
        unhealthy.is_empty(),
        "client runtime shutdown: {unhealthy:?}"
    );
    apogee.shutdown().await;
}

/// GET_EARLIEST_MSG_STORETIME (32): the store time of the first message of a queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earliest_message_store_time() {
    let apogee = Apogee::start().await;
    let env = ClientEnv::new("earliest");
    let mut producer = start_producer(&env, &apogee, "compat_earliest_pg").await;
    let topic = "CompatEarliestTopic";
    let result = producer
        .send(message(topic, 0, "earliest"))
        .await
        .unwrap_or_else(|e| panic!("send failed: {}", describe(&e)))
        .expect("result");
    apogee.wait_dispatched().await;
    let mq = result.message_queue.clone().expect("queue");
    let earliest = producer.earliest_msg_store_time(&mq).await;
    producer.shutdown().await;
    let _ = env.shutdown().await;
    apogee.shutdown().await;
    let earliest = earliest.unwrap_or_else(|e| panic!("earliest store time: {}", describe(&e)));
    assert!(
        earliest > 1_600_000_000_000,
        "a store timestamp: {earliest}"
    );
}

/// The producer's create_topic (UPDATE_AND_CREATE_TOPIC to every master that serves the key
/// topic): the topic exists on the broker with the asked queue count, and takes sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_topic_through_the_key_topic() {
    let apogee = Apogee::start().await;
    let env = ClientEnv::new("create");
    let mut producer = start_producer(&env, &apogee, "compat_create_pg").await;
    let topic = "CompatCreatedTopic";
    producer
        .create_topic("TBW102", topic, 3, std::collections::HashMap::new())
        .await
        .unwrap_or_else(|e| panic!("create topic: {}", describe(&e)));
    let config = apogee.broker.context().topics.get(topic).expect("created");
    assert_eq!((config.read_queue_nums, config.write_queue_nums), (3, 3));
    let result = producer
        .send(message(topic, 0, "created"))
        .await
        .unwrap_or_else(|e| panic!("send: {}", describe(&e)))
        .expect("result");
    assert_eq!(result.send_status, SendStatus::SendOk);
    assert!(result.message_queue.expect("queue").queue_id() < 3);
    producer.shutdown().await;
    let _ = env.shutdown().await;
    apogee.shutdown().await;
}
