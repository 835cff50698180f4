//! Remoting frame decoder (`apogee_protocol::remoting`) on arbitrary bytes.
//! Invariants: never panics; feeding the bytes one at a time yields the same commands as
//! feeding them at once, and fails on the same frame; a decoded command re-encodes in its own
//! serialize type (unless a ROCKETMQ key is longer than Java can read) and decodes to itself.
#![no_main]

use apogee_protocol::remoting::rocketmq_header::KEY_BYTES_MAX;
use apogee_protocol::remoting::{BytesMut, FrameDecoder, RemotingCommand, SerializeType, encode};
use libfuzzer_sys::fuzz_target;

/// Commands decoded before the decoder stops, and whether it stopped on an error.
type Outcome = (Vec<(RemotingCommand, SerializeType)>, bool);

fn decode_whole(data: &[u8]) -> Outcome {
    let mut decoder = FrameDecoder::default();
    let mut buf = BytesMut::from(data);
    let mut out = Vec::new();
    loop {
        match decoder.decode(&mut buf) {
            Ok(Some(frame)) => out.push(frame),
            Ok(None) => return (out, false),
            Err(_) => return (out, true),
        }
    }
}

fn decode_bytewise(data: &[u8]) -> Outcome {
    let mut decoder = FrameDecoder::default();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for byte in data {
        buf.extend_from_slice(&[*byte]);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => out.push(frame),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    let whole = decode_whole(data);
    assert_eq!(whole, decode_bytewise(data));
    for (cmd, ty) in whole.0 {
        let long_key = cmd.ext_fields.iter().any(|(k, _)| k.len() > KEY_BYTES_MAX);
        let frame = match encode(&cmd, ty) {
            Ok(frame) => frame,
            Err(e) => {
                assert!(ty == SerializeType::RocketMq && long_key, "re-encode failed: {e}");
                continue;
            }
        };
        let mut buf = BytesMut::from(&frame[..]);
        let again = FrameDecoder::default().decode(&mut buf).expect("own frame decodes");
        assert_eq!(again, Some((cmd, ty)));
        assert!(buf.is_empty());
    }
});
