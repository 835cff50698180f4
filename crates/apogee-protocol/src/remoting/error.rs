//! Errors of the remoting codec: framing, header decoding, encoding and extFields access.
//!
//! Every decode error is an operating error (bad bytes from a peer): the transport closes the
//! connection, as the Java `NettyDecoder` does. [`ExtFieldError`] is different: the frame was
//! fine but a request header lacks a field, so the broker answers with an error response.

use thiserror::Error;

use super::command::SerializeType;

/// A stream of bytes that does not hold well-formed remoting frames.
#[derive(Debug, Error)]
pub enum FrameError {
    /// The length prefix is negative or too small to hold the header-length field.
    #[error("frame length field {length} is below the minimum of 4")]
    BadLength {
        /// The length field as read (bytes after the prefix).
        length: i32,
    },
    /// The frame, counted with its 4-byte length prefix, is larger than the decoder accepts.
    #[error("frame of {frame_bytes} bytes (with length prefix) exceeds the limit of {max} bytes")]
    TooLarge {
        /// Size of the announced frame, length prefix included.
        frame_bytes: usize,
        /// The decoder's limit.
        max: usize,
    },
    /// The high byte of the header-length field is neither JSON (0) nor ROCKETMQ (1).
    #[error("unknown serialize type {code}")]
    UnknownSerializeType {
        /// The type byte found.
        code: u8,
    },
    /// The header length is zero; neither serialization can be empty.
    #[error("header length is zero")]
    EmptyHeader,
    /// The header length runs past the end of the frame.
    #[error("header length {header_bytes} exceeds the {available} bytes left in the frame")]
    HeaderExceedsFrame {
        /// Header length from the frame.
        header_bytes: usize,
        /// Bytes after the header-length field.
        available: usize,
    },
    /// The frame is well formed but its header is not.
    #[error("bad {serialize_type:?} header")]
    Header {
        /// Serialization named by the frame.
        serialize_type: SerializeType,
        /// What is wrong with the header.
        #[source]
        source: HeaderError,
    },
}

/// A header (JSON or ROCKETMQ binary) that cannot be decoded.
#[derive(Debug, Error)]
pub enum HeaderError {
    /// Fewer bytes are left in the header than the field needs.
    #[error("truncated {field}: need {needed} bytes, have {available}")]
    Truncated {
        /// Field being read.
        field: &'static str,
        /// Bytes required.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A length field is negative.
    #[error("negative {field} length {value}")]
    NegativeLength {
        /// Length field at fault.
        field: &'static str,
        /// Its value.
        value: i32,
    },
    /// Bytes remain in the ROCKETMQ header after the extFields map.
    #[error("{count} unexpected bytes after the extFields map")]
    TrailingBytes {
        /// How many bytes are left over.
        count: usize,
    },
    /// The JSON header is not valid JSON.
    #[error("header is not valid JSON")]
    Json(#[source] serde_json::Error),
    /// The JSON header is valid JSON but not an object.
    #[error("JSON header is a {found}, not an object")]
    NotAnObject {
        /// JSON kind found (`"array"`, `"string"`, ...).
        found: &'static str,
    },
    /// A required JSON header key (`code` or `opaque`) is absent or null.
    #[error("JSON header has no {field:?}")]
    MissingField {
        /// Key that is missing.
        field: &'static str,
    },
    /// A JSON header key holds a value of the wrong kind or out of range.
    #[error("JSON header {field:?} is {found}; expected {expected}")]
    BadField {
        /// Key at fault.
        field: &'static str,
        /// What was expected.
        expected: &'static str,
        /// What was found (JSON kind or the offending number).
        found: String,
    },
}

/// A command that cannot be put on the wire in the requested serialization.
#[derive(Debug, Error)]
pub enum EncodeError {
    /// The ROCKETMQ header stores the code as an i16; use JSON for larger codes
    /// (e.g. the 5.x POP codes 200050+).
    #[error("code {code} does not fit the ROCKETMQ header's i16; use JSON")]
    CodeOutOfRange {
        /// The command's code.
        code: i32,
    },
    /// The ROCKETMQ header stores the version as an i16.
    #[error("version {version} does not fit the ROCKETMQ header's i16; use JSON")]
    VersionOutOfRange {
        /// The command's version.
        version: i32,
    },
    /// An extFields key is longer than the ROCKETMQ header's signed 16-bit key length allows.
    #[error("extFields key of {bytes} bytes exceeds the ROCKETMQ limit of {max}")]
    KeyTooLong {
        /// Key length in bytes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The header does not fit the 24-bit header-length field.
    #[error("header of {bytes} bytes exceeds the 24-bit limit of {max}")]
    HeaderTooLarge {
        /// Encoded header length.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Header plus body do not fit the signed 32-bit length prefix.
    #[error("frame of {bytes} bytes does not fit the i32 length prefix")]
    FrameTooLarge {
        /// Bytes after the length prefix.
        bytes: usize,
    },
    /// serde_json refused to write the JSON header. Writing into memory cannot fail for these
    /// types; the variant exists so that a serializer bug surfaces as an error, not a panic.
    #[error("JSON header serialization failed")]
    Json(#[source] serde_json::Error),
}

/// A request-header field that is missing from extFields or does not parse.
///
/// Its message is meant for the remark of the error response the broker sends back.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExtFieldError {
    /// A required field is absent.
    #[error("the custom field <{key}> is null")]
    Missing {
        /// Field name.
        key: &'static str,
    },
    /// A field is present but does not parse as the expected type.
    #[error("the custom field <{key}> = {value:?} is not a valid {expected}")]
    Invalid {
        /// Field name.
        key: &'static str,
        /// The value as received, cut to [`super::ext_fields::ERROR_VALUE_CHARS_MAX`]
        /// characters.
        value: String,
        /// Type expected (`"int"`, `"long"`, `"boolean"`).
        expected: &'static str,
    },
}
