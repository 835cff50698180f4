//! Bad input over real sockets to a real broker: malformed and oversized frames, unknown
//! codes, illegal names, oversized bodies, clients that vanish mid-request or never read, and
//! the fast (VIP) port. Each case checks that the offender gets a clear error (or a closed
//! connection), that messages stored before it are all still there byte for byte, that a
//! well-behaved client still gets a send + pull round trip, and that no broker task panicked.

mod common;

use std::time::Duration;

use apogee_protocol::body::{
    ConsumerData, ConsumerListBody, HeartbeatData, MessageModel, SubscriptionData, encode,
};
use apogee_protocol::header::{
    CommandHeader, GetConsumerListByGroupRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use apogee_protocol::message::batch::{BatchEntry, encode_batch};
use apogee_protocol::message::properties;
use apogee_protocol::remoting::codes::{request, response};
use apogee_protocol::remoting::{ExtFields, RemotingCommand, SerializeType};
use apogee_store::FlushDiskType;
use common::{
    TIMEOUT, TestBroker, bodies, bytes_before_close, client, frame, pull, pull_as, raw_send,
    read_response, send_v1, send_v2, start, try_start,
};
use tokio::io::AsyncWriteExt;

/// Frames that cannot be decoded, each with what is wrong with it.
fn malformed_frames() -> Vec<(&'static str, Vec<u8>)> {
    let good = frame(&send_v2("Bad", 0, b"never stored"), SerializeType::Json);
    let header_len = u32::from_be_bytes([0, good[5], good[6], good[7]]) as usize;
    let with_type = |type_byte: u8| {
        let mut f = good.clone();
        f[4] = type_byte;
        f
    };
    // The length field ends the frame inside the header: a complete frame whose header
    // length points past its end.
    let short_length = {
        let mut f = good[..8 + header_len / 2].to_vec();
        let length = (f.len() - 4) as i32;
        f[..4].copy_from_slice(&length.to_be_bytes());
        f
    };
    let far_header = {
        let mut f = good.clone();
        f[5..8].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
        f
    };
    let with_header = |type_byte: u8, header: &[u8]| {
        let mut f = Vec::new();
        f.extend_from_slice(&((4 + header.len()) as i32).to_be_bytes());
        f.extend_from_slice(&[type_byte, 0, 0, header.len() as u8]);
        f.extend_from_slice(header);
        f
    };
    vec![
        ("length shorter than the header", short_length),
        ("header length far past the frame", far_header),
        ("length field below 4", 3i32.to_be_bytes().to_vec()),
        ("negative length", (-1i32).to_be_bytes().to_vec()),
        ("empty header", with_header(0, b"")),
        (
            "invalid JSON header",
            with_header(0, b"{\"code\":10,\"opaque\""),
        ),
        (
            "JSON header that is not an object",
            with_header(0, b"[10, 1]"),
        ),
        (
            "JSON header with a text code",
            with_header(0, b"{\"code\":\"ten\",\"opaque\":1}"),
        ),
        ("truncated ROCKETMQ header", with_header(1, &[0, 10, 0])),
        (
            "ROCKETMQ remark longer than the header",
            with_header(1, &[0, 10, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0x7F, 0, 0, 0]),
        ),
        ("serialize type 2", with_type(2)),
        ("serialize type 0xFF", with_type(0xFF)),
        (
            "HTTP request",
            b"GET / HTTP/1.1\r\nHost: broker\r\n\r\n".to_vec(),
        ),
        (
            "TLS client hello",
            vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC],
        ),
    ]
}

/// Every malformed frame closes its own connection without an answer; the well-behaved
/// client's connection keeps working and nothing is stored or lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_close_only_their_connection() {
    let tb = start(|_, _| {}).await;
    let seeded = tb.seed("Kept", 3).await;
    let good = tb.client.connection(&tb.addr()).await.expect("connection");
    let published = tb.published();
    for (what, bytes) in malformed_frames() {
        let mut stream = raw_send(&tb.addr(), &bytes).await;
        assert_eq!(
            bytes_before_close(&mut stream).await,
            0,
            "{what}: no answer"
        );
        let answer = good
            .request(send_v2("Other", 0, b"x"), TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("after {what}: {e}"));
        assert_eq!(answer.code, response::SUCCESS, "after {what}");
    }
    assert!(!good.is_closed());
    let store = &tb.broker.context().store;
    assert_eq!(
        store.max_offset("Bad", 0),
        0,
        "nothing from a bad frame is stored"
    );
    assert!(tb.published() > published);
    tb.assert_intact("Kept", &seeded).await;
    tb.round_trip().await;
    tb.stop().await;
}

