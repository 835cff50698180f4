//! The stored-message record: RocketMQ's commit-log layout, which pull responses and
//! replication ship byte for byte.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | TOTALSIZE (whole record) |
//! | 4 | 4 | MAGICCODE ([`MAGIC_V1`], [`MAGIC_V2`]; [`MAGIC_BLANK`] marks the end of a segment) |
//! | 8 | 4 | BODYCRC (CRC32 & 0x7FFFFFFF) |
//! | 12 | 4 | QUEUEID |
//! | 16 | 4 | FLAG |
//! | 20 | 8 | QUEUEOFFSET |
//! | 28 | 8 | PHYSICALOFFSET |
//! | 36 | 4 | SYSFLAG |
//! | 40 | 8 | BORNTIMESTAMP |
//! | 48 | 8/20 | BORNHOST (ip + port i32) |
//! | … | 8 | STORETIMESTAMP |
//! | … | 8/20 | STOREHOST |
//! | … | 4 | RECONSUMETIMES |
//! | … | 8 | PREPAREDTRANSACTIONOFFSET |
//! | … | 4+n | BODYLEN, BODY |
//! | … | 1+n (V1) or 2+n (V2) | TOPICLEN, TOPIC |
//! | … | 2+n | PROPLEN, PROPERTIES |
//!
//! All integers are big-endian.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::BufMut;

use crate::error::DecodeError;
use crate::message::properties::PROPERTIES_BYTES_MAX;
use crate::message::sysflag;

/// Magic code of a record whose topic length is one byte.
pub const MAGIC_V1: u32 = 0xDAA3_20A7;
/// Magic code of a record whose topic length is two bytes (topics over 127 bytes).
pub const MAGIC_V2: u32 = 0xDAA3_20AB;
/// Magic code of the filler written where a record did not fit at the end of a segment.
pub const MAGIC_BLANK: u32 = 0xCBD4_3194;
/// Size of the blank filler header (TOTALSIZE + MAGICCODE); a segment always keeps this much
/// room so that the filler can be written.
pub const BLANK_HEADER_BYTES: usize = 8;
/// Longest topic a V1 record can carry (its length byte is read as signed by Java clients).
pub const TOPIC_V1_BYTES_MAX: usize = 127;

/// Byte offset of MAGICCODE.
pub const MAGIC_POS: usize = 4;
/// Byte offset of BODYCRC.
pub const BODY_CRC_POS: usize = 8;
/// Byte offset of QUEUEID.
pub const QUEUE_ID_POS: usize = 12;
/// Byte offset of FLAG.
pub const FLAG_POS: usize = 16;
/// Byte offset of QUEUEOFFSET.
pub const QUEUE_OFFSET_POS: usize = 20;
/// Byte offset of PHYSICALOFFSET.
pub const PHYSICAL_OFFSET_POS: usize = 28;
/// Byte offset of SYSFLAG.
pub const SYS_FLAG_POS: usize = 36;
/// Byte offset of BORNTIMESTAMP.
pub const BORN_TIMESTAMP_POS: usize = 40;
/// Byte offset of BORNHOST.
pub const BORN_HOST_POS: usize = 48;
/// Smallest possible record: IPv4 hosts, empty body, topic and properties.
pub const RECORD_BYTES_MIN: usize = 91;

/// RocketMQ's body CRC: CRC32 (IEEE) masked to 31 bits.
#[must_use]
pub fn body_crc(body: &[u8]) -> u32 {
    crc32fast::hash(body) & 0x7FFF_FFFF
}

fn host_len(addr: &SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => 8,
        SocketAddr::V6(_) => 20,
    }
}

