//! Errors raised while decoding formats or validating names.

use thiserror::Error;

/// A byte sequence that does not hold a well-formed record, property list or message id.
///
/// Decoders return this for any malformed input; it is an operating error (bad bytes from a
/// peer or from disk), never a reason to panic.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Fewer bytes are available than the format requires at this point.
    #[error("truncated {what}: need {needed} bytes, have {available}")]
    Truncated {
        /// Which part was being read.
        what: &'static str,
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The magic code is not one this crate knows.
    #[error("bad magic code {found:#010x}")]
    BadMagic {
        /// The magic code found.
        found: u32,
    },
    /// A length field is negative, too large, or disagrees with the record's total size.
    #[error("inconsistent {field}: {value}")]
    BadLength {
        /// The length field at fault.
        field: &'static str,
        /// Its value.
        value: i64,
    },
    /// The stored body CRC does not match the body.
    #[error("body CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    BodyCrcMismatch {
        /// CRC found in the record header.
        stored: u32,
        /// CRC computed over the body bytes.
        computed: u32,
    },
    /// A text field (topic or properties) is not valid UTF-8.
    #[error("{field} is not valid UTF-8")]
    NotUtf8 {
        /// The field at fault.
        field: &'static str,
    },
    /// A container holds more entries than its named limit allows.
    #[error("more than {max} {what}")]
    TooMany {
        /// What was being counted, e.g. "batch entries".
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// A message id is not hex of one of the known lengths.
    #[error("malformed message id {id:?}")]
    BadMessageId {
        /// The offending id, as received.
        id: String,
    },
}

/// A topic or group name that breaks RocketMQ's naming rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// The name is empty or only white space.
    #[error("{kind} name is empty")]
    Empty {
        /// "topic" or "group".
        kind: &'static str,
    },
    /// The name is longer than allowed.
    #[error("{kind} name {name:?} is {len} bytes long; the maximum is {max}")]
    TooLong {
        /// "topic" or "group".
        kind: &'static str,
        /// The offending name.
        name: String,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The name contains a character outside `[%|a-zA-Z0-9_-]`.
    #[error(
        "{kind} name {name:?} contains {bad:?}; allowed are letters, digits, '%', '|', '_' and '-'"
    )]
    BadCharacter {
        /// "topic" or "group".
        kind: &'static str,
        /// The offending name.
        name: String,
        /// The first character that is not allowed.
        bad: char,
    },
}
