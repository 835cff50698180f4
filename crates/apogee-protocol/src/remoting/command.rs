//! [`RemotingCommand`]: one request or response, independent of how its header is serialized.

use bytes::Bytes;

use super::codes::{LanguageCode, version};
use super::ext_fields::ExtFields;

/// `flag` bit 0: the command is a response (`RemotingCommand.markResponseType`).
pub const FLAG_RESPONSE: i32 = 1;
/// `flag` bit 1: the request is oneway; the receiver never answers it
/// (`RemotingCommand.markOnewayRPC`).
pub const FLAG_ONEWAY: i32 = 2;

/// The version Apogee writes in the commands it creates: RocketMQ 4.9.8, the release it is
/// compatible with. Peers key behaviour on it (e.g. the name server sends standard route JSON
/// only to versions ≥ [`version::V4_9_4`]).
pub const APOGEE_VERSION: i32 = version::V4_9_8;

/// The language Apogee announces in the commands it creates. `JAVA` rather than `RUST`: Java
/// brokers before 4.9.8 do not know `RUST` and decode it to `null`, and every peer ever written
/// accepts `JAVA`, which is also what a Java broker writes in its responses.
pub const APOGEE_LANGUAGE: LanguageCode = LanguageCode::Java;

/// How a command's header is serialized: the high byte of the frame's header-length field
/// (`SerializeType.java`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SerializeType {
    /// fastjson text (type byte 0), what Java sends unless configured otherwise.
    #[default]
    Json,
    /// RocketMQ's compact binary header (type byte 1).
    RocketMq,
}

impl SerializeType {
    /// The type byte written in the frame.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Json => 0,
            Self::RocketMq => 1,
        }
    }

    /// The serialize type with this byte, if any.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Json),
            1 => Some(Self::RocketMq),
            _ => None,
        }
    }
}

/// One remoting request or response.
///
/// The serialize type is not part of the command: the transport remembers the type of each
/// request and answers in the same one, as the Java broker does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotingCommand {
    /// Request code (see [`super::codes::request`]) or response code
    /// (see [`super::codes::response`]).
    pub code: i32,
    /// The sender's implementation language.
    pub language: LanguageCode,
    /// The sender's protocol version (see [`super::codes::version`]).
    pub version: i32,
    /// Request id; a response carries the opaque of its request.
    pub opaque: i32,
    /// [`FLAG_RESPONSE`] and [`FLAG_ONEWAY`] bits.
    pub flag: i32,
    /// Free text, mostly the reason of an error response. The ROCKETMQ header cannot tell an
    /// empty remark from none, and decodes both as `None`.
    pub remark: Option<String>,
    /// The custom header, as strings.
    pub ext_fields: ExtFields,
    /// The body; empty when there is none.
    pub body: Bytes,
}

impl RemotingCommand {
    /// A request with opaque 0 (the transport assigns opaques), no remark and no body.
    #[must_use]
    pub fn request(code: i32, ext_fields: ExtFields) -> Self {
        Self {
            code,
            language: APOGEE_LANGUAGE,
            version: APOGEE_VERSION,
            opaque: 0,
            flag: 0,
            remark: None,
            ext_fields,
            body: Bytes::new(),
        }
    }

    /// The response to `request`: its opaque, the response flag, no extFields and no body.
    #[must_use]
    pub fn response_to(request: &RemotingCommand, code: i32, remark: Option<String>) -> Self {
        Self {
            code,
            language: APOGEE_LANGUAGE,
            version: APOGEE_VERSION,
            opaque: request.opaque,
            flag: FLAG_RESPONSE,
            remark,
            ext_fields: ExtFields::new(),
            body: Bytes::new(),
        }
    }

    /// Replaces the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Replaces the opaque.
    #[must_use]
    pub fn with_opaque(mut self, opaque: i32) -> Self {
        self.opaque = opaque;
        self
    }

    /// Sets the oneway bit: the receiver must not answer.
    #[must_use]
    pub fn oneway(mut self) -> Self {
        self.flag |= FLAG_ONEWAY;
        self
    }

    /// Whether the response bit is set.
    #[must_use]
    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    /// Whether the oneway bit is set (meaningful on requests only).
    #[must_use]
    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remoting::codes::{request, response};

    /// A response copies the request's opaque and sets only the response bit.
    #[test]
    fn response_matches_request() {
        let mut fields = ExtFields::new();
        fields.put("topic", "T");
        let req = RemotingCommand::request(request::SEND_MESSAGE_V2, fields).with_opaque(42);
        assert!(!req.is_response() && !req.is_oneway());
        let resp = RemotingCommand::response_to(&req, response::SYSTEM_BUSY, Some("busy".into()));
        assert_eq!(resp.opaque, 42);
        assert_eq!(resp.flag, FLAG_RESPONSE);
        assert!(resp.is_response() && !resp.is_oneway());
        assert_eq!(resp.remark.as_deref(), Some("busy"));
        assert!(resp.ext_fields.is_empty() && resp.body.is_empty());
    }

    /// The oneway bit is bit 1 and leaves the response bit alone.
    #[test]
    fn oneway_flag() {
        let req = RemotingCommand::request(request::END_TRANSACTION, ExtFields::new()).oneway();
        assert_eq!(req.flag, 2);
        assert!(req.is_oneway() && !req.is_response());
    }

    /// Serialize type bytes match `SerializeType.java`.
    #[test]
    fn serialize_type_codes() {
        assert_eq!(SerializeType::from_code(0), Some(SerializeType::Json));
        assert_eq!(SerializeType::from_code(1), Some(SerializeType::RocketMq));
        assert_eq!(SerializeType::from_code(2), None);
        assert_eq!(SerializeType::RocketMq.code(), 1);
    }
}
