use apogee_protocol::message::batch::decode_batch;
use apogee_protocol::message::sysflag::COMPRESSED;

use super::*;

fn config() -> ProducerConfig {
    ProducerConfig::new("pg")
}

fn ids() -> UniqueIdGenerator {
    UniqueIdGenerator::new("127.0.0.1")
}

/// Bad topics, empty and oversized bodies, and unencodable properties are refused.
#[test]
fn message_checks() {
    let ok = Message::new("T", &b"x"[..]);
    assert!(check_message(&ok, 10).is_ok());
    let e = check_message(&Message::new("bad topic", &b"x"[..]), 10).expect_err("name");
    assert!(matches!(e, ClientError::InvalidName(_)), "{e}");
    let e = check_message(&Message::new("TBW102", &b"x"[..]), 10).expect_err("reserved");
    assert!(e.to_string().contains("reserved"), "{e}");
    let e = check_message(&Message::new("T", Bytes::new()), 10).expect_err("empty");
    assert!(e.to_string().contains("empty"), "{e}");
    let e = check_message(&Message::new("T", vec![0u8; 11]), 10).expect_err("big");
    assert!(e.to_string().contains("maxMessageSize"), "{e}");
    let e = check_message(&ok.clone().with_property("a\u{1}", "v"), 10).expect_err("sep");
    assert!(e.to_string().contains("cannot be encoded"), "{e}");
}

/// A single message gets an id, is compressed from the threshold on, and TRAN_MSG makes it
/// a prepared message.
#[test]
fn single_sysflag_and_id() {
    let c = config();
    let small = Outgoing::single(Message::new("T", vec![7u8; 4095]), &c, &ids()).expect("ok");
    assert_eq!(small.sys_flag, 0);
    assert_eq!(small.body.len(), 4095);
    let props = small.properties.clone().unwrap_or_default();
    assert_eq!(
        properties::get(&props, UNIQ_KEY),
        Some(small.msg_id.as_str())
    );

    let big = Outgoing::single(Message::new("T", vec![7u8; 4096]), &c, &ids()).expect("ok");
    assert_eq!(big.sys_flag, COMPRESSED | 0x300);
    assert!(big.body.len() < 100);

    let kept = Message::new("T", &b"x"[..]).with_property(UNIQ_KEY, "MINE");
    let tx = kept.with_property(TRAN_MSG, "true");
    let out = Outgoing::single(tx, &c, &ids()).expect("ok");
    assert_eq!(out.msg_id, "MINE");
    assert_eq!(out.sys_flag, TRANSACTION_PREPARED);

    let retry = Message::new("%RETRY%cg", &b"x"[..])
        .with_property(RECONSUME_TIME, "3")
        .with_property(MAX_RECONSUME_TIMES, "16");
    let out = Outgoing::single(retry, &c, &ids()).expect("ok");
    let header = out.header(&c, &MessageQueue::default(), 1);
    assert_eq!(header.reconsume_times, Some(3));
    assert_eq!(header.max_reconsume_times, Some(16));
    assert_eq!(header.default_topic, "TBW102");
    assert_eq!(header.default_topic_queue_nums, 4);
}

/// A batch: one topic, own ids per message, an encoded body, joined ids.
#[test]
fn batch_encoding_and_checks() {
    let c = config();
    let msgs = vec![
        Message::new("T", &b"one"[..]).with_tags("A"),
        Message::new("T", &b"two"[..]).with_flag(9),
    ];
    let out = Outgoing::batch(msgs, &c, &ids()).expect("batch");
    assert!(out.batch);
    let entries = decode_batch(&out.body).expect("decodes");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].flag, 9);
    let ids_in_body: Vec<_> = entries
        .iter()
        .filter_map(|e| properties::get(&e.properties, UNIQ_KEY).map(str::to_owned))
        .collect();
    assert_eq!(out.msg_id, ids_in_body.join(","));
    assert_ne!(ids_in_body[0], ids_in_body[1]);
    assert!(out.header(&c, &MessageQueue::default(), 1).is_batch());

    let e = Outgoing::batch(Vec::new(), &c, &ids()).expect_err("empty");
    assert!(e.to_string().contains("at least one"), "{e}");
    let mixed = vec![Message::new("T", &b"1"[..]), Message::new("U", &b"2"[..])];
    let e = Outgoing::batch(mixed, &c, &ids()).expect_err("topics");
    assert!(e.to_string().contains("one topic"), "{e}");
    let delayed = vec![Message::new("T", &b"1"[..]).with_property(DELAY, "3")];
    assert!(Outgoing::batch(delayed, &c, &ids()).is_err());
    let small = ProducerConfig {
        max_message_size: 40,
        ..config()
    };
    let big = vec![
        Message::new("T", vec![1u8; 30]),
        Message::new("T", vec![1u8; 30]),
    ];
    let e = Outgoing::batch(big, &small, &ids()).expect_err("too big");
    assert!(e.to_string().contains("split it"), "{e}");
}
