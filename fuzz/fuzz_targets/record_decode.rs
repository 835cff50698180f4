//! Stored-record decoder on arbitrary bytes.
//! Invariants: never panics; a record that decodes re-encodes to exactly the same bytes
//! (when it is in canonical form: valid body CRC, host bits that agree with its hosts, and the
//! magic the encoder picks for its topic length — V2 only for topics over 127 bytes).
#![no_main]

use apogee_protocol::message::record::{
    MAGIC_V2, TOPIC_V1_BYTES_MAX, body_crc, decode, encode, peek,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = peek(data);
    let Ok(view) = decode(data) else { return };
    if view.verify_crc().is_err() {
        return;
    }
    let draft = view.draft();
    if draft.effective_sys_flag() != view.sys_flag {
        return;
    }
    if (view.magic == MAGIC_V2) != (view.topic.len() > TOPIC_V1_BYTES_MAX) {
        return;
    }
    let mut out = vec![0u8; draft.encoded_len()];
    encode(&draft, body_crc(view.body), &view.stamp(), &mut out);
    assert_eq!(&out[..], &data[..view.total_size]);
});