/// Everything a record holds except what the writer assigns when it appends
/// (queue offset, physical offset, store timestamp).
#[derive(Debug, Clone, Copy)]
pub struct RecordDraft<'a> {
    /// Destination topic (at most [`TOPIC_V1_BYTES_MAX`] bytes for a V1 record).
    pub topic: &'a str,
    /// Destination queue.
    pub queue_id: i32,
    /// User flag.
    pub flag: i32,
    /// Message sysflag; the host-family bits are derived from the hosts by [`encode`].
    pub sys_flag: i32,
    /// Producer timestamp, ms since the epoch.
    pub born_timestamp: i64,
    /// Producer address.
    pub born_host: SocketAddr,
    /// Broker address that stores the record.
    pub store_host: SocketAddr,
    /// How many times the message has been re-consumed.
    pub reconsume_times: i32,
    /// For committed transactional messages: the half message's commit-log offset.
    pub prepared_transaction_offset: i64,
    /// Message body, stored as given (possibly compressed by the producer).
    pub body: &'a [u8],
    /// Encoded property list (see [`crate::message::properties`]).
    pub properties: &'a str,
}

/// The values a writer assigns to a record under its append lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Logical offset within the destination consume queue.
    pub queue_offset: i64,
    /// Byte offset of the record in the commit log.
    pub physical_offset: i64,
    /// Store timestamp, ms since the epoch.
    pub store_timestamp: i64,
}

impl RecordDraft<'_> {
    /// Size of the encoded record in bytes.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let topic_len_bytes = if self.topic.len() > TOPIC_V1_BYTES_MAX {
            2
        } else {
            1
        };
        RECORD_BYTES_MIN - 16
            + host_len(&self.born_host)
            + host_len(&self.store_host)
            + self.body.len()
            + topic_len_bytes
            - 1
            + self.topic.len()
            + self.properties.len()
    }

    /// The sysflag written to disk: the caller's flag with the host-family bits set from the
    /// actual addresses, so a decoder always reads the hosts with the right width.
    #[must_use]
    pub fn effective_sys_flag(&self) -> i32 {
        let mut flag = self.sys_flag & !(sysflag::BORNHOST_V6 | sysflag::STOREHOST_V6);
        if self.born_host.is_ipv6() {
            flag |= sysflag::BORNHOST_V6;
        }
        if self.store_host.is_ipv6() {
            flag |= sysflag::STOREHOST_V6;
        }
        flag
    }
}

fn put_host(out: &mut &mut [u8], addr: &SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => out.put_slice(&ip.octets()),
        IpAddr::V6(ip) => out.put_slice(&ip.octets()),
    }
    out.put_i32(i32::from(addr.port()));
}

/// Encodes `draft` stamped with `stamp` into `out`, which must be exactly
/// [`RecordDraft::encoded_len`] bytes. `crc` is [`body_crc`] of the body, computed by the caller
/// (typically before taking the append lock).
///
/// # Panics
/// If `out` has the wrong length, the topic is longer than `u16::MAX` bytes or the properties
/// longer than [`PROPERTIES_BYTES_MAX`]: callers enforce these limits before encoding, so a
/// violation is a bug.
pub fn encode(draft: &RecordDraft<'_>, crc: u32, stamp: &Stamp, out: &mut [u8]) {
    let total = draft.encoded_len();
    assert_eq!(out.len(), total, "record buffer length");
    assert!(
        draft.properties.len() <= PROPERTIES_BYTES_MAX,
        "properties too long"
    );
    assert!(draft.topic.len() <= usize::from(u16::MAX), "topic too long");
    let v2 = draft.topic.len() > TOPIC_V1_BYTES_MAX;
    let mut w: &mut [u8] = out;
    w.put_i32(i32::try_from(total).expect("record length fits i32"));
    w.put_u32(if v2 { MAGIC_V2 } else { MAGIC_V1 });
    w.put_u32(crc);
    w.put_i32(draft.queue_id);
    w.put_i32(draft.flag);
    w.put_i64(stamp.queue_offset);
    w.put_i64(stamp.physical_offset);
    w.put_i32(draft.effective_sys_flag());
    w.put_i64(draft.born_timestamp);
    put_host(&mut w, &draft.born_host);
    w.put_i64(stamp.store_timestamp);
    put_host(&mut w, &draft.store_host);
    w.put_i32(draft.reconsume_times);
    w.put_i64(draft.prepared_transaction_offset);
    w.put_i32(i32::try_from(draft.body.len()).expect("body length fits i32"));
    w.put_slice(draft.body);
    if v2 {
        w.put_u16(u16::try_from(draft.topic.len()).expect("checked above"));
    } else {
        w.put_u8(u8::try_from(draft.topic.len()).expect("checked above"));
    }
    w.put_slice(draft.topic.as_bytes());
    w.put_u16(u16::try_from(draft.properties.len()).expect("checked above"));
    w.put_slice(draft.properties.as_bytes());
    debug_assert!(w.is_empty());
}

