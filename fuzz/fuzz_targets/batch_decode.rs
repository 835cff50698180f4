//! SEND_BATCH_MESSAGE body decoder on arbitrary bytes.
//! Invariants: never panics; at most `BATCH_ENTRIES_MAX` entries come back; a body that
//! decodes re-encodes to the same bytes except MAGICCODE and BODYCRC, which the decoder ignores
//! (as the Java broker does) and the encoder writes as zero (as the Java client does).
#![no_main]

use apogee_protocol::message::batch::{BATCH_ENTRIES_MAX, decode_batch, encode_batch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(entries) = decode_batch(&data.to_vec().into()) else { return };
    assert!(entries.len() <= BATCH_ENTRIES_MAX);
    let again = encode_batch(&entries);
    assert_eq!(again.len(), data.len());
    let mut pos = 0;
    for entry in &entries {
        let end = pos + entry.encoded_len();
        assert_eq!(&again[pos..pos + 4], &data[pos..pos + 4]);
        assert_eq!(&again[pos + 12..end], &data[pos + 12..end]);
        pos = end;
    }
});
