//! The SEND_BATCH_MESSAGE (320) body: the messages of a batch, one short entry each, as the
//! Java client writes them (`MessageDecoder.encodeMessage` / `encodeMessages`).
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | TOTALSIZE (this entry) |
//! | 4 | 4 | MAGICCODE (the client writes 0) |
//! | 8 | 4 | BODYCRC (the client writes 0; the broker computes the real one) |
//! | 12 | 4 | FLAG (user flag) |
//! | 16 | 4 | BODYLEN |
//! | 20 | n | BODY |
//! | 20+n | 2 | PROPLEN (a Java `short`, so at most 32767) |
//! | 22+n | m | PROPERTIES (UTF-8, see [`crate::message::properties`]) |
//!
//! Entries follow each other with nothing in between; all integers are big-endian. Topic,
//! queue, sysflag and hosts are the batch's and travel in the request header.
//!
//! The decoder is as lenient as the Java broker about MAGICCODE and BODYCRC, which that broker
//! skips without looking, so any client that fills them differently still works; it is strict
//! about every length, which must agree with TOTALSIZE and with the bytes present.

use bytes::{BufMut, Bytes};

use crate::error::DecodeError;
use crate::message::properties::PROPERTIES_BYTES_MAX;

/// Entries one batch may hold. It equals the store's `BATCH_MESSAGES_MAX`: the Java client
/// caps a batch at 4 MiB in total, so 4096 tiny messages is already generous, and the bound
/// keeps a hostile body of empty entries from costing more than a few pages of entries.
pub const BATCH_ENTRIES_MAX: usize = 4096;

/// Bytes of an entry besides its body and properties: TOTALSIZE, MAGICCODE, BODYCRC, FLAG,
/// BODYLEN (4 each) and PROPLEN (2).
pub const ENTRY_OVERHEAD_BYTES: usize = 22;

/// Offset of BODYLEN within an entry; the body follows it.
const BODY_LEN_POS: usize = 16;
/// Offset of FLAG within an entry.
const FLAG_POS: usize = 12;

/// One message of a batch: what the client sends per message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchEntry {
    /// User flag.
    pub flag: i32,
    /// Message body, as sent (possibly compressed by the producer). Decoding slices it out of
    /// the request body without copying.
    pub body: Bytes,
    /// Encoded property list (`name\x01value\x02…`), with the message's own `UNIQ_KEY`.
    pub properties: String,
}

impl BatchEntry {
    /// Size of this entry once encoded (its TOTALSIZE).
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        ENTRY_OVERHEAD_BYTES + self.body.len() + self.properties.len()
    }
}

/// Decodes a batch body into its entries, in order. An empty body gives no entries (the
/// caller decides whether an empty batch is acceptable; the store refuses one).
///
/// # Errors
/// - [`DecodeError::Truncated`] when an entry, or its TOTALSIZE, runs past the end of `body`;
/// - [`DecodeError::BadLength`] when TOTALSIZE, BODYLEN or PROPLEN is negative or the three
///   disagree;
/// - [`DecodeError::NotUtf8`] when an entry's properties are not UTF-8;
/// - [`DecodeError::TooMany`] when `body` holds more than [`BATCH_ENTRIES_MAX`] entries.
pub fn decode_batch(body: &Bytes) -> Result<Vec<BatchEntry>, DecodeError> {
    let mut entries = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        if entries.len() == BATCH_ENTRIES_MAX {
            return Err(DecodeError::TooMany {
                what: "batch entries",
                max: BATCH_ENTRIES_MAX,
            });
        }
        let (entry, size) = decode_entry(body, pos)?;
        entries.push(entry);
        pos += size;
    }
    Ok(entries)
}

/// Decodes the entry starting at `start`, returning it and its size (at least
/// [`ENTRY_OVERHEAD_BYTES`], so every call makes progress).
fn decode_entry(buf: &Bytes, start: usize) -> Result<(BatchEntry, usize), DecodeError> {
    let rest = buf.get(start..).unwrap_or_default();
    let total_raw = be_i32(rest, 0).ok_or(DecodeError::Truncated {
        what: "batch entry TOTALSIZE",
        needed: 4,
        available: rest.len(),
    })?;
    let total = usize::try_from(total_raw)
        .ok()
        .filter(|&t| t >= ENTRY_OVERHEAD_BYTES)
        .ok_or(bad_length("TOTALSIZE", total_raw))?;
    let entry = rest.get(..total).ok_or(DecodeError::Truncated {
        what: "batch entry",
        needed: total,
        available: rest.len(),
    })?;
    // TOTALSIZE >= ENTRY_OVERHEAD_BYTES, so the fixed fields are present.
    let flag = be_i32(entry, FLAG_POS).ok_or(bad_length("TOTALSIZE", total_raw))?;
    let body_len_raw = be_i32(entry, BODY_LEN_POS).ok_or(bad_length("TOTALSIZE", total_raw))?;
    let body_start = BODY_LEN_POS + 4;
    let body_len = usize::try_from(body_len_raw)
        .ok()
        .filter(|&n| n <= total - ENTRY_OVERHEAD_BYTES)
        .ok_or(bad_length("BODYLEN", body_len_raw))?;
    let body_end = body_start + body_len;
    let props_len_raw = be_i16(entry, body_end).ok_or(bad_length("BODYLEN", body_len_raw))?;
    let props_start = body_end + 2;
    let props_len = usize::try_from(props_len_raw)
        .ok()
        .filter(|&n| props_start + n <= total)
        .ok_or(bad_length("PROPLEN", i32::from(props_len_raw)))?;
    if props_start + props_len != total {
        return Err(bad_length("TOTALSIZE", total_raw));
    }
    let properties = std::str::from_utf8(&entry[props_start..total])
        .map_err(|_| DecodeError::NotUtf8 {
            field: "batch entry PROPERTIES",
        })?
        .to_owned();
    let body = buf.slice(start + body_start..start + body_end);
    Ok((
        BatchEntry {
            flag,
            body,
            properties,
        },
        total,
    ))
}

