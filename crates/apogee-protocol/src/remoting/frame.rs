//! Remoting frames: encoding a command, and a streaming decoder for a TCP byte stream.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | length (i32): bytes after this field = 4 + header + body |
//! | 4 | 4 | `type << 24 \| headerLength` ([`SerializeType`] byte, 24-bit length) |
//! | 8 | H | header ([`super::json_header`] or [`super::rocketmq_header`]) |
//! | 8 + H | rest | body |
//!
//! The frame-size limit counts the whole frame *including* the 4-byte length prefix, as Netty's
//! `LengthFieldBasedFrameDecoder(max, 0, 4, 0, 4)` in Java's `NettyDecoder` does: a frame is
//! accepted when `length + 4 <= max`.

use bytes::{BufMut, Bytes, BytesMut};

use super::command::{RemotingCommand, SerializeType};
use super::error::{EncodeError, FrameError};
use super::{json_header, rocketmq_header};

/// Default frame limit, length prefix included: 16 MiB, Java's default for the system property
/// `com.rocketmq.remoting.frameMaxLength`. It bounds the memory one connection can make us
/// buffer, and it is what every Java peer enforces, so a larger frame would be refused anyway.
pub const FRAME_BYTES_MAX_DEFAULT: usize = 16 * 1024 * 1024;

/// Largest header the 24-bit header-length field can describe.
pub const HEADER_BYTES_MAX: usize = 0x00FF_FFFF;

/// Bytes before the header: the length prefix and the type/header-length field.
pub const FRAME_PREFIX_BYTES: usize = 8;

/// Smallest valid value of the length field: the type/header-length field alone (Java's
/// decoder reads it unconditionally).
const LENGTH_FIELD_MIN: i32 = 4;

/// Encodes `cmd` as one frame with its header serialized as `serialize_type`.
///
/// The frame limit is the transport's business (it knows the peer's); this only guarantees that
/// the frame is representable.
///
/// # Errors
/// Any [`EncodeError`]: a code or version outside i16 or an over-long key for
/// [`SerializeType::RocketMq`], a header over [`HEADER_BYTES_MAX`], a frame over `i32::MAX`.
pub fn encode(cmd: &RemotingCommand, serialize_type: SerializeType) -> Result<Bytes, EncodeError> {
    let mut out = BytesMut::new();
    encode_into(cmd, serialize_type, &mut out)?;
    Ok(out.freeze())
}

/// Appends the frame of `cmd` to `dst`, as [`encode`] does; on error `dst` is left unchanged.
///
/// # Errors
/// As [`encode`].
pub fn encode_into(
    cmd: &RemotingCommand,
    serialize_type: SerializeType,
    dst: &mut BytesMut,
) -> Result<(), EncodeError> {
    let mut header = Vec::new();
    match serialize_type {
        SerializeType::Json => json_header::encode(cmd, &mut header)?,
        SerializeType::RocketMq => rocketmq_header::encode(cmd, &mut header)?,
    }
    if header.len() > HEADER_BYTES_MAX {
        return Err(EncodeError::HeaderTooLarge {
            bytes: header.len(),
            max: HEADER_BYTES_MAX,
        });
    }
    let after_prefix = 4 + header.len() + cmd.body.len();
    let length = i32::try_from(after_prefix).map_err(|_| EncodeError::FrameTooLarge {
        bytes: after_prefix,
    })?;
    // The header length is at most 24 bits (checked above), so it cannot reach the type byte.
    let type_and_len = (u32::from(serialize_type.code()) << 24) | header.len() as u32;
    dst.reserve(4 + after_prefix);
    dst.put_i32(length);
    dst.put_u32(type_and_len);
    dst.put_slice(&header);
    dst.put_slice(&cmd.body);
    Ok(())
}

