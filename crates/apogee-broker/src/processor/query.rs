//! Message lookups for admin tools and `queryMessage`/`viewMessage` clients, as RocketMQ's
//! `QueryMessageProcessor` answers them:
//! - QUERY_MESSAGE (12): records of a topic by message key (`KEYS`) or unique key
//!   (`UNIQ_KEY`) within a store-time range, from the index, as concatenated raw records;
//! - VIEW_MESSAGE_BY_ID (33): the one raw record at a commit-log offset (the offset part of an
//!   offset message id).

use std::sync::Arc;

use apogee_protocol::header::query::UNIQUE_KEY_QUERY;
use apogee_protocol::header::{
    CommandHeader, QueryMessageRequestHeader, QueryMessageResponseHeader, ViewMessageRequestHeader,
};
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;
use bytes::{Bytes, BytesMut};

use crate::context::BrokerContext;
use crate::response_code::{bad_header, error, store_error, success};

/// Results of a unique-key query, whatever the request's `maxNum` (RocketMQ
/// `defaultQueryMaxNum`): one UNIQ_KEY normally names one message, a few more when a producer
/// retried a send.
const UNIQUE_KEY_QUERY_RESULTS: usize = 32;

/// Bytes of records one QUERY_MESSAGE answer carries. The index returns up to 64 records of up
/// to `maxMessageSize` (4 MiB) each, which would not fit the client's 16 MiB frame limit;
/// records past this are left out, except that the first record is always sent.
const QUERY_BODY_BYTES_MAX: usize = 8 * 1024 * 1024;

/// QUERY_MESSAGE: records whose KEYS or UNIQ_KEY match, newest first.
pub(super) fn query_message(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    let header = match QueryMessageRequestHeader::from_ext(&req.ext_fields) {
        Ok(header) => header,
        Err(e) => return bad_header(req, &e),
    };
    let max = if req.ext_fields.get(UNIQUE_KEY_QUERY) == Some("true") {
        UNIQUE_KEY_QUERY_RESULTS
    } else {
        // A negative maxNum finds nothing, as in RocketMQ.
        usize::try_from(header.max_num).unwrap_or(0)
    };
    let records = match ctx.store.query_by_key(
        &header.topic,
        &header.key,
        max,
        header.begin_timestamp,
        header.end_timestamp,
    ) {
        Ok(records) => records,
        Err(e) => return store_error(req, &e),
    };
    // The store exposes how far the index is built (everything below the dispatched offset),
    // not the time of its newest entry, so the timestamp is 0. Java clients only display them.
    let index_header = QueryMessageResponseHeader {
        index_last_update_timestamp: 0,
        index_last_update_phyoffset: i64::try_from(ctx.store.positions().dispatched)
            .unwrap_or(i64::MAX),
    };
    let mut answer = if records.is_empty() {
        error(
            req,
            response::QUERY_NOT_FOUND,
            "can not find message, maybe time range not correct",
        )
    } else {
        success(req).with_body(concat_capped(&records, QUERY_BODY_BYTES_MAX))
    };
    answer.ext_fields = index_header.to_ext();
    answer
}

/// `records` back to back, stopping before the one that would pass `bytes_max` (the first is
/// always included).
fn concat_capped(records: &[Bytes], bytes_max: usize) -> Bytes {
    let mut len = 0;
    let kept = records
        .iter()
        .take_while(|r| {
            let first = len == 0;
            len += r.len();
            first || len <= bytes_max
        })
        .count();
    if kept < records.len() {
        tracing::debug!(
            kept,
            found = records.len(),
            "query answer capped at {bytes_max} bytes"
        );
    }
    let mut body = BytesMut::with_capacity(records[..kept].iter().map(Bytes::len).sum());
    for record in &records[..kept] {
        body.extend_from_slice(record);
    }
    body.freeze()
}

/// VIEW_MESSAGE_BY_ID: the record at the commit-log offset.
pub(super) fn view_message(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    let header = match ViewMessageRequestHeader::from_ext(&req.ext_fields) {
        Ok(header) => header,
        Err(e) => return bad_header(req, &e),
    };
    let found = match u64::try_from(header.offset) {
        Ok(offset) => ctx.store.record_at(offset),
        Err(_) => Ok(None),
    };
    match found {
        Ok(Some(record)) => success(req).with_body(record),
        // RocketMQ answers a missing record with SYSTEM_ERROR and this remark.
        Ok(None) => error(
            req,
            response::SYSTEM_ERROR,
            format!("can not find message by the offset, {}", header.offset),
        ),
        Err(e) => store_error(req, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cap keeps whole records only, and always the first.
    #[test]
    fn cap_keeps_whole_records() {
        let records: Vec<Bytes> = [3usize, 4, 5]
            .iter()
            .map(|&n| Bytes::from(vec![n as u8; n]))
            .collect();
        assert_eq!(concat_capped(&records, 100).len(), 12);
        assert_eq!(concat_capped(&records, 7).len(), 7);
        assert_eq!(concat_capped(&records, 6).len(), 3);
        assert_eq!(concat_capped(&records, 1).len(), 3);
        assert_eq!(&concat_capped(&records, 8)[..], &[3, 3, 3, 4, 4, 4, 4][..]);
    }
}
