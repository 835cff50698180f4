//! Apogee's own SDK (`apogee-client`) against a client we did not write (the crates.io
//! `rocketmq-client-rust`), both ways, through an in-process Apogee: our producer to their
//! push consumer, and their producer to our push consumer. Each side checks bodies (a large
//! one compressed by the sender and inflated by the receiver), tags, keys, user properties
//! and message ids.

#![recursion_limit = "512"]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apogee_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere as SdkConsumeFromWhere, PushConsumer,
    PushConsumerConfig,
};
use apogee_client::{ClientConfig as SdkClientConfig, Producer, ProducerConfig};
use apogee_compat::{
    Apogee, ClientEnv, Collector, Received, describe, start_producer, tag_of, test_message,
    wait_until,
};
use rocketmq_client_rust::{DefaultMQPushConsumer, MQPushConsumer, SendStatus};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_accessor::MessageAccessor;
use rocketmq_model::common::message::message_single::Message;

/// Messages sent each way: `0..SMALL` small ones, then one large one (index `SMALL`).
const SMALL: usize = 20;

/// The sysflag bit of a compressed body (`MessageSysFlag.COMPRESSED_FLAG`).
const COMPRESSED: i32 = 0x1;
/// The sysflag compression-type bits (`MessageSysFlag.COMPRESSION_TYPE_COMPARATOR`).
const COMPRESSION_TYPE_MASK: i32 = 0x700;
/// The type bits of zlib (`MessageSysFlag.COMPRESSION_ZLIB_TYPE`).
const ZLIB_TYPE: i32 = 0x300;

/// The body of message `i` of `kind`: `"{kind} body {i}"`, or for the large one (`i ==
/// SMALL`) 64 KiB of compressible text, far over the 4 KiB compression threshold.
fn body_of(kind: &str, i: usize) -> Vec<u8> {
    if i < SMALL {
        return format!("{kind} body {i}").into_bytes();
    }
    let line = format!("{kind} large body line, compressible; ");
    line.as_bytes()
        .iter()
        .copied()
        .cycle()
        .take(64 * 1024)
        .collect()
}