/// The default limit is 16 MiB with the length prefix counted: a frame of exactly 16 MiB is
/// read (and its oversized body refused by maxMessageSize), one byte more is refused from its
/// length prefix alone, before any body is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_frame_limit_is_16_mib() {
    const LIMIT: usize = 16 << 20;
    let tb = start(|_, _| {}).await;
    let seeded = tb.seed("Kept", 2).await;
    let base = frame(&send_v2("Huge", 0, b""), SerializeType::Json).len();
    let body = vec![7u8; LIMIT - base];
    let at_limit = frame(&send_v2("Huge", 0, &body), SerializeType::Json);
    assert_eq!(at_limit.len(), LIMIT);
    let mut stream = raw_send(&tb.addr(), &at_limit).await;
    let answer = read_response(&mut stream).await;
    assert_eq!(answer.code, response::MESSAGE_ILLEGAL);
    assert!(answer.remark.unwrap_or_default().contains("maxMessageSize"));

    let over = ((LIMIT - 4 + 1) as i32).to_be_bytes();
    let mut stream = raw_send(&tb.addr(), &over).await;
    assert_eq!(bytes_before_close(&mut stream).await, 0);
    assert_eq!(tb.broker.context().store.max_offset("Huge", 0), 0);
    tb.assert_intact("Kept", &seeded).await;
    tb.round_trip().await;
    tb.stop().await;
}

/// `frameMaxLength` sets the limit: a frame of exactly the limit is served, one byte more
/// closes the connection, and so does a bare length prefix announcing a gigabyte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_frame_limit() {
    const LIMIT: usize = 8 * 1024;
    let tb = start(|broker, _| broker.frame_max_length = LIMIT).await;
    let seeded = tb.seed("Kept", 2).await;
    let base = frame(&send_v2("Edge", 0, b""), SerializeType::Json).len();
    let at_limit = frame(
        &send_v2("Edge", 0, &vec![1u8; LIMIT - base]),
        SerializeType::Json,
    );
    assert_eq!(at_limit.len(), LIMIT);
    let mut stream = raw_send(&tb.addr(), &at_limit).await;
    let answer = read_response(&mut stream).await;
    assert_eq!(answer.code, response::SUCCESS, "{:?}", answer.remark);
    let published = tb.published();

    let over = frame(
        &send_v2("Edge", 0, &vec![2u8; LIMIT - base + 1]),
        SerializeType::Json,
    );
    let mut stream = raw_send(&tb.addr(), &over).await;
    assert_eq!(
        bytes_before_close(&mut stream).await,
        0,
        "one byte over: closed"
    );
    let mut stream = raw_send(&tb.addr(), &(1i32 << 30).to_be_bytes()).await;
    assert_eq!(
        bytes_before_close(&mut stream).await,
        0,
        "1 GiB announced: closed"
    );

    assert_eq!(
        tb.published(),
        published,
        "nothing stored from refused frames"
    );
    tb.wait_dispatched().await;
    let edge = tb.call(pull("Edge", 0, 0, None)).await;
    assert_eq!(bodies(&edge.body), vec![vec![1u8; LIMIT - base]]);
    tb.assert_intact("Kept", &seeded).await;
    tb.round_trip().await;
    tb.stop().await;
}