/// A decoded record borrowing its variable-length fields from the buffer it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// TOTALSIZE.
    pub total_size: usize,
    /// MAGICCODE ([`MAGIC_V1`] or [`MAGIC_V2`]).
    pub magic: u32,
    /// BODYCRC as stored.
    pub body_crc: u32,
    /// QUEUEID.
    pub queue_id: i32,
    /// FLAG.
    pub flag: i32,
    /// QUEUEOFFSET.
    pub queue_offset: i64,
    /// PHYSICALOFFSET.
    pub physical_offset: i64,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// BORNTIMESTAMP.
    pub born_timestamp: i64,
    /// BORNHOST.
    pub born_host: SocketAddr,
    /// STORETIMESTAMP.
    pub store_timestamp: i64,
    /// STOREHOST.
    pub store_host: SocketAddr,
    /// RECONSUMETIMES.
    pub reconsume_times: i32,
    /// PREPAREDTRANSACTIONOFFSET.
    pub prepared_transaction_offset: i64,
    /// BODY.
    pub body: &'a [u8],
    /// TOPIC.
    pub topic: &'a str,
    /// PROPERTIES (encoded list).
    pub properties: &'a str,
}

/// What the first eight bytes of a record slot say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotHead {
    /// A record of this many bytes begins here (magic V1 or V2).
    Record(usize),
    /// The end-of-segment filler, spanning this many bytes to the end of the segment.
    Blank(usize),
    /// Nothing was ever written here: TOTALSIZE and MAGICCODE are zero.
    Empty,
}

/// Reads the TOTALSIZE and MAGICCODE at the start of `buf`.
///
/// # Errors
/// [`DecodeError::Truncated`] if `buf` is shorter than 8 bytes, [`DecodeError::BadMagic`] for an
/// unknown magic code, [`DecodeError::BadLength`] for an impossible size.
pub fn peek(buf: &[u8]) -> Result<SlotHead, DecodeError> {
    let mut r = Reader::new(buf, "record head");
    let size = r.i32()?;
    let magic = r.u32()?;
    match magic {
        0 if size == 0 => Ok(SlotHead::Empty),
        MAGIC_BLANK if size >= BLANK_HEADER_BYTES as i32 => Ok(SlotHead::Blank(size as usize)),
        MAGIC_V1 | MAGIC_V2 if size >= RECORD_BYTES_MIN as i32 => {
            Ok(SlotHead::Record(size as usize))
        }
        MAGIC_V1 | MAGIC_V2 | MAGIC_BLANK => Err(DecodeError::BadLength {
            field: "TOTALSIZE",
            value: i64::from(size),
        }),
        found => Err(DecodeError::BadMagic { found }),
    }
}