/// The properties message `i` of `kind` must arrive with (as sent by
/// [`apogee_compat::test_message`], plus `idx`).
fn expected_properties(kind: &str, i: usize) -> [(&'static str, String); 5] {
    [
        ("TAGS", tag_of(i).to_owned()),
        ("KEYS", format!("{kind}-key-{i} order-{i}")),
        ("userProp", format!("value-{i}")),
        ("kind", kind.to_owned()),
        ("idx", i.to_string()),
    ]
}

/// The index of a received message, from its `idx` property.
fn index_from(props: &BTreeMap<String, String>) -> Option<usize> {
    props.get("idx")?.parse().ok()
}

/// Checks body and properties of received message `i` of `kind`.
fn check_intact(
    body: &[u8],
    props: &BTreeMap<String, String>,
    i: usize,
    kind: &str,
) -> Result<(), String> {
    let expected = body_of(kind, i);
    if body != expected.as_slice() {
        return Err(format!(
            "message {i}: body of {} bytes, starting {:?}; expected {} bytes, starting {:?}",
            body.len(),
            String::from_utf8_lossy(&body[..body.len().min(48)]),
            expected.len(),
            String::from_utf8_lossy(&expected[..expected.len().min(48)]),
        ));
    }
    for (name, value) in expected_properties(kind, i) {
        if props.get(name) != Some(&value) {
            return Err(format!(
                "message {i}: property {name} is {:?}, expected {value:?} (all: {props:?})",
                props.get(name)
            ));
        }
    }
    Ok(())
}

/// Waits until `group` has committed every non-empty queue of `topic` up to its end.
async fn wait_committed_to_end(apogee: &Apogee, group: &str, topic: &str) {
    wait_until(&format!("{group} to commit {topic} to its end"), || async {
        committed_to_end(apogee, group, topic)
    })
    .await;
}

/// Whether `group` has committed every non-empty queue of `topic` up to its end.
fn committed_to_end(apogee: &Apogee, group: &str, topic: &str) -> bool {
    let max = apogee.max_offsets(topic);
    let committed = apogee.committed(group, topic);
    !max.is_empty()
        && max
            .iter()
            .all(|(q, end)| *end == 0 || committed.get(q) == Some(end))
}

/// Checks that the one large message of `topic` is stored compressed (so the receiver really
/// had to inflate it) and returns its sysflag; the small ones are stored as they are.
async fn assert_large_stored_compressed(apogee: &Apogee, topic: &str) -> i32 {
    let stored = apogee.stored(topic).await;
    assert_eq!(stored.len(), SMALL + 1, "stored {} messages", stored.len());
    let large: Vec<_> = stored
        .iter()
        .filter(|m| m.prop("idx") == Some(&SMALL.to_string()))
        .collect();
    assert_eq!(large.len(), 1, "one large message stored");
    let large = large[0];
    assert_eq!(
        large.sys_flag & COMPRESSED,
        COMPRESSED,
        "large body stored compressed: sysFlag {:#x}",
        large.sys_flag
    );
    assert!(
        large.body.len() < 8 * 1024,
        "large body stored compressed to {} bytes",
        large.body.len()
    );
    for m in stored
        .iter()
        .filter(|m| m.prop("idx") != Some(&SMALL.to_string()))
    {
        assert_eq!(
            m.sys_flag & COMPRESSED,
            0,
            "small body not compressed: {m:?}"
        );
    }
    large.sys_flag
}

/// Our producer sends 20 small messages and one large (compressed) one to a new topic; the
/// crates.io push consumer gets each exactly once, intact, under the id our producer reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_producer_to_rocketmq_consumer() {
    let apogee = Apogee::start().await;
    let env = ClientEnv::new("interop-sdk-prod");
    let topic = "InteropSdkToRmqTopic";
    let group = "interop_sdk_to_rmq_cg";
    let kind = "sdk";

    let client = SdkClientConfig {
        instance_name: "interop-sdk-producer".to_owned(),
        ..SdkClientConfig::with_namesrv(&apogee.namesrv_addr())
    };
    let producer = Producer::with_client_config(ProducerConfig::new("interop_sdk_pg"), client)
        .expect("our producer");
    producer.start().await.expect("our producer starts");
    assert_eq!(producer.config().compress_msg_body_over_howmuch, 4096);

    // Message ids (UNIQ_KEY) and offset ids our producer reported, by index.
    let mut sent: BTreeMap<usize, (String, String)> = BTreeMap::new();
    for i in 0..=SMALL {
        let mut message = apogee_client::Message::new(topic, body_of(kind, i))
            .with_tags(tag_of(i))
            .with_keys([format!("{kind}-key-{i}"), format!("order-{i}")]);
        for (name, value) in expected_properties(kind, i).into_iter().skip(2) {
            message = message.with_property(name, value);
        }
        let result = producer
            .send(message)
            .await
            .unwrap_or_else(|e| panic!("our producer sends {i}: {e}"));
        assert_eq!(
            result.send_status,
            apogee_client::SendStatus::SendOk,
            "{result}"
        );
        assert_eq!(result.msg_id.len(), 32, "{result}");
        sent.insert(i, (result.msg_id, result.offset_msg_id));
    }
    producer.shutdown().await;
    let sys_flag = assert_large_stored_compressed(&apogee, topic).await;
    assert_eq!(
        sys_flag & (COMPRESSED | COMPRESSION_TYPE_MASK),
        COMPRESSED | ZLIB_TYPE,
        "our producer flags zlib as RocketMQ 5 does: sysFlag {sys_flag:#x}"
    );

    let collector = Collector::new("rmq");
    let mut consumer = DefaultMQPushConsumer::builder(env.runtime())
        .consumer_group(group.to_owned())
        .name_server_addr(apogee.namesrv_addr())
        .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
        .await_termination_millis_when_shutdown(1_000)
        .build();
    consumer
        .subscribe(topic, "*")
        .await
        .unwrap_or_else(|e| panic!("subscribe: {}", describe(&e)));
    consumer.register_message_listener_concurrently(collector.clone());
    consumer
        .start()
        .await
        .unwrap_or_else(|e| panic!("their consumer starts: {}", describe(&e)));

    let received_indices = |received: &[Received]| -> Vec<usize> {
        received
            .iter()
            .filter_map(|r| index_from(&r.properties))
            .collect()
    };
    wait_until("all messages delivered to their consumer", || async {
        received_indices(&collector.received()).len() > SMALL
    })
    .await;
    wait_committed_to_end(&apogee, group, topic).await;
    let received = collector.received();

    // Exactly once, nothing foreign.
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for r in &received {
        let i = index_from(&r.properties)
            .unwrap_or_else(|| panic!("a message without idx reached their consumer: {r:?}"));
        *counts.entry(i).or_default() += 1;
    }
    let expected: BTreeMap<usize, usize> = (0..=SMALL).map(|i| (i, 1)).collect();
    assert_eq!(counts, expected, "each delivered exactly once");

    for r in &received {
        let i = index_from(&r.properties).expect("idx");
        assert_eq!(r.topic, topic);
        assert_eq!(r.reconsume_times, 0, "not redelivered: {r:?}");
        if let Err(e) = check_intact(&r.body, &r.properties, i, kind) {
            panic!("their consumer got {e}");
        }
        assert_eq!(r.tags.as_deref(), Some(tag_of(i)), "get_tags of {i}");
        let (msg_id, offset_msg_id) = &sent[&i];
        // The id applications know the message by is the UNIQ_KEY our producer generated.
        // (rocketmq-client-rust 1.0.0 hands listeners the inner MessageExt, whose msg_id is
        // the offset id, where Java's MessageClientExt.getMsgId returns the UNIQ_KEY: so the
        // UNIQ_KEY is checked as a property, and msg_id against our offset id.)
        assert_eq!(
            r.properties.get("UNIQ_KEY"),
            Some(msg_id),
            "UNIQ_KEY of {i} is our SendResult.msg_id"
        );
        assert_eq!(
            &r.msg_id, offset_msg_id,
            "their msg_id of {i} (offset id) is our SendResult.offset_msg_id"
        );
    }

    consumer.shutdown().await;
    let _ = env.shutdown().await;
    apogee.shutdown().await;
}