/// An unknown code is answered REQUEST_CODE_NOT_SUPPORTED naming the code, in either header
/// serialization (and for a code only JSON can carry), and the connection stays usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_request_code_is_not_supported() {
    let tb = start(|_, _| {}).await;
    let seeded = tb.seed("Kept", 2).await;
    for serialize in [SerializeType::Json, SerializeType::RocketMq] {
        let client = client(serialize);
        let conn = client.connection(&tb.addr()).await.expect("connect");
        let mut codes = vec![7777, 0, -5];
        if serialize == SerializeType::Json {
            codes.push(200_050);
        }
        for code in codes {
            let answer = conn
                .request(
                    RemotingCommand::request(code, ExtFields::default()),
                    TIMEOUT,
                )
                .await
                .expect("answered");
            assert_eq!(answer.code, response::REQUEST_CODE_NOT_SUPPORTED, "{code}");
            let remark = answer.remark.unwrap_or_default();
            assert!(
                remark.contains(&format!("request type {code} not supported")),
                "{remark}"
            );
            let sent = conn
                .request(send_v2("Other", 0, b"after"), TIMEOUT)
                .await
                .expect("same connection still serves");
            assert_eq!(sent.code, response::SUCCESS);
        }
        assert!(!conn.is_closed());
        client.shutdown().await;
    }
    tb.assert_intact("Kept", &seeded).await;
    tb.round_trip().await;
    tb.stop().await;
}

fn update_offset(group: &str, topic: &str) -> RemotingCommand {
    let header = UpdateConsumerOffsetRequestHeader {
        consumer_group: group.into(),
        topic: topic.into(),
        queue_id: 0,
        commit_offset: 1,
    };
    RemotingCommand::request(request::UPDATE_CONSUMER_OFFSET, header.to_ext())
}

fn heartbeat(groups: &[&str]) -> RemotingCommand {
    let data = HeartbeatData {
        client_id: "127.0.0.1@bad-input".into(),
        consumer_data_set: groups
            .iter()
            .map(|g| ConsumerData {
                group_name: (*g).into(),
                message_model: MessageModel::Clustering,
                subscription_data_set: vec![SubscriptionData {
                    topic: "Kept".into(),
                    sub_string: "*".into(),
                    ..SubscriptionData::default()
                }],
                ..ConsumerData::default()
            })
            .collect(),
        ..HeartbeatData::default()
    };
    RemotingCommand::request(request::HEART_BEAT, ExtFields::default()).with_body(encode(&data))
}

/// Asserts `answer` has `code` and a remark containing `needle`.
fn assert_refused(answer: &RemotingCommand, code: i32, needle: &str, what: &str) {
    assert_eq!(answer.code, code, "{what}: {:?}", answer.remark);
    let remark = answer.remark.as_deref().unwrap_or_default();
    assert!(
        remark.contains(needle),
        "{what}: remark {remark:?} lacks {needle:?}"
    );
}