/// Splits a TCP byte stream into commands, refusing frames over a size limit.
///
/// The decoder keeps no state between calls: everything it needs is in the buffer. It never
/// reserves room for an announced frame, so buffer growth follows the bytes that actually
/// arrive, not what a peer claims it will send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameDecoder {
    /// Largest frame accepted, length prefix included.
    pub max_frame_bytes: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(FRAME_BYTES_MAX_DEFAULT)
    }
}

/// What the first eight bytes of a frame say.
struct FrameHead {
    /// Whole frame, length prefix included.
    frame_bytes: usize,
    serialize_type: SerializeType,
    header_bytes: usize,
}

impl FrameDecoder {
    /// A decoder accepting frames of at most `max_frame_bytes`, length prefix included.
    #[must_use]
    pub const fn new(max_frame_bytes: usize) -> Self {
        Self { max_frame_bytes }
    }

    /// Takes the next complete frame off the front of `buf` and decodes it.
    ///
    /// Returns `Ok(None)`, consuming nothing, until a whole frame is buffered. The length is
    /// checked as soon as its 4 bytes are present and the type and header length as soon as
    /// 8 bytes are, so an oversized or malformed frame is refused before its body arrives.
    /// A frame whose header fails to decode is consumed before the error is returned.
    ///
    /// # Errors
    /// Any [`FrameError`]. The stream cannot be trusted after one; close the connection, as
    /// Java does.
    pub fn decode(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Option<(RemotingCommand, SerializeType)>, FrameError> {
        let Some(head) = self.peek_head(buf)? else {
            return Ok(None);
        };
        if buf.len() < head.frame_bytes {
            return Ok(None);
        }
        let frame = buf.split_to(head.frame_bytes).freeze();
        let header_end = FRAME_PREFIX_BYTES + head.header_bytes;
        let header = &frame[FRAME_PREFIX_BYTES..header_end];
        let decoded = match head.serialize_type {
            SerializeType::Json => json_header::decode(header),
            SerializeType::RocketMq => rocketmq_header::decode(header),
        };
        let mut cmd = decoded.map_err(|source| FrameError::Header {
            serialize_type: head.serialize_type,
            source,
        })?;
        cmd.body = frame.slice(header_end..);
        Ok(Some((cmd, head.serialize_type)))
    }

    /// Validates as much of the frame prefix as is buffered; `None` when fewer than 8 bytes are.
    fn peek_head(&self, buf: &[u8]) -> Result<Option<FrameHead>, FrameError> {
        let Some(length) = read_i32(buf, 0) else {
            return Ok(None);
        };
        if length < LENGTH_FIELD_MIN {
            return Err(FrameError::BadLength { length });
        }
        // `length` is positive, so it fits usize and the sum cannot overflow.
        let frame_bytes = 4 + length as usize;
        if frame_bytes > self.max_frame_bytes {
            return Err(FrameError::TooLarge {
                frame_bytes,
                max: self.max_frame_bytes,
            });
        }
        let Some(type_and_len) = read_i32(buf, 4) else {
            return Ok(None);
        };
        let type_code = (type_and_len as u32 >> 24) as u8;
        let serialize_type = SerializeType::from_code(type_code)
            .ok_or(FrameError::UnknownSerializeType { code: type_code })?;
        let header_bytes = (type_and_len & 0x00FF_FFFF) as usize;
        let available = frame_bytes - FRAME_PREFIX_BYTES;
        if header_bytes == 0 {
            return Err(FrameError::EmptyHeader);
        }
        if header_bytes > available {
            return Err(FrameError::HeaderExceedsFrame {
                header_bytes,
                available,
            });
        }
        Ok(Some(FrameHead {
            frame_bytes,
            serialize_type,
            header_bytes,
        }))
    }
}

/// The big-endian i32 at `at`, if `buf` holds it.
fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    let bytes = buf.get(at..at + 4)?;
    let mut word = [0u8; 4];
    word.copy_from_slice(bytes);
    Some(i32::from_be_bytes(word))
}

#[cfg(test)]
#[path = "frame_test.rs"]
mod tests;
