//! Consume-queue unit decoder on arbitrary bytes.
//! Invariants: never panics; a unit that decodes re-encodes to the same 20 bytes.
#![no_main]

use apogee_store::consume_queue::{CQ_UNIT_BYTES, CqUnit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(unit) = CqUnit::decode(data) else { return };
    let mut out = [0u8; CQ_UNIT_BYTES];
    unit.encode(&mut out);
    assert_eq!(&out[..], &data[..CQ_UNIT_BYTES]);
});
