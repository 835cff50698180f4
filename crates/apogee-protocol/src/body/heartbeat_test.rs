use proptest::prelude::*;

use super::*;
use crate::body::{decode, encode};

/// The heartbeat a 5.x Java push consumer sends (reference §2.5).
const JAVA_HEARTBEAT: &str = r#"{"clientID":"10.0.0.5@12345#98765432100","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET",
 "consumeType":"CONSUME_PASSIVELY","groupName":"g1","messageModel":"CLUSTERING","subscriptionDataSet":[
 {"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","subVersion":1700000000000,
  "tagsSet":["TagA"],"topic":"T1"}],"unitMode":false}],"heartbeatFingerprint":0,
 "producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}],"withoutSub":false}"#;

fn expected() -> HeartbeatData {
    HeartbeatData {
        client_id: "10.0.0.5@12345#98765432100".into(),
        producer_data_set: vec![ProducerData {
            group_name: "CLIENT_INNER_PRODUCER".into(),
        }],
        consumer_data_set: vec![ConsumerData {
            group_name: "g1".into(),
            consume_type: ConsumeType::ConsumePassively,
            message_model: MessageModel::Clustering,
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            subscription_data_set: vec![SubscriptionData {
                class_filter_mode: false,
                topic: "T1".into(),
                sub_string: "TagA".into(),
                tags_set: vec!["TagA".into()],
                code_set: vec![2_598_919],
                sub_version: 1_700_000_000_000,
                expression_type: EXPRESSION_TYPE_TAG.into(),
            }],
            unit_mode: false,
        }],
        heartbeat_fingerprint: 0,
        without_sub: false,
    }
}

/// The Java sample decodes field by field and our encoding keeps `clientID` and enum names.
#[test]
fn decode_java_heartbeat() {
    let data: HeartbeatData = decode(JAVA_HEARTBEAT.as_bytes()).expect("decodes");
    assert_eq!(data, expected());
    let text = String::from_utf8(encode(&data)).expect("utf-8");
    assert!(
        text.starts_with(r#"{"clientID":"10.0.0.5@12345#98765432100""#),
        "{text}"
    );
    assert!(
        text.contains(r#""consumeType":"CONSUME_PASSIVELY""#),
        "{text}"
    );
    assert!(!text.contains("withoutSub") && !text.contains("heartbeatFingerprint"));
}

/// A sparse heartbeat from a non-Java client: enums as ordinals (numbers or strings), a
/// numeric string version, and no `classFilterMode`, `expressionType`, `unitMode`.
#[test]
fn lenient_heartbeat() {
    let json = br#"{"clientID":"c","consumerDataSet":[{"groupName":"g","consumeType":0,
        "messageModel":"0","consumeFromWhere":"consume_from_first_offset",
        "subscriptionDataSet":[{"topic":"T","subString":"*","subVersion":"17","codeSet":["5"]}]}]}"#;
    let data: HeartbeatData = decode(json).expect("decodes");
    let consumer = &data.consumer_data_set[0];
    assert_eq!(consumer.consume_type, ConsumeType::ConsumeActively);
    assert_eq!(consumer.message_model, MessageModel::Broadcasting);
    assert_eq!(
        consumer.consume_from_where,
        ConsumeFromWhere::ConsumeFromFirstOffset
    );
    assert!(!consumer.unit_mode);
    let sub = &consumer.subscription_data_set[0];
    assert_eq!((sub.sub_version, sub.code_set.as_slice()), (17, &[5][..]));
    assert_eq!(sub.expression_type, "TAG");
    assert!(data.producer_data_set.is_empty());
}

/// Ordinals match Java's declaration order; unknown names and ordinals are errors.
#[test]
fn enum_ordinals() {
    assert_eq!(ConsumeType::ConsumePop.ordinal(), 2);
    assert_eq!(MessageModel::Clustering.ordinal(), 1);
    assert_eq!(ConsumeFromWhere::ConsumeFromTimestamp.ordinal(), 5);
    assert_eq!(
        ConsumeFromWhere::from_ordinal(4),
        Some(ConsumeFromWhere::ConsumeFromFirstOffset)
    );
    assert_eq!(ConsumeFromWhere::from_ordinal(6), None);
    assert_eq!(ConsumeFromWhere::from_ordinal(-1), None);
    assert_eq!(
        MessageModel::from_name("clustering"),
        Some(MessageModel::Clustering)
    );
    assert_eq!(ConsumeType::ConsumeActively.to_string(), "CONSUME_ACTIVELY");
    assert!(decode::<ConsumerData>(br#"{"messageModel":"SHARDING"}"#).is_err());
    assert!(decode::<ConsumerData>(br#"{"consumeType":7}"#).is_err());
    assert!(decode::<ConsumerData>(br#"{"consumeType":"9"}"#).is_err());
}

fn arb_subscription() -> impl Strategy<Value = SubscriptionData> {
    (
        any::<bool>(),
        ".*",
        ".*",
        proptest::collection::vec(".*", 0..3),
        proptest::collection::vec(any::<i32>(), 0..3),
        any::<i64>(),
        "TAG|SQL92",
    )
        .prop_map(
            |(cfm, topic, sub, tags, codes, version, expr)| SubscriptionData {
                class_filter_mode: cfm,
                topic,
                sub_string: sub,
                tags_set: tags,
                code_set: codes,
                sub_version: version,
                expression_type: expr,
            },
        )
}

fn arb_consumer() -> impl Strategy<Value = ConsumerData> {
    (
        ".*",
        0..3i64,
        0..2i64,
        0..6i64,
        proptest::collection::vec(arb_subscription(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(group, ct, mm, cfw, subs, unit)| ConsumerData {
            group_name: group,
            consume_type: ConsumeType::from_ordinal(ct).unwrap_or_default(),
            message_model: MessageModel::from_ordinal(mm).unwrap_or_default(),
            consume_from_where: ConsumeFromWhere::from_ordinal(cfw).unwrap_or_default(),
            subscription_data_set: subs,
            unit_mode: unit,
        })
}

fn arb_heartbeat() -> impl Strategy<Value = HeartbeatData> {
    (
        ".*",
        proptest::collection::vec(".*", 0..3),
        proptest::collection::vec(arb_consumer(), 0..3),
        any::<i32>(),
        any::<bool>(),
    )
        .prop_map(
            |(client, producers, consumers, fingerprint, without)| HeartbeatData {
                client_id: client,
                producer_data_set: producers
                    .into_iter()
                    .map(|group_name| ProducerData { group_name })
                    .collect(),
                consumer_data_set: consumers,
                heartbeat_fingerprint: fingerprint,
                without_sub: without,
            },
        )
}

proptest! {
    /// Encoding then decoding any heartbeat is the identity.
    #[test]
    fn heartbeat_round_trip(data in arb_heartbeat()) {
        prop_assert_eq!(decode::<HeartbeatData>(&encode(&data)).ok(), Some(data));
    }

    /// Decoding arbitrary bytes returns a value or an error, never a panic.
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode::<HeartbeatData>(&bytes);
    }
}
