use proptest::prelude::*;

use super::*;
use crate::remoting::codes::{LanguageCode, request};
use crate::remoting::error::HeaderError;
use crate::remoting::ext_fields::ExtFields;

fn decode_all(
    decoder: &mut FrameDecoder,
    buf: &mut BytesMut,
) -> Vec<(RemotingCommand, SerializeType)> {
    let mut out = Vec::new();
    while let Some(frame) = decoder.decode(buf).expect("frame decodes") {
        out.push(frame);
    }
    out
}

fn frame_bytes(length: i32, type_and_len: u32, rest: &[u8]) -> BytesMut {
    let mut buf = BytesMut::new();
    buf.put_i32(length);
    buf.put_u32(type_and_len);
    buf.put_slice(rest);
    buf
}

fn heartbeat() -> RemotingCommand {
    let mut fields = ExtFields::new();
    fields.put("k", "v");
    RemotingCommand::request(request::HEART_BEAT, fields)
        .with_opaque(5)
        .with_body(&b"{}"[..])
}

/// A JSON frame is length, type/length word, the fastjson header and the body.
#[test]
fn exact_json_frame() {
    let header = r#"{"code":34,"extFields":{"k":"v"},"flag":0,"language":"JAVA","opaque":5,"serializeTypeCurrentRPC":"JSON","version":409}"#;
    let mut want = Vec::new();
    want.extend_from_slice(&(4 + header.len() as i32 + 2).to_be_bytes());
    want.extend_from_slice(&(header.len() as u32).to_be_bytes());
    want.extend_from_slice(header.as_bytes());
    want.extend_from_slice(b"{}");
    let got = encode(&heartbeat(), SerializeType::Json).expect("encodes");
    assert_eq!(&got[..], &want[..]);
}

/// A ROCKETMQ frame carries type byte 1 above the 24-bit header length.
#[test]
fn exact_rocketmq_frame() {
    let got = encode(&heartbeat(), SerializeType::RocketMq).expect("encodes");
    let header: &[u8] = &[
        0x00, 0x22, 0x00, 0x01, 0x99, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, // code..remark
        0, 0, 0, 8, 0x00, 0x01, b'k', 0, 0, 0, 1, b'v', // extFields {k=v}
    ];
    let mut want = Vec::new();
    want.extend_from_slice(&(4 + header.len() as i32 + 2).to_be_bytes());
    want.extend_from_slice(&(0x0100_0000u32 | header.len() as u32).to_be_bytes());
    want.extend_from_slice(header);
    want.extend_from_slice(b"{}");
    assert_eq!(&got[..], &want[..]);
}

/// A frame is decoded only once complete; until then nothing is consumed.
#[test]
fn waits_for_whole_frame() {
    let bytes = encode(&heartbeat(), SerializeType::Json).expect("encodes");
    let mut decoder = FrameDecoder::default();
    let mut buf = BytesMut::new();
    for (i, byte) in bytes.iter().enumerate() {
        assert!(decoder.decode(&mut buf).expect("prefix is valid").is_none());
        assert_eq!(buf.len(), i);
        buf.put_u8(*byte);
    }
    let (cmd, ty) = decoder
        .decode(&mut buf)
        .expect("decodes")
        .expect("complete");
    assert_eq!((cmd, ty), (heartbeat(), SerializeType::Json));
    assert!(buf.is_empty());
}

/// A length over the limit is refused from the 4-byte prefix alone; exactly the limit waits.
#[test]
fn rejects_oversized_frame_from_prefix() {
    let mut decoder = FrameDecoder::new(1024);
    let mut buf = BytesMut::from(&(1021i32).to_be_bytes()[..]);
    assert!(matches!(
        decoder.decode(&mut buf),
        Err(FrameError::TooLarge {
            frame_bytes: 1025,
            max: 1024
        })
    ));
    let mut buf = BytesMut::from(&(1020i32).to_be_bytes()[..]);
    assert!(decoder.decode(&mut buf).expect("within limit").is_none());
    let mut decoder = FrameDecoder::default();
    let mut buf = BytesMut::from(&i32::MAX.to_be_bytes()[..]);
    assert!(matches!(
        decoder.decode(&mut buf),
        Err(FrameError::TooLarge { .. })
    ));
    assert_eq!(
        buf.capacity(),
        4,
        "nothing reserved for the announced frame"
    );
}

/// Negative and too-small lengths are refused.
#[test]
fn rejects_bad_length_field() {
    for length in [-1, i32::MIN, 0, 3] {
        let mut buf = BytesMut::from(&length.to_be_bytes()[..]);
        let err = FrameDecoder::default()
            .decode(&mut buf)
            .expect_err("bad length");
        assert!(matches!(err, FrameError::BadLength { length: l } if l == length));
    }
}

/// Header length zero, header longer than the frame, and unknown types are refused as soon as
/// the 8-byte prefix is buffered.
#[test]
fn rejects_bad_header_field() {
    let mut d = FrameDecoder::default();
    let mut buf = frame_bytes(10, 0, &[]);
    assert!(matches!(d.decode(&mut buf), Err(FrameError::EmptyHeader)));
    let mut buf = frame_bytes(10, 7, &[]);
    assert!(matches!(
        d.decode(&mut buf),
        Err(FrameError::HeaderExceedsFrame {
            header_bytes: 7,
            available: 6
        })
    ));
    let mut buf = frame_bytes(10, 0x0200_0001, &[]);
    assert!(matches!(
        d.decode(&mut buf),
        Err(FrameError::UnknownSerializeType { code: 2 })
    ));
}

