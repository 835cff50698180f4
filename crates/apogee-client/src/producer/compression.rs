//! Body compression as RocketMQ clients do it: zlib, flagged in the message sysflag with
//! `COMPRESSED` and the compression type in bits 8–10 (`CompressionType.ZLIB` = `0x300`),
//! and [`MessageExt::decompressed_body`] to undo it.

use std::io::{Read, Write};

use apogee_protocol::message::sysflag::{COMPRESSED, COMPRESSION_TYPE_MASK};
use bytes::Bytes;
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use thiserror::Error;

use crate::message::MessageExt;

/// Compression type bits of LZ4 (`MessageSysFlag.COMPRESSION_LZ4_TYPE`).
pub const COMPRESSION_LZ4_TYPE: i32 = 0x100;
/// Compression type bits of Zstandard (`MessageSysFlag.COMPRESSION_ZSTD_TYPE`).
pub const COMPRESSION_ZSTD_TYPE: i32 = 0x200;
/// Compression type bits of zlib (`MessageSysFlag.COMPRESSION_ZLIB_TYPE`).
pub const COMPRESSION_ZLIB_TYPE: i32 = 0x300;
/// The sysflag bits a producer sets on a zlib-compressed body.
pub const ZLIB_SYS_FLAG: i32 = COMPRESSED | COMPRESSION_ZLIB_TYPE;

/// The largest body [`decompress`] restores: a hostile or corrupt message cannot make the
/// client inflate more than this (a zlib bomb). Far above RocketMQ's 4 MiB `maxMessageSize`.
pub const DECOMPRESSED_BODY_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Why a compressed body could not be restored.
#[derive(Debug, Error)]
pub enum DecompressError {
    /// The sysflag names a compression this client does not implement.
    #[error(
        "message body is compressed with {0} (sysflag compression type {1:#x}); only zlib is \
         supported"
    )]
    Unsupported(&'static str, i32),
    /// The body is not a valid zlib stream.
    #[error("message body is flagged zlib-compressed but does not inflate: {0}")]
    Corrupt(#[source] std::io::Error),
    /// The body inflates past [`DECOMPRESSED_BODY_BYTES_MAX`].
    #[error("message body inflates past {DECOMPRESSED_BODY_BYTES_MAX} bytes; refused")]
    TooLarge,
}

/// `body` zlib-compressed at `level` (0–9); `None` if compression failed (it cannot when
/// writing to memory), in which case the body is sent as is, as RocketMQ does.
pub(crate) fn zlib_compress(body: &[u8], level: u32) -> Option<Bytes> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::new(level.min(9)));
    encoder.write_all(body).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

/// The original body of a message with `sys_flag`: `body` itself unless it is flagged
/// compressed. A compressed body without type bits is zlib, as old clients wrote it.
///
/// # Errors
/// [`DecompressError`] for LZ4/Zstandard bodies and bodies that do not inflate.
pub fn decompress(sys_flag: i32, body: &Bytes) -> Result<Bytes, DecompressError> {
    if sys_flag & COMPRESSED == 0 {
        return Ok(body.clone());
    }
    match sys_flag & COMPRESSION_TYPE_MASK {
        0 | COMPRESSION_ZLIB_TYPE => {
            let limit = DECOMPRESSED_BODY_BYTES_MAX;
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
            ZlibDecoder::new(&body[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(DecompressError::Corrupt)?;
            if out.len() > limit {
                return Err(DecompressError::TooLarge);
            }
            Ok(Bytes::from(out))
        }
        COMPRESSION_LZ4_TYPE => Err(DecompressError::Unsupported("LZ4", COMPRESSION_LZ4_TYPE)),
        COMPRESSION_ZSTD_TYPE => Err(DecompressError::Unsupported(
            "Zstandard",
            COMPRESSION_ZSTD_TYPE,
        )),
        other => Err(DecompressError::Unsupported("an unknown algorithm", other)),
    }
}

impl MessageExt {
    /// The body as the producer's application gave it: inflated if the sysflag says it was
    /// compressed on the wire, else [`MessageExt::body`] itself.
    ///
    /// # Errors
    /// [`DecompressError`] when the compression is not zlib or the body does not inflate.
    pub fn decompressed_body(&self) -> Result<Bytes, DecompressError> {
        decompress(self.sys_flag, &self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// zlib round-trips; uncompressed bodies pass through; other types are refused.
    #[test]
    fn round_trip_and_types() {
        let body: Vec<u8> = b"abcdefgh".repeat(1000);
        let packed = zlib_compress(&body, 5).expect("compresses");
        assert!(packed.len() < body.len() / 10);
        assert_eq!(&packed[..1], &[0x78], "a zlib header");
        assert_eq!(decompress(ZLIB_SYS_FLAG, &packed).expect("inflate"), body);
        assert_eq!(decompress(COMPRESSED, &packed).expect("legacy"), body);
        let plain = Bytes::from_static(b"plain");
        assert_eq!(decompress(0x8, &plain).expect("as is"), plain);
        let lz4 = decompress(COMPRESSED | COMPRESSION_LZ4_TYPE, &packed).expect_err("lz4");
        assert!(lz4.to_string().contains("LZ4"), "{lz4}");
        assert!(matches!(
            decompress(ZLIB_SYS_FLAG, &plain),
            Err(DecompressError::Corrupt(_))
        ));
    }

    /// A body that inflates past the limit is refused instead of exhausting memory.
    #[test]
    fn zlib_bomb_refused() {
        let huge = vec![0u8; DECOMPRESSED_BODY_BYTES_MAX + 1];
        let packed = zlib_compress(&huge, 9).expect("compresses");
        assert!(packed.len() < 1024 * 1024);
        assert!(matches!(
            decompress(ZLIB_SYS_FLAG, &packed),
            Err(DecompressError::TooLarge)
        ));
    }
}
