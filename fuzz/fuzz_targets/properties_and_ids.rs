//! Property-list parser and offset-message-id decoder on arbitrary text.
//! Invariants: never panic; a decoded message id re-encodes to the same id (uppercased).
#![no_main]

use apogee_protocol::message::message_id::{decode_offset_msg_id, encode_offset_msg_id};
use apogee_protocol::message::properties;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for (name, value) in properties::iter(text) {
        assert!(!name.is_empty() && !value.is_empty());
    }
    let _ = properties::get(text, "KEYS");
    if let Ok((host, offset)) = decode_offset_msg_id(text) {
        assert_eq!(encode_offset_msg_id(host, offset), text.to_uppercase());
    }
});
