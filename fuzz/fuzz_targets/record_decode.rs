//! Stored-record decoder on arbitrary bytes.
//! Invariants: never panics; a record that decodes re-encodes to exactly the same bytes
//! (when its body CRC is valid and its host bits agree with its hosts).
#![no_main]

use apogee_protocol::message::record::{body_crc, decode, encode, peek};
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
    let mut out = vec![0u8; draft.encoded_len()];
    encode(&draft, body_crc(view.body), &view.stamp(), &mut out);
    assert_eq!(&out[..], &data[..view.total_size]);
});
