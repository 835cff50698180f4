//! Offset message ids: `storeHost ip (4 or 16) | port i32 | commitLogOffset i64`, uppercase hex.
//!
//! The broker returns this id as `offsetMsgId`; a client decodes it to find which broker holds
//! the message and where, and asks that broker for the record (VIEW_MESSAGE_BY_ID).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::error::DecodeError;

/// Hex length of an offset message id with an IPv4 store host.
pub const OFFSET_MSG_ID_V4_LEN: usize = 32;
/// Hex length of an offset message id with an IPv6 store host.
pub const OFFSET_MSG_ID_V6_LEN: usize = 56;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Encodes the offset message id of the record at `commit_log_offset` on `store_host`.
#[must_use]
pub fn encode_offset_msg_id(store_host: SocketAddr, commit_log_offset: i64) -> String {
    let mut raw = Vec::with_capacity(28);
    match store_host.ip() {
        IpAddr::V4(ip) => raw.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => raw.extend_from_slice(&ip.octets()),
    }
    raw.extend_from_slice(&i32::from(store_host.port()).to_be_bytes());
    raw.extend_from_slice(&commit_log_offset.to_be_bytes());
    hex_upper(&raw)
}

/// Decodes an offset message id into the store host and commit-log offset.
///
/// # Errors
/// [`DecodeError::BadMessageId`] if `id` is not 32 or 56 hex digits or its port is out of range.
pub fn decode_offset_msg_id(id: &str) -> Result<(SocketAddr, i64), DecodeError> {
    let bad = || DecodeError::BadMessageId { id: id.to_owned() };
    let raw = unhex(id).ok_or_else(bad)?;
    let ip_len = match id.len() {
        OFFSET_MSG_ID_V4_LEN => 4,
        OFFSET_MSG_ID_V6_LEN => 16,
        _ => return Err(bad()),
    };
    let ip = if ip_len == 4 {
        let octets: [u8; 4] = raw[..4].try_into().map_err(|_| bad())?;
        IpAddr::V4(Ipv4Addr::from(octets))
    } else {
        let octets: [u8; 16] = raw[..16].try_into().map_err(|_| bad())?;
        IpAddr::V6(Ipv6Addr::from(octets))
    };
    let port_raw = i32::from_be_bytes(raw[ip_len..ip_len + 4].try_into().map_err(|_| bad())?);
    let port = u16::try_from(port_raw).map_err(|_| bad())?;
    let offset = i64::from_be_bytes(raw[ip_len + 4..ip_len + 12].try_into().map_err(|_| bad())?);
    Ok((SocketAddr::new(ip, port), offset))
}

/// Uppercase hex of `bytes`, as RocketMQ's `UtilAll.bytes2string`.
#[must_use]
pub fn hex_upper(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0xF)]));
    }
    out
}

/// Bytes of a hex string (either case); `None` if it has odd length or a non-hex digit.
#[must_use]
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if bytes.len() % 2 != 0 {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference example: 10.0.0.1:10911 at offset 0x1234.
    #[test]
    fn reference_example() {
        let host: SocketAddr = "10.0.0.1:10911".parse().expect("addr");
        let id = encode_offset_msg_id(host, 0x1234);
        assert_eq!(id, "0A00000100002A9F0000000000001234");
        assert_eq!(decode_offset_msg_id(&id), Ok((host, 0x1234)));
        assert_eq!(decode_offset_msg_id(&id.to_lowercase()), Ok((host, 0x1234)));
    }

    /// IPv6 ids are 56 digits; malformed ids are errors, not panics.
    #[test]
    fn ipv6_and_malformed() {
        let host: SocketAddr = "[::1]:10911".parse().expect("addr");
        let id = encode_offset_msg_id(host, 7);
        assert_eq!(id.len(), OFFSET_MSG_ID_V6_LEN);
        assert_eq!(decode_offset_msg_id(&id), Ok((host, 7)));
        for bad in ["", "XYZ", "0A000001", "0A00000100002A9F000000000000123G"] {
            assert!(decode_offset_msg_id(bad).is_err(), "{bad}");
        }
        // A port field that does not fit u16.
        assert!(decode_offset_msg_id("0A000001FFFFFFFF0000000000001234").is_err());
    }
}