/// Illegal topic and group names get RocketMQ's codes with remarks naming the problem, on
/// send, pull, heartbeat and offset update, and none of them stores or registers anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn illegal_names_are_refused_clearly() {
    let tb = start(|_, _| {}).await;
    let seeded = tb.seed("Kept", 3).await;
    let published = tb.published();
    let long = "t".repeat(128);
    let illegal_topics = [
        ("", "empty"),
        ("   ", "empty"),
        (long.as_str(), "maximum is 127"),
        ("bad topic", "\"bad topic\""),
        ("topic.v1", "\"topic.v1\""),
        ("tópico", "\"tópico\""),
        ("a/b", "\"a/b\""),
    ];
    for (topic, needle) in illegal_topics {
        let answer = tb.call(send_v2(topic, 0, b"x")).await;
        assert_refused(&answer, response::INVALID_PARAMETER, needle, topic);
        let answer = tb.call(send_v1(topic, 0, b"x")).await;
        assert_refused(&answer, response::INVALID_PARAMETER, needle, topic);
    }
    // The ROCKETMQ header cannot carry an empty value: the topic is simply missing.
    let binary = client(SerializeType::RocketMq);
    let answer = binary
        .invoke(&tb.addr(), send_v2("", 0, b"x"), TIMEOUT)
        .await
        .expect("answer");
    assert_refused(
        &answer,
        response::SYSTEM_ERROR,
        "b",
        "empty topic, binary header",
    );
    binary.shutdown().await;
    for topic in [
        "TBW102",
        "SCHEDULE_TOPIC_XXXX",
        "RMQ_SYS_TRANS_HALF_TOPIC",
        "RMQ_SYS_TRANS_OP_HALF_TOPIC",
        "TRANS_CHECK_MAX_TIME_TOPIC",
        "SELF_TEST_TOPIC",
        "OFFSET_MOVED_EVENT",
    ] {
        let answer = tb.call(send_v2(topic, 0, b"x")).await;
        assert_refused(&answer, response::NO_PERMISSION, topic, topic);
    }

    for group in ["", "bad group", &"g".repeat(256)] {
        let answer = tb.call(pull_as(group, "Kept", 0, 0, None)).await;
        assert_refused(&answer, response::INVALID_PARAMETER, "group name", group);
        let answer = tb.call(update_offset(group, "Kept")).await;
        assert_refused(&answer, response::INVALID_PARAMETER, "group name", group);
        assert_eq!(tb.broker.context().offsets.query(group, "Kept", 0), None);
    }
    for topic in ["bad topic", "a/b"] {
        let answer = tb.call(pull(topic, 0, 0, None)).await;
        assert_refused(&answer, response::TOPIC_NOT_EXIST, topic, topic);
        let answer = tb.call(update_offset("cg", topic)).await;
        assert_refused(&answer, response::INVALID_PARAMETER, topic, topic);
        assert_eq!(tb.broker.context().offsets.query("cg", topic, 0), None);
    }

    // One bad group in a heartbeat registers none of its groups.
    let answer = tb.call(heartbeat(&["goodGroup", "bad group"])).await;
    assert_refused(&answer, response::SYSTEM_ERROR, "bad group", "heartbeat");
    let garbage = RemotingCommand::request(request::HEART_BEAT, ExtFields::default())
        .with_body(b"{\"clientID\": [".to_vec());
    let answer = tb.call(garbage).await;
    assert_refused(
        &answer,
        response::SYSTEM_ERROR,
        "HEART_BEAT",
        "garbage heartbeat",
    );
    let members = GetConsumerListByGroupRequestHeader {
        consumer_group: "goodGroup".into(),
    };
    let listed = tb
        .call(RemotingCommand::request(
            request::GET_CONSUMER_LIST_BY_GROUP,
            members.to_ext(),
        ))
        .await;
    assert_ne!(listed.code, response::SUCCESS, "{:?}", listed.body);
    assert!(tb.broker.context().topics.get("%RETRY%goodGroup").is_none());

    assert_eq!(tb.published(), published, "nothing was stored");
    let store = &tb.broker.context().store;
    for topic in [
        "bad topic",
        "TBW102",
        "SCHEDULE_TOPIC_XXXX",
        "RMQ_SYS_TRANS_HALF_TOPIC",
    ] {
        assert_eq!(store.max_offset(topic, 0), 0, "{topic}");
    }
    assert!(tb.broker.context().topics.get("bad topic").is_none());
    // The good heartbeat still works afterwards.
    let answer = tb.call(heartbeat(&["goodGroup"])).await;
    assert_eq!(answer.code, response::SUCCESS);
    let listed = tb
        .call(RemotingCommand::request(
            request::GET_CONSUMER_LIST_BY_GROUP,
            members.to_ext(),
        ))
        .await;
    let list: ConsumerListBody = apogee_protocol::body::decode(&listed.body).expect("list");
    assert_eq!(
        list.consumer_id_list,
        vec!["127.0.0.1@bad-input".to_owned()]
    );
    tb.assert_intact("Kept", &seeded).await;
    tb.round_trip().await;
    tb.stop().await;
}

fn batch(topic: &str, sizes: &[usize]) -> RemotingCommand {
    let entries: Vec<BatchEntry> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| BatchEntry {
            flag: 0,
            body: vec![b'b'; size].into(),
            properties: properties::encode([("UNIQ_KEY", format!("{i:032X}").as_str())]),
        })
        .collect();
    let mut req = send_v2(topic, 0, b"");
    req.code = request::SEND_BATCH_MESSAGE;
    req.ext_fields.put("m", "true");
    req.body = encode_batch(&entries).into();
    req
}