/// A header that does not decode is reported with its type, and its frame is consumed.
#[test]
fn header_error_consumes_frame() {
    let mut buf = frame_bytes(4 + 2, 2, b"{}");
    let next = encode(&heartbeat(), SerializeType::Json).expect("encodes");
    buf.put_slice(&next);
    let mut d = FrameDecoder::default();
    let err = d.decode(&mut buf).expect_err("no code");
    assert!(matches!(
        err,
        FrameError::Header {
            serialize_type: SerializeType::Json,
            source: HeaderError::MissingField { field: "code" }
        }
    ));
    assert_eq!(&buf[..], &next[..]);
    let mut buf = frame_bytes(4 + 3, 0x0100_0003, &[0, 1, 2]);
    let err = d.decode(&mut buf).expect_err("short ROCKETMQ header");
    assert!(matches!(
        err,
        FrameError::Header {
            serialize_type: SerializeType::RocketMq,
            ..
        }
    ));
}

/// Codes outside i16 cannot use the ROCKETMQ header; JSON carries them.
#[test]
fn large_code_needs_json() {
    let cmd = RemotingCommand::request(200_050, ExtFields::new());
    assert!(matches!(
        encode(&cmd, SerializeType::RocketMq),
        Err(EncodeError::CodeOutOfRange { code: 200_050 })
    ));
    let mut buf = BytesMut::from(&encode(&cmd, SerializeType::Json).expect("encodes")[..]);
    let (got, _) = FrameDecoder::default()
        .decode(&mut buf)
        .expect("ok")
        .expect("complete");
    assert_eq!(got, cmd);
}

fn arb_command(code: impl Strategy<Value = i32>) -> impl Strategy<Value = RemotingCommand> {
    let ext = proptest::collection::btree_map(".{0,12}", ".{0,24}", 0..6);
    (
        (
            code,
            0..LanguageCode::ALL.len(),
            any::<i16>(),
            any::<i32>(),
            any::<i32>(),
        ),
        proptest::option::of(".{0,40}"),
        ext,
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(
            |((code, lang, version, opaque, flag), remark, ext, body)| RemotingCommand {
                code,
                language: LanguageCode::ALL[lang],
                version: i32::from(version),
                opaque,
                flag,
                remark,
                ext_fields: ExtFields::from(ext),
                body: Bytes::from(body),
            },
        )
}

fn arb_typed_command() -> impl Strategy<Value = (RemotingCommand, SerializeType)> {
    prop_oneof![
        arb_command(any::<i32>()).prop_map(|c| (c, SerializeType::Json)),
        arb_command(any::<i16>().prop_map(i32::from)).prop_map(|c| (c, SerializeType::RocketMq)),
    ]
}

/// What a command looks like after a trip through `serialize_type`: the ROCKETMQ header reads
/// zero-length strings as absent.
fn expected(cmd: &RemotingCommand, serialize_type: SerializeType) -> RemotingCommand {
    let mut want = cmd.clone();
    if serialize_type == SerializeType::RocketMq {
        want.remark = cmd.remark.clone().filter(|r| !r.is_empty());
        want.ext_fields = cmd
            .ext_fields
            .iter()
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .collect();
    }
    want
}

proptest! {
    /// encode → decode is the identity (up to ROCKETMQ's empty-string rule) for both types.
    #[test]
    fn round_trip((cmd, ty) in arb_typed_command()) {
        let bytes = encode(&cmd, ty).expect("encodes");
        let mut buf = BytesMut::from(&bytes[..]);
        let got = FrameDecoder::default().decode(&mut buf).expect("decodes").expect("complete");
        prop_assert_eq!(got, (expected(&cmd, ty), ty));
        prop_assert!(buf.is_empty());
    }

    /// Several frames back to back, delivered in arbitrary pieces, decode to the same commands.
    #[test]
    fn split_stream(
        cmds in proptest::collection::vec(arb_typed_command(), 1..5),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut stream = BytesMut::new();
        for (cmd, ty) in &cmds {
            encode_into(cmd, *ty, &mut stream).expect("encodes");
        }
        let stream = stream.freeze();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(stream.len());
        points.sort_unstable();
        let mut decoder = FrameDecoder::default();
        let (mut buf, mut got, mut from) = (BytesMut::new(), Vec::new(), 0);
        for to in points {
            buf.put_slice(&stream[from..to]);
            from = to;
            got.extend(decode_all(&mut decoder, &mut buf));
        }
        let want: Vec<_> = cmds.iter().map(|(c, ty)| (expected(c, *ty), *ty)).collect();
        prop_assert_eq!(got, want);
        prop_assert!(buf.is_empty());
    }

    /// Decoding arbitrary bytes never panics, and whatever decodes survives a re-encode.
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512), json in any::<bool>()) {
        let mut buf = BytesMut::from(&bytes[..]);
        if bytes.len() >= 8 {
            // Make the prefix plausible half of the time so the header decoders run too.
            let len = (bytes.len() - 4) as i32;
            buf[..4].copy_from_slice(&len.to_be_bytes());
            buf[4] = u8::from(!json);
            buf[5] = 0;
        }
        let mut decoder = FrameDecoder::new(4096);
        while let Ok(Some((cmd, ty))) = decoder.decode(&mut buf) {
            let again = encode(&cmd, ty).expect("a decoded command re-encodes");
            let mut again = BytesMut::from(&again[..]);
            let back = decoder.decode(&mut again).expect("decodes").expect("complete");
            prop_assert_eq!(back, (cmd, ty));
        }
    }
}