fn bad_length(field: &'static str, value: i32) -> DecodeError {
    DecodeError::BadLength {
        field,
        value: i64::from(value),
    }
}

fn be_i32(buf: &[u8], at: usize) -> Option<i32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(i32::from_be_bytes(bytes.try_into().ok()?))
}

fn be_i16(buf: &[u8], at: usize) -> Option<i16> {
    let bytes = buf.get(at..at.checked_add(2)?)?;
    Some(i16::from_be_bytes(bytes.try_into().ok()?))
}

/// Encodes `entries` as the Java client does: MAGICCODE and BODYCRC zero, entries back to back.
///
/// # Panics
/// If an entry's properties are longer than [`PROPERTIES_BYTES_MAX`] or the entry is larger
/// than `i32::MAX` bytes. The Java client refuses such a message before encoding it, and so
/// must the caller (the producer validates every message first); reaching this is a bug.
#[must_use]
pub fn encode_batch(entries: &[BatchEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(BatchEntry::encoded_len).sum());
    for entry in entries {
        assert!(
            entry.properties.len() <= PROPERTIES_BYTES_MAX,
            "batch entry properties are {} bytes; the maximum is {PROPERTIES_BYTES_MAX}",
            entry.properties.len()
        );
        let total = i32::try_from(entry.encoded_len()).expect("batch entry fits i32");
        let body_len = i32::try_from(entry.body.len()).expect("smaller than the entry");
        let props_len = i16::try_from(entry.properties.len()).expect("checked above");
        out.put_i32(total);
        out.put_i32(0); // MAGICCODE
        out.put_i32(0); // BODYCRC
        out.put_i32(entry.flag);
        out.put_i32(body_len);
        out.put_slice(&entry.body);
        out.put_i16(props_len);
        out.put_slice(entry.properties.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn entry(flag: i32, body: &'static [u8], properties: &str) -> BatchEntry {
        BatchEntry {
            flag,
            body: Bytes::from_static(body),
            properties: properties.to_owned(),
        }
    }

    /// The Java client's bytes for two messages, written field by field: encode produces them
    /// and decode reads them back, slicing bodies out of the input.
    #[test]
    fn exact_two_message_layout() {
        let mut want = Vec::new();
        // Message 1: flag 7, body "hi", UNIQ_KEY property.
        let props1 = "UNIQ_KEY\u{1}AB\u{2}";
        want.extend_from_slice(&(22i32 + 2 + 12).to_be_bytes());
        want.extend_from_slice(&0i32.to_be_bytes());
        want.extend_from_slice(&0i32.to_be_bytes());
        want.extend_from_slice(&7i32.to_be_bytes());
        want.extend_from_slice(&2i32.to_be_bytes());
        want.extend_from_slice(b"hi");
        want.extend_from_slice(&12i16.to_be_bytes());
        want.extend_from_slice(b"UNIQ_KEY\x01AB\x02");
        // Message 2: flag -1, empty body, no properties.
        want.extend_from_slice(&22i32.to_be_bytes());
        want.extend_from_slice(&0i32.to_be_bytes());
        want.extend_from_slice(&0i32.to_be_bytes());
        want.extend_from_slice(&(-1i32).to_be_bytes());
        want.extend_from_slice(&0i32.to_be_bytes());
        want.extend_from_slice(&0i16.to_be_bytes());
        let entries = vec![entry(7, b"hi", props1), entry(-1, b"", "")];
        assert_eq!(encode_batch(&entries), want);

        let input = Bytes::from(want);
        let decoded = decode_batch(&input).expect("decodes");
        assert_eq!(decoded, entries);
        let body_at = decoded[0].body.as_ptr() as usize - input.as_ptr() as usize;
        assert_eq!(body_at, 20, "the body is a slice of the input, not a copy");
        assert_eq!(decode_batch(&Bytes::new()), Ok(Vec::new()));
    }

    /// MAGICCODE and BODYCRC are ignored, as the Java broker ignores them.
    #[test]
    fn magic_and_crc_ignored() {
        let mut bytes = encode_batch(&[entry(1, b"x", "")]);
        bytes[4..12].copy_from_slice(&[0xDA, 0xA3, 0x20, 0xA7, 1, 2, 3, 4]);
        let decoded = decode_batch(&Bytes::from(bytes)).expect("decodes");
        assert_eq!(decoded, vec![entry(1, b"x", "")]);
    }

    /// Each broken length gets an error naming its field.
    #[test]
    fn bad_lengths() {
        let good = encode_batch(&[entry(0, b"abc", "K\u{1}V\u{2}")]);
        let with = |at: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[at..at + bytes.len()].copy_from_slice(bytes);
            decode_batch(&Bytes::from(b))
        };
        let field = |r: Result<Vec<BatchEntry>, DecodeError>| match r {
            Err(DecodeError::BadLength { field, .. }) => field,
            other => panic!("expected BadLength, got {other:?}"),
        };
        assert_eq!(field(with(0, &(-1i32).to_be_bytes())), "TOTALSIZE");
        assert_eq!(field(with(0, &21i32.to_be_bytes())), "TOTALSIZE");
        assert_eq!(field(with(16, &(-1i32).to_be_bytes())), "BODYLEN");
        assert_eq!(field(with(16, &8i32.to_be_bytes())), "BODYLEN");
        assert_eq!(field(with(16, &2i32.to_be_bytes())), "PROPLEN");
        assert_eq!(field(with(23, &(-2i16).to_be_bytes())), "PROPLEN");
        assert_eq!(field(with(23, &3i16.to_be_bytes())), "TOTALSIZE");
        assert!(matches!(
            with(0, &30i32.to_be_bytes()),
            Err(DecodeError::Truncated { needed: 30, .. })
        ));
        let mut tail = good.clone();
        tail.extend_from_slice(&[0, 0]);
        assert!(matches!(
            decode_batch(&Bytes::from(tail)),
            Err(DecodeError::Truncated {
                what: "batch entry TOTALSIZE",
                ..
            })
        ));
        assert!(matches!(
            with(good.len() - 2, &[0xFF, 0xFE]),
            Err(DecodeError::NotUtf8 { .. })
        ));
    }

    /// The entry limit holds exactly: [`BATCH_ENTRIES_MAX`] entries decode, one more does not.
    #[test]
    fn entry_limit() {
        let mut bytes = encode_batch(&vec![BatchEntry::default(); BATCH_ENTRIES_MAX]);
        let full = decode_batch(&Bytes::from(bytes.clone())).expect("at the limit");
        assert_eq!(full.len(), BATCH_ENTRIES_MAX);
        bytes.extend_from_slice(&encode_batch(&[BatchEntry::default()]));
        assert_eq!(
            decode_batch(&Bytes::from(bytes)),
            Err(DecodeError::TooMany {
                what: "batch entries",
                max: BATCH_ENTRIES_MAX
            })
        );
    }

    fn entries() -> impl Strategy<Value = Vec<BatchEntry>> {
        let one = (
            any::<i32>(),
            proptest::collection::vec(any::<u8>(), 0..64),
            ".{0,24}",
        )
            .prop_map(|(flag, body, properties)| BatchEntry {
                flag,
                body: Bytes::from(body),
                properties,
            });
        proptest::collection::vec(one, 0..8)
    }

    proptest! {
        /// encode → decode is the identity, and TOTALSIZE fields sum to the body length.
        #[test]
        fn round_trip(entries in entries()) {
            let bytes = encode_batch(&entries);
            let want: usize = entries.iter().map(BatchEntry::encoded_len).sum();
            prop_assert_eq!(bytes.len(), want);
            prop_assert_eq!(decode_batch(&Bytes::from(bytes)), Ok(entries));
        }

        /// Decoding arbitrary bytes never panics.
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_batch(&Bytes::from(bytes));
        }

        /// Decoding a valid batch with one byte changed or cut short never panics, and what
        /// decodes re-encodes to the input outside MAGICCODE and BODYCRC.
        #[test]
        fn mutated_never_panics(
            entries in entries(),
            at in any::<prop::sample::Index>(),
            value in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let mut bytes = encode_batch(&entries);
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                if cut { bytes.truncate(i) } else { bytes[i] = value }
            }
            if let Ok(decoded) = decode_batch(&Bytes::from(bytes.clone())) {
                let again = encode_batch(&decoded);
                prop_assert_eq!(again.len(), bytes.len());
                let mut pos = 0;
                for entry in &decoded {
                    let end = pos + entry.encoded_len();
                    prop_assert_eq!(&again[pos..pos + 4], &bytes[pos..pos + 4]);
                    prop_assert_eq!(&again[pos + 12..end], &bytes[pos + 12..end]);
                    pos = end;
                }
            }
        }
    }
}