/// Decodes one record at the start of `buf` (which may extend past it).
///
/// Checks the magic code and that every length field agrees with TOTALSIZE; does not check the
/// body CRC (see [`RecordView::verify_crc`]).
///
/// # Errors
/// Any [`DecodeError`] describing the first inconsistency found.
pub fn decode(buf: &[u8]) -> Result<RecordView<'_>, DecodeError> {
    let total_size = match peek(buf)? {
        SlotHead::Record(size) => size,
        SlotHead::Blank(_) => return Err(DecodeError::BadMagic { found: MAGIC_BLANK }),
        SlotHead::Empty => return Err(DecodeError::BadMagic { found: 0 }),
    };
    if buf.len() < total_size {
        return Err(DecodeError::Truncated {
            what: "record",
            needed: total_size,
            available: buf.len(),
        });
    }
    let mut r = Reader::new(&buf[..total_size], "record");
    r.skip(4)?;
    let magic = r.u32()?;
    let body_crc = r.u32()?;
    let queue_id = r.i32()?;
    let flag = r.i32()?;
    let queue_offset = r.i64()?;
    let physical_offset = r.i64()?;
    let sys_flag = r.i32()?;
    let born_timestamp = r.i64()?;
    let born_host = r.host(sys_flag & sysflag::BORNHOST_V6 != 0)?;
    let store_timestamp = r.i64()?;
    let store_host = r.host(sys_flag & sysflag::STOREHOST_V6 != 0)?;
    let reconsume_times = r.i32()?;
    let prepared_transaction_offset = r.i64()?;
    let body_len = r.len_i32("BODYLEN")?;
    let body = r.bytes(body_len)?;
    let topic_len = if magic == MAGIC_V2 {
        usize::from(r.u16()?)
    } else {
        usize::from(r.u8()?)
    };
    let topic = r.text(topic_len, "TOPIC")?;
    let props_len = usize::from(r.u16()?);
    let properties = r.text(props_len, "PROPERTIES")?;
    if !r.rest().is_empty() {
        return Err(DecodeError::BadLength {
            field: "TOTALSIZE",
            value: total_size as i64,
        });
    }
    Ok(RecordView {
        total_size,
        magic,
        body_crc,
        queue_id,
        flag,
        queue_offset,
        physical_offset,
        sys_flag,
        born_timestamp,
        born_host,
        store_timestamp,
        store_host,
        reconsume_times,
        prepared_transaction_offset,
        body,
        topic,
        properties,
    })
}

impl RecordView<'_> {
    /// Checks the stored body CRC against the body.
    ///
    /// # Errors
    /// [`DecodeError::BodyCrcMismatch`] if they differ.
    pub fn verify_crc(&self) -> Result<(), DecodeError> {
        let computed = body_crc(self.body);
        if computed == self.body_crc {
            Ok(())
        } else {
            Err(DecodeError::BodyCrcMismatch {
                stored: self.body_crc,
                computed,
            })
        }
    }

    /// The draft this record was encoded from (for re-encoding or copying a message).
    #[must_use]
    pub fn draft(&self) -> RecordDraft<'_> {
        RecordDraft {
            topic: self.topic,
            queue_id: self.queue_id,
            flag: self.flag,
            sys_flag: self.sys_flag,
            born_timestamp: self.born_timestamp,
            born_host: self.born_host,
            store_host: self.store_host,
            reconsume_times: self.reconsume_times,
            prepared_transaction_offset: self.prepared_transaction_offset,
            body: self.body,
            properties: self.properties,
        }
    }

    /// The values the writer assigned.
    #[must_use]
    pub fn stamp(&self) -> Stamp {
        Stamp {
            queue_offset: self.queue_offset,
            physical_offset: self.physical_offset,
            store_timestamp: self.store_timestamp,
        }
    }
}

/// A bounds-checked big-endian reader over a byte slice.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, pos: 0, what }
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or(DecodeError::Truncated {
            what: self.what,
            needed: self.pos.saturating_add(n),
            available: self.buf.len(),
        })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.bytes(n).map(|_| ())
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    fn len_i32(&mut self, field: &'static str) -> Result<usize, DecodeError> {
        let value = self.i32()?;
        usize::try_from(value).map_err(|_| DecodeError::BadLength {
            field,
            value: i64::from(value),
        })
    }

    fn host(&mut self, v6: bool) -> Result<SocketAddr, DecodeError> {
        let ip = if v6 {
            IpAddr::V6(Ipv6Addr::from(self.array::<16>()?))
        } else {
            IpAddr::V4(Ipv4Addr::from(self.array::<4>()?))
        };
        let port = self.i32()?;
        // Ports are written as i32; anything outside u16 is corrupt.
        let port = u16::try_from(port).map_err(|_| DecodeError::BadLength {
            field: "port",
            value: i64::from(port),
        })?;
        Ok(SocketAddr::new(ip, port))
    }

    fn text(&mut self, n: usize, field: &'static str) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes(n)?).map_err(|_| DecodeError::NotUtf8 { field })
    }

    fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }
}

#[cfg(test)]
#[path = "record_test.rs"]
mod tests;