/// Bodies over maxMessageSize are MESSAGE_ILLEGAL naming the limit: a single message, a batch
/// with one oversized message, and a batch of small messages whose total is over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_illegal() {
    const MAX: usize = 1024;
    let tb = start(|_, store| store.max_message_size = MAX).await;
    let mut seeded = tb.seed("Kept", 2).await;
    let at_max = vec![b'm'; MAX];
    let sent = tb.call(send_v2("Kept", 0, &at_max)).await;
    assert_eq!(sent.code, response::SUCCESS, "{:?}", sent.remark);
    seeded.push(at_max);
    let published = tb.published();

    for serialize in [SerializeType::Json, SerializeType::RocketMq] {
        let client = client(serialize);
        let cases = [
            ("one byte over", send_v2("Kept", 0, &[b'o'; MAX + 1])),
            (
                "long header, one byte over",
                send_v1("Kept", 0, &[b'o'; MAX + 1]),
            ),
            (
                "batch with an oversized message",
                batch("Kept", &[10, MAX + 1]),
            ),
            ("batch over in total", batch("Kept", &[400, 400, 400])),
        ];
        for (what, req) in cases {
            let answer = client.invoke(&tb.addr(), req, TIMEOUT).await.expect(what);
            assert_refused(&answer, response::MESSAGE_ILLEGAL, "maxMessageSize", what);
        }
        client.shutdown().await;
    }
    assert_eq!(tb.published(), published, "nothing was stored");
    let small = tb.call(batch("SmallBatch", &[100, 100])).await;
    assert_eq!(small.code, response::SUCCESS, "{:?}", small.remark);
    tb.assert_intact("Kept", &seeded).await;
    tb.round_trip().await;
    tb.stop().await;
}

/// Half a frame followed by a disconnect stores nothing and disturbs no one; a frame that
/// arrives in pieces is still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_frame_then_disconnect() {
    let tb = start(|_, _| {}).await;
    let seeded = tb.seed("Kept", 2).await;
    for serialize in [SerializeType::Json, SerializeType::RocketMq] {
        let whole = frame(&send_v2("Half", 0, b"half a message"), serialize);
        for cut in [1, 4, 7, 8, whole.len() / 2, whole.len() - 1] {
            drop(raw_send(&tb.addr(), &whole[..cut]).await);
        }
        let mut pieces = raw_send(&tb.addr(), &whole[..whole.len() / 2]).await;
        tokio::task::yield_now().await;
        pieces
            .write_all(&whole[whole.len() / 2..])
            .await
            .expect("write");
        let answer = read_response(&mut pieces).await;
        assert_eq!(answer.code, response::SUCCESS);
    }
    tb.round_trip().await;
    tb.wait_dispatched().await;
    let half = tb.call(pull("Half", 0, 0, None)).await;
    assert_eq!(
        bodies(&half.body),
        vec![b"half a message".to_vec(), b"half a message".to_vec()],
        "only the two whole frames were stored"
    );
    tb.assert_intact("Kept", &seeded).await;
    tb.stop().await;
}

/// SYNC_FLUSH sends whose clients disconnect right after writing them (before any answer)
/// are each stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn send_then_disconnect_is_stored_once() {
    const SENDS: usize = 30; // one pull returns them all (at most 32)
    let tb = start(|_, store| store.flush_disk_type = FlushDiskType::SyncFlush).await;
    let seeded = tb.seed("Kept", 2).await;
    for i in 0..SENDS {
        let serialize = if i % 2 == 0 {
            SerializeType::Json
        } else {
            SerializeType::RocketMq
        };
        let bytes = frame(&send_v2("Vanish", 0, format!("v{i}").as_bytes()), serialize);
        let mut stream = raw_send(&tb.addr(), &bytes).await;
        stream.shutdown().await.expect("shutdown");
        drop(stream);
    }
    // The sends run on after their connections close; wait until all have landed.
    let store = &tb.broker.context().store;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while store.max_offset("Vanish", 0) < SENDS as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {SENDS} sends stored",
            store.max_offset("Vanish", 0)
        );
        tb.wait_dispatched().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tb.round_trip().await;
    tb.wait_dispatched().await;
    let pulled = tb.call(pull("Vanish", 0, 0, None)).await;
    let mut got: Vec<String> = bodies(&pulled.body)
        .into_iter()
        .map(|b| String::from_utf8(b).expect("utf-8"))
        .collect();
    got.sort();
    let mut expected: Vec<String> = (0..SENDS).map(|i| format!("v{i}")).collect();
    expected.sort();
    assert_eq!(got, expected, "each vanished sender's message exactly once");
    assert!(store.positions().flushed >= store.positions().published);
    tb.assert_intact("Kept", &seeded).await;
    tb.stop().await;
}

