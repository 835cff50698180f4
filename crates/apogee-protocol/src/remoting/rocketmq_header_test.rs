use super::*;
use crate::remoting::codes::request;

fn sample() -> RemotingCommand {
    let fields: ExtFields = [("a", "PG"), ("b", "T")].into_iter().collect();
    RemotingCommand::request(request::SEND_MESSAGE_V2, fields).with_opaque(7)
}

/// The byte layout of `sample()`, written out field by field as `RocketMQSerializable` does.
const SAMPLE_BYTES: &[u8] = &[
    0x01, 0x36, // code 310
    0x00, // language JAVA
    0x01, 0x99, // version 409
    0x00, 0x00, 0x00, 0x07, // opaque 7
    0x00, 0x00, 0x00, 0x00, // flag 0
    0x00, 0x00, 0x00, 0x00, // remark length 0 (null)
    0x00, 0x00, 0x00, 0x11, // extFields length 17
    0x00, 0x01, b'a', 0x00, 0x00, 0x00, 0x02, b'P', b'G', // a=PG
    0x00, 0x01, b'b', 0x00, 0x00, 0x00, 0x01, b'T', // b=T
];

fn encode_vec(cmd: &RemotingCommand) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode(cmd, &mut out).map(|()| out)
}

/// Encoding writes RocketMQ's exact layout, and `encoded_len` agrees with it.
#[test]
fn exact_layout() {
    let cmd = sample();
    assert_eq!(encode_vec(&cmd).expect("encodes"), SAMPLE_BYTES);
    assert_eq!(encoded_len(&cmd), SAMPLE_BYTES.len());
    assert_eq!(decode(SAMPLE_BYTES).expect("decodes"), cmd);
}

/// A remark is an i32 length plus UTF-8; an empty remark is written as length 0 and reads back
/// as none.
#[test]
fn remark_encoding() {
    let mut cmd = RemotingCommand::request(1, ExtFields::new());
    cmd.remark = Some("é".into());
    let bytes = encode_vec(&cmd).expect("encodes");
    assert_eq!(&bytes[13..19], &[0, 0, 0, 2, 0xC3, 0xA9]);
    cmd.remark = Some(String::new());
    let bytes = encode_vec(&cmd).expect("encodes");
    assert_eq!(bytes.len(), HEADER_BYTES_MIN);
    assert_eq!(decode(&bytes).expect("decodes").remark, None);
}

/// Codes and versions that do not fit i16, and keys Java cannot read, are refused.
#[test]
fn encode_limits() {
    let mut cmd = sample();
    cmd.code = 200_050;
    assert!(matches!(
        encode_vec(&cmd),
        Err(EncodeError::CodeOutOfRange { code: 200_050 })
    ));
    cmd.code = i32::from(i16::MIN);
    assert!(encode_vec(&cmd).is_ok());
    cmd.version = 40_000;
    assert!(matches!(
        encode_vec(&cmd),
        Err(EncodeError::VersionOutOfRange { .. })
    ));
    let mut cmd = sample();
    cmd.ext_fields.put("k".repeat(KEY_BYTES_MAX + 1), "v");
    assert!(matches!(
        encode_vec(&cmd),
        Err(EncodeError::KeyTooLong { .. })
    ));
    let mut cmd = sample();
    cmd.remark = Some("r".repeat(HEADER_BYTES_MAX));
    assert!(matches!(
        encode_vec(&cmd),
        Err(EncodeError::HeaderTooLarge { .. })
    ));
}

/// Entries with an empty key or value decode as absent, as Java's nulls are.
#[test]
fn empty_strings_are_absent() {
    let mut bytes = SAMPLE_BYTES[..17].to_vec();
    let map: &[u8] = &[
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, b'v', // "" = v
        0x00, 0x01, b'k', 0x00, 0x00, 0x00, 0x00, // k = ""
        0x00, 0x01, b'x', 0x00, 0x00, 0x00, 0x01, b'y', // x = y
    ];
    bytes.extend_from_slice(&(map.len() as i32).to_be_bytes());
    bytes.extend_from_slice(map);
    let cmd = decode(&bytes).expect("decodes");
    assert_eq!(cmd.ext_fields.iter().collect::<Vec<_>>(), vec![("x", "y")]);
}

/// Unknown language bytes decode as OTHER.
#[test]
fn unknown_language_byte() {
    let mut bytes = SAMPLE_BYTES.to_vec();
    bytes[2] = 200;
    assert_eq!(
        decode(&bytes).expect("decodes").language,
        LanguageCode::Other
    );
}

/// Every length is bounded by the header: truncation, negative lengths, overruns and trailing
/// bytes are typed errors.
#[test]
fn rejects_bad_lengths() {
    let err = |bytes: &[u8]| decode(bytes).expect_err("header must be rejected");
    assert!(matches!(
        err(&[]),
        HeaderError::Truncated { field: "code", .. }
    ));
    assert!(matches!(
        err(&SAMPLE_BYTES[..20]),
        HeaderError::Truncated {
            field: "extFields",
            ..
        }
    ));

    let mut b = SAMPLE_BYTES.to_vec();
    b[13..17].copy_from_slice(&(-1i32).to_be_bytes());
    assert!(matches!(
        err(&b),
        HeaderError::NegativeLength {
            field: "remark",
            value: -1
        }
    ));

    let mut b = SAMPLE_BYTES.to_vec();
    b[13..17].copy_from_slice(&i32::MAX.to_be_bytes());
    assert!(matches!(
        err(&b),
        HeaderError::Truncated {
            field: "remark",
            ..
        }
    ));

    let mut b = SAMPLE_BYTES.to_vec();
    b[17..21].copy_from_slice(&18i32.to_be_bytes());
    assert!(matches!(
        err(&b),
        HeaderError::Truncated {
            field: "extFields",
            ..
        }
    ));

    // The map claims 16 bytes, so the last value (1 byte) overruns the map, not the header.
    let mut b = SAMPLE_BYTES.to_vec();
    b[17..21].copy_from_slice(&16i32.to_be_bytes());
    assert!(matches!(
        err(&b),
        HeaderError::Truncated {
            field: "extFields value",
            ..
        }
    ));

    let mut b = SAMPLE_BYTES.to_vec();
    b[33..37].copy_from_slice(&(-5i32).to_be_bytes());
    assert!(matches!(
        err(&b),
        HeaderError::NegativeLength {
            field: "extFields value",
            ..
        }
    ));

    let mut b = SAMPLE_BYTES.to_vec();
    b.push(0);
    assert!(matches!(err(&b), HeaderError::TrailingBytes { count: 1 }));
}