/// The crates.io producer sends 20 small messages and one large (compressed) one; our push
/// consumer gets each, inflated and intact, under the id their producer reported, and commits
/// every queue to its end by the time it has shut down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocketmq_producer_to_sdk_consumer() {
    let apogee = Apogee::start().await;
    let env = ClientEnv::new("interop-rmq-prod");
    let topic = "InteropRmqToSdkTopic";
    let group = "interop_rmq_to_sdk_cg";
    let kind = "rmq";

    let mut producer = start_producer(&env, &apogee, "interop_rmq_pg").await;
    let mut sent: BTreeMap<usize, String> = BTreeMap::new();
    for i in 0..=SMALL {
        let message = if i < SMALL {
            let mut m = test_message(topic, i, kind);
            MessageAccessor::put_property(&mut m, "idx".into(), i.to_string().into());
            m
        } else {
            Message::builder()
                .topic(topic)
                .tags(tag_of(i))
                .keys(vec![format!("{kind}-key-{i}"), format!("order-{i}")])
                .body(body_of(kind, i))
                .raw_property("userProp", format!("value-{i}"))
                .expect("user property")
                .raw_property("kind", kind)
                .expect("user property")
                .raw_property("idx", i.to_string())
                .expect("user property")
                .build_unchecked()
        };
        let result = producer
            .send(message)
            .await
            .unwrap_or_else(|e| panic!("their producer sends {i}: {}", describe(&e)))
            .expect("a synchronous send returns a result");
        assert_eq!(result.send_status, SendStatus::SendOk, "{result:?}");
        sent.insert(i, result.msg_id.expect("message id").to_string());
    }
    producer.shutdown().await;
    assert_large_stored_compressed(&apogee, topic).await;

    let seen: Arc<Mutex<Vec<apogee_client::MessageExt>>> = Arc::default();
    let client = SdkClientConfig {
        instance_name: "interop-sdk-consumer".to_owned(),
        ..SdkClientConfig::with_namesrv(&apogee.namesrv_addr())
    };
    let consumer = PushConsumer::with_client_config(
        client,
        PushConsumerConfig {
            consume_from_where: SdkConsumeFromWhere::ConsumeFromFirstOffset,
            persist_consumer_offset_interval: Duration::from_millis(500),
            rebalance_interval: Duration::from_secs(1),
            ..PushConsumerConfig::new(group)
        },
    );
    consumer.subscribe(topic, "*").expect("subscribe");
    let sink = Arc::clone(&seen);
    consumer.register_message_listener_fn(move |messages, _context| {
        sink.lock()
            .expect("listener lock")
            .extend(messages.iter().cloned());
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    consumer.start().await.expect("our consumer starts");
    wait_until("all messages delivered to our consumer", || async {
        seen.lock().expect("lock").len() > SMALL
    })
    .await;
    consumer.shutdown().await.expect("our consumer shuts down");
    let received = seen.lock().expect("lock").clone();

    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for m in &received {
        let i = index_from(&m.properties)
            .unwrap_or_else(|| panic!("a message without idx reached our consumer: {m:?}"));
        *counts.entry(i).or_default() += 1;
    }
    let expected: BTreeMap<usize, usize> = (0..=SMALL).map(|i| (i, 1)).collect();
    assert_eq!(counts, expected, "each delivered exactly once");

    for m in &received {
        let i = index_from(&m.properties).expect("idx");
        assert_eq!(m.topic, topic);
        assert_eq!(m.reconsume_times, 0, "not redelivered: {}", m.msg_id());
        if let Err(e) = check_intact(&m.body, &m.properties, i, kind) {
            panic!("our consumer got {e}");
        }
        assert_eq!(
            m.sys_flag & (COMPRESSED | COMPRESSION_TYPE_MASK),
            0,
            "compression flags cleared once inflated: {i}, sysFlag {:#x}",
            m.sys_flag
        );
        assert_eq!(m.tags(), Some(tag_of(i)), "tags of {i}");
        assert_eq!(
            m.keys(),
            vec![format!("{kind}-key-{i}"), format!("order-{i}")],
            "keys of {i}"
        );
        assert_eq!(
            m.msg_id(),
            sent[&i],
            "msg_id of {i} is their SendResult msg_id"
        );
    }

    // Our consumer commits synchronously on shutdown: the broker has every queue at its end.
    let (max, committed) = (apogee.max_offsets(topic), apogee.committed(group, topic));
    assert!(
        committed_to_end(&apogee, group, topic),
        "committed {committed:?}, queue ends {max:?}"
    );

    let _ = env.shutdown().await;
    apogee.shutdown().await;
}
