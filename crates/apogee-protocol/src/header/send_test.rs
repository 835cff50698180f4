use proptest::prelude::*;

use super::*;
use crate::header::test_util::{assert_fixture, assert_invalid, assert_required, ext};

const PROPS: &str = "UNIQ_KEY\u{1}AC110001000018B4AAC2\u{2}WAIT\u{1}true\u{2}TAGS\u{1}TagA\u{2}";

/// What a 4.9.8 Java producer sends with SEND_MESSAGE (10): every non-null field, including
/// the primitive booleans `unitMode` and `batch`.
const V1_FIXTURE: &[(&str, &str)] = &[
    ("producerGroup", "pg"),
    ("topic", "T1"),
    ("defaultTopic", "TBW102"),
    ("defaultTopicQueueNums", "4"),
    ("queueId", "2"),
    ("sysFlag", "0"),
    ("bornTimestamp", "1700000000123"),
    ("flag", "0"),
    ("properties", PROPS),
    ("reconsumeTimes", "0"),
    ("unitMode", "false"),
    ("batch", "false"),
    ("maxReconsumeTimes", "16"),
];

/// The same send as SEND_MESSAGE_V2 (310), letters a–m, plus the 5.x broker name `n`.
const V2_FIXTURE: &[(&str, &str)] = &[
    ("a", "pg"),
    ("b", "T1"),
    ("c", "TBW102"),
    ("d", "4"),
    ("e", "2"),
    ("f", "0"),
    ("g", "1700000000123"),
    ("h", "0"),
    ("i", PROPS),
    ("j", "0"),
    ("k", "false"),
    ("l", "16"),
    ("m", "false"),
    ("n", "broker-a"),
];

fn expected() -> SendMessageRequestHeader {
    SendMessageRequestHeader {
        producer_group: "pg".into(),
        topic: "T1".into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: 2,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_123,
        flag: 0,
        properties: Some(PROPS.into()),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        max_reconsume_times: Some(16),
        batch: Some(false),
        broker_name: None,
    }
}

/// The long form decodes from Java's fixture and encodes back to it exactly.
#[test]
fn v1_fixture() {
    assert_fixture(V1_FIXTURE, &expected());
    assert_required::<SendMessageRequestHeader>(
        V1_FIXTURE,
        &[
            "producerGroup",
            "topic",
            "defaultTopic",
            "defaultTopicQueueNums",
            "queueId",
            "sysFlag",
            "bornTimestamp",
            "flag",
        ],
    );
    assert_invalid::<SendMessageRequestHeader>(V1_FIXTURE, "bornTimestamp");
}

/// The letter form maps a–n onto the same fields as the long form, both ways.
#[test]
fn v2_letter_mapping() {
    let header = SendMessageRequestHeader {
        broker_name: Some("broker-a".into()),
        ..expected()
    };
    let v2 = ext(V2_FIXTURE);
    assert_eq!(
        SendMessageRequestHeader::from_ext_v2(&v2),
        Ok(header.clone())
    );
    assert_eq!(header.to_ext_v2(), v2);
    let mut v1 = ext(V1_FIXTURE);
    v1.put("bname", "broker-a");
    assert_eq!(header.to_ext(), v1);
    for letter in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        let mut fields = v2.clone();
        fields.remove(letter);
        assert_eq!(
            SendMessageRequestHeader::from_ext_v2(&fields),
            Err(ExtFieldError::Missing { key: letter })
        );
    }
}

/// The request code picks the form: letters for 310 and 320, long names for 10.
#[test]
fn decode_for_code_picks_the_form() {
    let v1 = ext(V1_FIXTURE);
    let v2 = ext(V2_FIXTURE);
    let long = SendMessageRequestHeader::decode_for_code(request::SEND_MESSAGE, &v1);
    assert_eq!(long, Ok(expected()));
    for code in [request::SEND_MESSAGE_V2, request::SEND_BATCH_MESSAGE] {
        let decoded = SendMessageRequestHeader::decode_for_code(code, &v2).expect("v2");
        assert_eq!(decoded.topic, "T1");
        assert_eq!(
            SendMessageRequestHeader::decode_for_code(code, &v1),
            Err(ExtFieldError::Missing { key: "a" })
        );
    }
    assert!(!expected().is_batch());
    let batch = SendMessageRequestHeader {
        batch: Some(true),
        ..expected()
    };
    assert!(batch.is_batch() && !batch.is_unit_mode());
}

/// The response header decodes what the broker writes; 5.x extras are optional.
#[test]
fn response_fixture() {
    let fixture = &[
        ("msgId", "0A0000010000291F0000000000001234"),
        ("queueId", "2"),
        ("queueOffset", "77"),
        ("transactionId", "AC110001000018B4AAC2"),
    ];
    let header = SendMessageResponseHeader {
        msg_id: "0A0000010000291F0000000000001234".into(),
        queue_id: 2,
        queue_offset: 77,
        transaction_id: Some("AC110001000018B4AAC2".into()),
        batch_uniq_id: None,
        recall_handle: None,
    };
    assert_fixture(fixture, &header);
    assert_required::<SendMessageResponseHeader>(fixture, &["msgId", "queueId", "queueOffset"]);
}

fn arb_header() -> impl Strategy<Value = SendMessageRequestHeader> {
    let required = (
        ".*",
        ".*",
        ".*",
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        any::<i64>(),
    );
    let optional = (
        any::<i32>(),
        proptest::option::of(".*"),
        proptest::option::of(any::<i32>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<i32>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(".*"),
    );
    (required, optional).prop_map(|((a, b, c, d, e, f, g), (h, i, j, k, l, m, n))| {
        SendMessageRequestHeader {
            producer_group: a,
            topic: b,
            default_topic: c,
            default_topic_queue_nums: d,
            queue_id: e,
            sys_flag: f,
            born_timestamp: g,
            flag: h,
            properties: i,
            reconsume_times: j,
            unit_mode: k,
            max_reconsume_times: l,
            batch: m,
            broker_name: n,
        }
    })
}

proptest! {
    /// Both forms round-trip any header, and decoding never panics on arbitrary maps.
    #[test]
    fn round_trips(header in arb_header()) {
        prop_assert_eq!(SendMessageRequestHeader::from_ext(&header.to_ext()), Ok(header.clone()));
        prop_assert_eq!(SendMessageRequestHeader::from_ext_v2(&header.to_ext_v2()), Ok(header));
    }

    /// Decoding arbitrary extFields returns a value or an error, never a panic.
    #[test]
    fn decode_never_panics(map in proptest::collection::btree_map("[a-z]{1,3}|queueId|topic", ".*", 0..16)) {
        let fields = crate::remoting::ExtFields::from(map);
        let _ = SendMessageRequestHeader::from_ext(&fields);
        let _ = SendMessageRequestHeader::from_ext_v2(&fields);
    }
}
