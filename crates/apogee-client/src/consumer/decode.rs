//! Turning a pull's records into what listeners see (`PullAPIWrapper.processPullResult`): the
//! client-side tag re-check, decompressed bodies, and the queue's bounds as properties.

use apogee_protocol::body::SubscriptionData;
use apogee_protocol::message::sysflag::{COMPRESSED, COMPRESSION_TYPE_MASK};

use super::subscription::tags_match;
use crate::broker_api::PullResponse;
use crate::error::ClientError;
use crate::message::MessageExt;

/// The property with the queue's min offset at pull time (`MessageConst.PROPERTY_MIN_OFFSET`).
pub const MIN_OFFSET: &str = "MIN_OFFSET";
/// The property with the queue's max offset at pull time (`MessageConst.PROPERTY_MAX_OFFSET`).
pub const MAX_OFFSET: &str = "MAX_OFFSET";

/// Decodes a FOUND pull's messages, drops those whose tag the subscription does not accept,
/// inflates compressed bodies, and records the queue's bounds as Java does.
///
/// # Errors
/// [`ClientError::BadResponse`] when a record does not decode.
pub fn pulled_messages(
    response: &PullResponse,
    addr: &str,
    broker_name: &str,
    subscription: &SubscriptionData,
) -> Result<Vec<MessageExt>, ClientError> {
    let mut messages = response.messages(addr, broker_name)?;
    messages.retain(|m| tags_match(subscription, m.tags()));
    let (min, max) = (
        response.header.min_offset.to_string(),
        response.header.max_offset.to_string(),
    );
    for message in &mut messages {
        decompress_in_place(message);
        message
            .properties
            .insert(MIN_OFFSET.to_owned(), min.clone());
        message
            .properties
            .insert(MAX_OFFSET.to_owned(), max.clone());
    }
    Ok(messages)
}

/// Replaces a COMPRESSED body with the original (via [`MessageExt::decompressed_body`]) and
/// clears the compression bits, so the flags describe the body the listener gets. A body that
/// does not inflate or uses an algorithm other than zlib is left as it is, flags included,
/// and logged.
pub fn decompress_in_place(message: &mut MessageExt) {
    if message.sys_flag & COMPRESSED == 0 {
        return;
    }
    match message.decompressed_body() {
        Ok(body) => {
            message.body = body;
            message.sys_flag &= !(COMPRESSED | COMPRESSION_TYPE_MASK);
        }
        Err(error) => {
            tracing::warn!(msg_id = %message.msg_id(), %error, "body kept as stored");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::io::Write;
    use std::net::{Ipv4Addr, SocketAddr};

    fn message(body: Bytes, sys_flag: i32) -> MessageExt {
        let host = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
        MessageExt {
            topic: "T".to_owned(),
            body,
            flag: 0,
            properties: Default::default(),
            broker_name: "b".to_owned(),
            queue_id: 0,
            queue_offset: 0,
            commit_log_offset: 0,
            sys_flag,
            born_timestamp: 0,
            born_host: host,
            store_timestamp: 0,
            store_host: host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            offset_msg_id: String::new(),
        }
    }

    fn zlib(data: &[u8]) -> Bytes {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).expect("compress");
        Bytes::from(encoder.finish().expect("finish"))
    }

    /// A zlib body (4.x type bits 0, or 5.x type 3) inflates and loses the flag; others stay.
    #[test]
    fn inflates_zlib_only() {
        let text = b"hello hello hello hello".repeat(10);
        let mut m = message(zlib(&text), COMPRESSED);
        decompress_in_place(&mut m);
        assert_eq!(&m.body[..], &text[..]);
        assert_eq!(m.sys_flag & COMPRESSED, 0);

        let mut m = message(zlib(&text), COMPRESSED | (3 << 8) | 0x8);
        decompress_in_place(&mut m);
        assert_eq!(&m.body[..], &text[..]);
        assert_eq!(m.sys_flag, 0x8);

        let lz4 = COMPRESSED | (1 << 8);
        let mut m = message(Bytes::from_static(b"raw"), lz4);
        decompress_in_place(&mut m);
        assert_eq!((&m.body[..], m.sys_flag), (&b"raw"[..], lz4));

        let mut m = message(Bytes::from_static(b"not zlib"), COMPRESSED);
        decompress_in_place(&mut m);
        assert_eq!((&m.body[..], m.sys_flag), (&b"not zlib"[..], COMPRESSED));

        let mut plain = message(Bytes::from_static(b"plain"), 0);
        decompress_in_place(&mut plain);
        assert_eq!(&plain.body[..], b"plain");
    }
}