/// A held (long-polling) pull whose client disconnects is dropped at once: the broker keeps
/// serving, and shuts down without waiting out the 30 s hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_pull_of_a_vanished_client_is_dropped() {
    let tb = start(|_, _| {}).await;
    let seeded = tb.seed("Kept", 2).await;
    tb.wait_dispatched().await;
    for serialize in [SerializeType::Json, SerializeType::RocketMq] {
        let held = frame(&pull("Kept", 0, 2, Some(30_000)), serialize);
        let stream = raw_send(&tb.addr(), &held).await;
        drop(stream);
    }
    // A second held pull on a live connection, which is answered by the next send.
    let waiter = client(SerializeType::Json);
    let addr = tb.addr();
    let held = tokio::spawn(async move {
        let answer = waiter
            .invoke(&addr, pull("Kept", 0, 2, Some(30_000)), TIMEOUT)
            .await;
        waiter.shutdown().await;
        answer
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let sent = tb.call(send_v2("Kept", 0, b"wakes the live one")).await;
    assert_eq!(sent.code, response::SUCCESS);
    let woken = held.await.expect("join").expect("answered");
    assert_eq!(bodies(&woken.body), vec![b"wakes the live one".to_vec()]);
    let mut expected = seeded;
    expected.push(b"wakes the live one".to_vec());
    tb.assert_intact("Kept", &expected).await;
    tb.round_trip().await;
    let started = std::time::Instant::now();
    tb.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no held pull outlived its client"
    );
}

/// A client that pipelines requests and never reads the answers is disconnected once a
/// response has waited `serverWriteTimeoutMillis` for room; others are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_that_never_reads_is_disconnected() {
    let tb = start(|broker, _| broker.server_write_timeout_millis = 300).await;
    let seeded = tb.seed("Kept", 2).await;
    let big = vec![b'B'; 48 * 1024];
    for _ in 0..4 {
        assert_eq!(
            tb.call(send_v2("Big", 0, &big)).await.code,
            response::SUCCESS
        );
    }
    tb.wait_dispatched().await;

    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let mut greedy = socket.connect(tb.broker.addr()).await.expect("connect");
    let mut requests = Vec::new();
    for i in 0..50 {
        let req = if i % 2 == 0 {
            pull("Big", 0, 0, None)
        } else {
            send_v2("Greedy", 0, b"g")
        };
        requests.extend_from_slice(&frame(&req, SerializeType::Json));
    }
    let writer = tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        let mut batches = 0u32;
        while started.elapsed() < Duration::from_secs(4) {
            let write = tokio::time::timeout(Duration::from_secs(1), greedy.write_all(&requests));
            match write.await {
                Ok(Ok(())) => batches += 1,
                Ok(Err(_)) => return Some((started.elapsed(), batches)),
                Err(_) => {} // blocked: the broker stopped reading but kept the socket
            }
        }
        None
    });
    // Well-behaved clients are served while the greedy one is stuck.
    for _ in 0..3 {
        tb.round_trip().await;
    }
    let (elapsed, batches) = writer
        .await
        .expect("join")
        .expect("the broker closes the connection of a client that never reads");
    assert!(batches > 0);
    assert!(elapsed < Duration::from_secs(4), "closed after {elapsed:?}");
    tb.assert_intact("Big", &vec![big; 4]).await;
    tb.assert_intact("Kept", &seeded).await;
    tb.round_trip().await;
    tb.stop().await;
}

