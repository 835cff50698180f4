use std::net::SocketAddr;

use proptest::prelude::*;

use super::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

fn sample<'a>(body: &'a [u8], topic: &'a str, props: &'a str) -> RecordDraft<'a> {
    RecordDraft {
        topic,
        queue_id: 3,
        flag: 7,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_123,
        born_host: addr("10.0.0.5:50000"),
        store_host: addr("10.0.0.1:10911"),
        reconsume_times: 2,
        prepared_transaction_offset: 0,
        body,
        properties: props,
    }
}

/// The encoder writes RocketMQ's exact byte layout, built here field by field.
#[test]
fn exact_v1_layout() {
    let draft = sample(b"hi", "T", "A\u{1}B\u{2}");
    let stamp = Stamp {
        queue_offset: 9,
        physical_offset: 0x1000,
        store_timestamp: 1_700_000_000_456,
    };
    let mut out = vec![0u8; draft.encoded_len()];
    encode(&draft, body_crc(b"hi"), &stamp, &mut out);

    let mut want = Vec::new();
    want.extend_from_slice(&(91i32 + 2 + 1 + 4).to_be_bytes());
    want.extend_from_slice(&0xDAA3_20A7u32.to_be_bytes());
    want.extend_from_slice(&(crc32fast::hash(b"hi") & 0x7FFF_FFFF).to_be_bytes());
    want.extend_from_slice(&3i32.to_be_bytes());
    want.extend_from_slice(&7i32.to_be_bytes());
    want.extend_from_slice(&9i64.to_be_bytes());
    want.extend_from_slice(&0x1000i64.to_be_bytes());
    want.extend_from_slice(&0i32.to_be_bytes());
    want.extend_from_slice(&1_700_000_000_123i64.to_be_bytes());
    want.extend_from_slice(&[10, 0, 0, 5]);
    want.extend_from_slice(&50000i32.to_be_bytes());
    want.extend_from_slice(&1_700_000_000_456i64.to_be_bytes());
    want.extend_from_slice(&[10, 0, 0, 1]);
    want.extend_from_slice(&10911i32.to_be_bytes());
    want.extend_from_slice(&2i32.to_be_bytes());
    want.extend_from_slice(&0i64.to_be_bytes());
    want.extend_from_slice(&2i32.to_be_bytes());
    want.extend_from_slice(b"hi");
    want.push(1);
    want.extend_from_slice(b"T");
    want.extend_from_slice(&4u16.to_be_bytes());
    want.extend_from_slice(b"A\x01B\x02");
    assert_eq!(out, want);

    let view = decode(&out).expect("decodes");
    assert_eq!(view.draft().topic, "T");
    assert_eq!(view.stamp(), stamp);
    view.verify_crc().expect("crc");
}

/// A long topic switches to magic V2 with a two-byte topic length; IPv6 hosts set their bits.
#[test]
fn v2_and_ipv6() {
    let topic = "t".repeat(200);
    let mut draft = sample(b"x", &topic, "");
    draft.born_host = addr("[::1]:1");
    let stamp = Stamp {
        queue_offset: 0,
        physical_offset: 0,
        store_timestamp: 1,
    };
    let mut out = vec![0u8; draft.encoded_len()];
    encode(&draft, body_crc(b"x"), &stamp, &mut out);
    let view = decode(&out).expect("decodes");
    assert_eq!(view.magic, MAGIC_V2);
    assert_eq!(view.topic, topic);
    assert_eq!(view.born_host, addr("[::1]:1"));
    assert_eq!(view.sys_flag & sysflag::BORNHOST_V6, sysflag::BORNHOST_V6);
    assert_eq!(view.sys_flag & sysflag::STOREHOST_V6, 0);
}

/// Corruption is reported as a typed error: bad magic, bad CRC, truncation, bad lengths.
#[test]
fn corruption_is_detected() {
    let draft = sample(b"payload", "Topic", "");
    let stamp = Stamp {
        queue_offset: 1,
        physical_offset: 2,
        store_timestamp: 3,
    };
    let mut out = vec![0u8; draft.encoded_len()];
    encode(&draft, body_crc(b"payload"), &stamp, &mut out);

    let mut bad_magic = out.clone();
    bad_magic[5] ^= 0xFF;
    assert!(matches!(
        decode(&bad_magic),
        Err(DecodeError::BadMagic { .. })
    ));

    let mut bad_body = out.clone();
    let body_pos = out.len() - 2 - 1 - 5 - 7;
    bad_body[body_pos] ^= 1;
    let view = decode(&bad_body).expect("structure intact");
    assert!(matches!(
        view.verify_crc(),
        Err(DecodeError::BodyCrcMismatch { .. })
    ));

    assert!(matches!(
        decode(&out[..out.len() - 1]),
        Err(DecodeError::Truncated { .. })
    ));

    let mut bad_len = out.clone();
    bad_len[3] = bad_len[3].wrapping_add(1);
    bad_len.push(0);
    assert!(decode(&bad_len).is_err());

    assert_eq!(peek(&[0u8; 8]), Ok(SlotHead::Empty));
    let mut blank = Vec::new();
    blank.extend_from_slice(&64i32.to_be_bytes());
    blank.extend_from_slice(&MAGIC_BLANK.to_be_bytes());
    assert_eq!(peek(&blank), Ok(SlotHead::Blank(64)));
}

fn arb_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
    ]
}

proptest! {
    /// encode → decode is the identity for every field, and the CRC verifies.
    #[test]
    fn round_trip(
        topic in "[a-zA-Z0-9_%|-]{1,300}",
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        props in "[ -~]{0,200}",
        queue_id in any::<i32>(),
        flag in any::<i32>(),
        sys_flag in any::<i32>(),
        born_timestamp in any::<i64>(),
        born_host in arb_addr(),
        store_host in arb_addr(),
        reconsume_times in any::<i32>(),
        prepared in any::<i64>(),
        queue_offset in any::<i64>(),
        physical_offset in any::<i64>(),
        store_timestamp in any::<i64>(),
    ) {
        let draft = RecordDraft {
            topic: &topic, queue_id, flag, sys_flag, born_timestamp, born_host, store_host,
            reconsume_times, prepared_transaction_offset: prepared, body: &body, properties: &props,
        };
        let stamp = Stamp { queue_offset, physical_offset, store_timestamp };
        let mut out = vec![0u8; draft.encoded_len()];
        encode(&draft, body_crc(&body), &stamp, &mut out);
        let view = decode(&out).expect("own output decodes");
        prop_assert_eq!(view.total_size, out.len());
        prop_assert_eq!(view.stamp(), stamp);
        prop_assert_eq!(view.topic, topic.as_str());
        prop_assert_eq!(view.body, body.as_slice());
        prop_assert_eq!(view.properties, props.as_str());
        prop_assert_eq!(view.queue_id, queue_id);
        prop_assert_eq!(view.flag, flag);
        prop_assert_eq!(view.sys_flag, draft.effective_sys_flag());
        prop_assert_eq!(view.born_timestamp, born_timestamp);
        prop_assert_eq!(view.born_host, born_host);
        prop_assert_eq!(view.store_host, store_host);
        prop_assert_eq!(view.reconsume_times, reconsume_times);
        prop_assert_eq!(view.prepared_transaction_offset, prepared);
        prop_assert!(view.verify_crc().is_ok());
    }

    /// Decoding arbitrary bytes never panics.
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = peek(&bytes);
        if let Ok(view) = decode(&bytes) {
            let _ = view.verify_crc();
        }
    }
}
