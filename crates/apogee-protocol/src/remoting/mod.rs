//! RocketMQ remoting: the framed request/response protocol clients, brokers and name servers
//! speak over TCP. Pure codec only; connections, opaque matching and timeouts live in the
//! `apogee-remoting` crate.
//!
//! # Layout
//! - [`command`]: [`RemotingCommand`], [`SerializeType`], the flag bits.
//! - [`ext_fields`]: [`ExtFields`], the string map carrying custom headers, with typed accessors.
//! - [`codes`]: request and response codes, protocol versions, [`LanguageCode`].
//! - [`frame`]: frame encoding and the streaming [`FrameDecoder`] with its size limit.
//! - [`json_header`]: the fastjson header (serialize type 0).
//! - [`rocketmq_header`]: the binary header (serialize type 1).
//! - [`error`]: [`FrameError`], [`HeaderError`], [`EncodeError`], [`ExtFieldError`].
//!
//! # Wire format
//! All integers are big-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | length (i32) = 4 + header + body; the frame limit counts these 4 bytes too |
//! | 4 | 4 | serialize type (high byte: 0 JSON, 1 ROCKETMQ) and header length (low 24 bits) |
//! | 8 | H | header |
//! | 8 + H | length − 4 − H | body (may be empty) |
//!
//! The JSON header as Java writes it:
//! `{"code":34,"extFields":{…},"flag":0,"language":"JAVA","opaque":5,"serializeTypeCurrentRPC":"JSON","version":479}`.
//! The ROCKETMQ header is `i16 code, u8 language, i16 version, i32 opaque, i32 flag,
//! i32-length remark, i32-length map of {u16 keyLen, key, i32 valLen, val}`.
//! `flag` bit 0 marks a response, bit 1 a oneway request; a response carries its request's
//! `opaque`.
//!
//! # Lenient decoding
//! We write exactly what Java writes, but accept what Java's fastjson-based decoder accepts,
//! because clients in other languages rely on it. A JSON header may:
//! - omit any key but `code` and `opaque` (`flag` and `version` default to 0, `language` to
//!   JAVA, `remark` to none, `extFields` to empty; `serializeTypeCurrentRPC` is ignored, the
//!   frame's type byte is authoritative);
//! - give integers as JSON numbers or decimal strings;
//! - give `language` as a name (any case) or an ordinal; unknown ones become OTHER;
//! - give `extFields` values as strings, numbers or booleans (stored as their text; null
//!   values are dropped; nested JSON is kept as its text);
//! - contain unknown keys (ignored) and invalid UTF-8 (replaced by U+FFFD).
//!
//! Both headers decode empty strings the way Java does for its own serialization: the ROCKETMQ
//! header treats a zero-length remark, key or value as absent. Booleans in extFields are read
//! as `true`/`false`/`1`/`0` in any case ([`ExtFields::required_bool`]).
//!
//! What is *not* tolerated: a frame over the limit, a length below 4, an empty header, a header
//! longer than its frame, an unknown serialize type, and ROCKETMQ lengths that are negative,
//! overrun the header or leave trailing bytes. These end the connection.

pub mod codes;
pub mod command;
pub mod error;
pub mod ext_fields;
pub mod frame;
pub mod json_header;
pub mod rocketmq_header;

/// The buffer types of this API, re-exported so that callers (the transport, fuzz targets) use
/// the same `bytes` version without naming it.
pub use bytes::{Bytes, BytesMut};
pub use codes::LanguageCode;
pub use command::{FLAG_ONEWAY, FLAG_RESPONSE, RemotingCommand, SerializeType};
pub use error::{EncodeError, ExtFieldError, FrameError, HeaderError};
pub use ext_fields::ExtFields;
pub use frame::{FRAME_BYTES_MAX_DEFAULT, FrameDecoder, encode, encode_into};