/// A port whose port - 2 is also free, for a broker with a fast port.
fn free_port_pair() -> Option<u16> {
    let listener = std::net::TcpListener::bind("0.0.0.0:0").ok()?;
    let port = listener.local_addr().ok()?.port();
    let fast = std::net::TcpListener::bind(("0.0.0.0", port.checked_sub(2)?)).ok()?;
    drop((listener, fast));
    Some(port)
}

/// Starts a broker on a free port pair (the fast port is listenPort - 2); retries when
/// another process takes a port between the probe and the bind.
async fn start_with_fast_port() -> TestBroker {
    for _ in 0..20 {
        let Some(port) = free_port_pair() else {
            continue;
        };
        match try_start(port, |_, _| {}).await {
            Ok(tb) => return tb,
            Err(e) => eprintln!("port {port}: {e}"),
        }
    }
    panic!("no free port pair for a broker with a fast port");
}

/// The fast (VIP) port serves sends (long header, code 10, and V2, code 310) and pulls with
/// JSON and ROCKETMQ headers, into the same store as the main port; bad input there is
/// handled as on the main port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_port_serves_both_serializations_and_send_forms() {
    let tb = start_with_fast_port().await;
    let main = tb.broker.addr();
    let fast = std::net::SocketAddr::new(main.ip(), main.port() - 2).to_string();
    let mut expected = Vec::new();
    for serialize in [SerializeType::Json, SerializeType::RocketMq] {
        let client = client(serialize);
        for (form, req) in [
            ("v1", send_v1 as fn(&str, i32, &[u8]) -> RemotingCommand),
            ("v2", send_v2),
        ] {
            let body = format!("fast-{serialize:?}-{form}").into_bytes();
            let sent = client
                .invoke(&fast, req("Fast", 0, &body), TIMEOUT)
                .await
                .expect("answered on the fast port");
            assert_eq!(sent.code, response::SUCCESS, "{:?}", sent.remark);
            expected.push(body);
        }
        let unknown = client
            .invoke(
                &fast,
                RemotingCommand::request(7777, ExtFields::default()),
                TIMEOUT,
            )
            .await
            .expect("answered");
        assert_eq!(unknown.code, response::REQUEST_CODE_NOT_SUPPORTED);
        client.shutdown().await;
    }
    tb.wait_dispatched().await;
    for serialize in [SerializeType::Json, SerializeType::RocketMq] {
        let client = client(serialize);
        for addr in [&fast, &main.to_string()] {
            let pulled = client
                .invoke(addr, pull("Fast", 0, 0, None), TIMEOUT)
                .await
                .expect("pull answered");
            assert_eq!(pulled.code, response::SUCCESS);
            assert_eq!(bodies(&pulled.body), expected, "pulled via {addr}");
        }
        client.shutdown().await;
    }
    let mut garbage = raw_send(&fast, b"GET / HTTP/1.1\r\n\r\n").await;
    assert_eq!(bytes_before_close(&mut garbage).await, 0);
    tb.round_trip_via(&fast, SerializeType::RocketMq).await;
    tb.round_trip_via(&fast, SerializeType::Json).await;
    tb.assert_intact("Fast", &expected).await;
    tb.stop().await;
}

/// A pull from a negative queue offset is refused with INVALID_PARAMETER naming it, instead
/// of being served from offset 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_pull_offset_is_refused() {
    let tb = start(|_, _| {}).await;
    let seeded = tb.seed("Kept", 2).await;
    let client = client(SerializeType::Json);
    let answer = client
        .invoke(&tb.addr(), common::pull("Kept", 0, -1, None), TIMEOUT)
        .await
        .expect("answered");
    assert_eq!(answer.code, response::INVALID_PARAMETER);
    let remark = answer.remark.unwrap_or_default();
    assert!(remark.contains("queueOffset -1"), "{remark}");
    client.shutdown().await;
    tb.assert_intact("Kept", &seeded).await;
    tb.round_trip().await;
    tb.stop().await;
}
