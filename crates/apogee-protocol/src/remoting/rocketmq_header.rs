//! The ROCKETMQ binary header (serialize type 1, `RocketMQSerializable.java`).
//!
//! | field | encoding |
//! |---|---|
//! | code | i16 |
//! | language | u8 (ordinal) |
//! | version | i16 |
//! | opaque | i32 |
//! | flag | i32 |
//! | remark | i32 length + UTF-8 (length 0 = none) |
//! | extFields | i32 total length, then `{u16 keyLen, key, i32 valLen, val}` repeated |
//!
//! Big-endian throughout. A code or version outside i16 cannot be written; [`encode`] returns
//! [`EncodeError::CodeOutOfRange`] / [`EncodeError::VersionOutOfRange`] rather than truncating
//! as Java does, and callers send such commands as JSON. Java reads a zero-length string as
//! `null`, so a map entry with an empty key or value decodes as absent and an empty remark as
//! `None`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::BufMut;

use super::command::RemotingCommand;
use super::error::{EncodeError, HeaderError};
use super::frame::HEADER_BYTES_MAX;
use super::{codes::LanguageCode, ext_fields::ExtFields};

/// Size of a header with no remark and no extFields: code, language, version, opaque, flag and
/// the two length fields.
pub const HEADER_BYTES_MIN: usize = 2 + 1 + 2 + 4 + 4 + 4 + 4;

/// Longest extFields key we write. The wire field is 16 bits, but Java reads it with
/// `readShort`, so a longer key would arrive as a negative length.
pub const KEY_BYTES_MAX: usize = i16::MAX as usize;

/// Size of the encoded header of `cmd`, without checking any limit.
#[must_use]
pub fn encoded_len(cmd: &RemotingCommand) -> usize {
    HEADER_BYTES_MIN + cmd.remark.as_ref().map_or(0, String::len) + ext_map_len(&cmd.ext_fields)
}

fn ext_map_len(fields: &ExtFields) -> usize {
    fields.iter().map(|(k, v)| 2 + k.len() + 4 + v.len()).sum()
}

/// Appends the ROCKETMQ header of `cmd` to `out`; on error nothing is appended.
///
/// # Errors
/// [`EncodeError::CodeOutOfRange`] or [`EncodeError::VersionOutOfRange`] for values outside
/// i16, [`EncodeError::KeyTooLong`] for a key over [`KEY_BYTES_MAX`], and
/// [`EncodeError::HeaderTooLarge`] for a header over [`HEADER_BYTES_MAX`].
pub fn encode(cmd: &RemotingCommand, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let code =
        i16::try_from(cmd.code).map_err(|_| EncodeError::CodeOutOfRange { code: cmd.code })?;
    let version = i16::try_from(cmd.version).map_err(|_| EncodeError::VersionOutOfRange {
        version: cmd.version,
    })?;
    if let Some(bytes) = cmd
        .ext_fields
        .iter()
        .map(|(k, _)| k.len())
        .find(|&n| n > KEY_BYTES_MAX)
    {
        return Err(EncodeError::KeyTooLong {
            bytes,
            max: KEY_BYTES_MAX,
        });
    }
    let total = encoded_len(cmd);
    if total > HEADER_BYTES_MAX {
        return Err(EncodeError::HeaderTooLarge {
            bytes: total,
            max: HEADER_BYTES_MAX,
        });
    }
    // Every length below is at most `total` ≤ HEADER_BYTES_MAX (24 bits), so the casts to
    // i32 and u16 are exact.
    out.reserve(total);
    out.put_i16(code);
    out.put_u8(cmd.language.ordinal());
    out.put_i16(version);
    out.put_i32(cmd.opaque);
    out.put_i32(cmd.flag);
    let remark = cmd.remark.as_deref().unwrap_or("");
    out.put_i32(remark.len() as i32);
    out.put_slice(remark.as_bytes());
    out.put_i32(ext_map_len(&cmd.ext_fields) as i32);
    for (k, v) in cmd.ext_fields.iter() {
        out.put_u16(k.len() as u16);
        out.put_slice(k.as_bytes());
        out.put_i32(v.len() as i32);
        out.put_slice(v.as_bytes());
    }
    Ok(())
}

/// Decodes a ROCKETMQ header (exactly the header bytes of the frame) into a command with an
/// empty body. Text is decoded as UTF-8 with invalid sequences replaced, as Java does.
///
/// # Errors
/// [`HeaderError::Truncated`] when a field or length runs past the header,
/// [`HeaderError::NegativeLength`] for a negative remark, map or value length, and
/// [`HeaderError::TrailingBytes`] when bytes follow the map.
pub fn decode(bytes: &[u8]) -> Result<RemotingCommand, HeaderError> {
    let mut r = Reader(bytes);
    let code = i32::from(r.i16("code")?);
    let language = LanguageCode::from_ordinal(r.u8("language")?);
    let version = i32::from(r.i16("version")?);
    let opaque = r.i32("opaque")?;
    let flag = r.i32("flag")?;
    let remark_len = r.len_i32("remark")?;
    let remark = r.take("remark", remark_len)?;
    let map_len = r.len_i32("extFields")?;
    let ext_fields = decode_map(r.take("extFields", map_len)?)?;
    if !r.0.is_empty() {
        return Err(HeaderError::TrailingBytes { count: r.0.len() });
    }
    Ok(RemotingCommand {
        code,
        language,
        version,
        opaque,
        flag,
        remark: (!remark.is_empty()).then(|| text(remark).into_owned()),
        ext_fields,
        body: bytes::Bytes::new(),
    })
}

/// Decodes the extFields entries, each bounded by the map's own length.
fn decode_map(bytes: &[u8]) -> Result<ExtFields, HeaderError> {
    let mut r = Reader(bytes);
    let mut map = BTreeMap::new();
    while !r.0.is_empty() {
        let key_len = usize::from(r.u16("extFields key length")?);
        let key = r.take("extFields key", key_len)?;
        let value_len = r.len_i32("extFields value")?;
        let value = r.take("extFields value", value_len)?;
        // Java turns zero-length strings into null; a null key or value is an absent field.
        if !key.is_empty() && !value.is_empty() {
            map.insert(text(key).into_owned(), text(value).into_owned());
        }
    }
    Ok(ExtFields::from(map))
}

fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// A cursor over the header that never reads past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], HeaderError> {
        if n > self.0.len() {
            return Err(HeaderError::Truncated {
                field,
                needed: n,
                available: self.0.len(),
            });
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], HeaderError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, HeaderError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, HeaderError> {
        self.array(field).map(u16::from_be_bytes)
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, HeaderError> {
        self.array(field).map(i16::from_be_bytes)
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, HeaderError> {
        self.array(field).map(i32::from_be_bytes)
    }

    /// An i32 length field, rejected when negative.
    fn len_i32(&mut self, field: &'static str) -> Result<usize, HeaderError> {
        let value = self.i32(field)?;
        usize::try_from(value).map_err(|_| HeaderError::NegativeLength { field, value })
    }
}

#[cfg(test)]
#[path = "rocketmq_header_test.rs"]
mod tests;
