//! Consumer offsets and queue offsets: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET
//! (15), SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
//! GET_EARLIEST_MSG_STORETIME (32).

use std::sync::Arc;

use apogee_protocol::header::{
    CommandHeader, GetMaxOffsetRequestHeader, GetMinOffsetRequestHeader, OffsetResponseHeader,
    QueryConsumerOffsetRequestHeader, SearchOffsetRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use apogee_protocol::names;
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;

use crate::context::BrokerContext;
use crate::response_code::{bad_header, error, store_error, success};

fn with_offset(req: &RemotingCommand, offset: u64) -> RemotingCommand {
    let mut response = success(req);
    response.ext_fields = OffsetResponseHeader {
        offset: offset as i64,
    }
    .to_ext();
    response
}

pub(super) fn query_consumer_offset(
    ctx: &Arc<BrokerContext>,
    req: &RemotingCommand,
) -> RemotingCommand {
    let h = match QueryConsumerOffsetRequestHeader::from_ext(&req.ext_fields) {
        Ok(h) => h,
        Err(e) => return bad_header(req, &e),
    };
    if let Some(offset) = ctx.offsets.query(&h.consumer_group, &h.topic, h.queue_id) {
        return with_offset(req, offset);
    }
    // RocketMQ's "young queue" rule: a group with no committed offset on a queue whose
    // messages all still exist starts from 0, so a new group on a new topic misses nothing.
    let young = ctx.store.min_offset(&h.topic, h.queue_id) == 0;
    if young && h.set_zero_if_not_found != Some(false) {
        return with_offset(req, 0);
    }
    error(
        req,
        response::QUERY_NOT_FOUND,
        "Not found, maybe this group consumer boot first",
    )
}

pub(super) fn update_consumer_offset(
    ctx: &Arc<BrokerContext>,
    req: &RemotingCommand,
) -> RemotingCommand {
    let h = match UpdateConsumerOffsetRequestHeader::from_ext(&req.ext_fields) {
        Ok(h) => h,
        Err(e) => return bad_header(req, &e),
    };
    // No group or topic with an illegal name can exist: committing for one would only
    // persist garbage in the offset table.
    if let Err(e) =
        names::validate_group(&h.consumer_group).and_then(|()| names::validate_topic(&h.topic))
    {
        return error(req, response::INVALID_PARAMETER, e.to_string());
    }
    match u64::try_from(h.commit_offset) {
        Ok(offset) => {
            ctx.offsets
                .commit(&h.consumer_group, &h.topic, h.queue_id, offset);
            success(req)
        }
        Err(_) => error(
            req,
            response::INVALID_PARAMETER,
            format!("commitOffset {} is negative", h.commit_offset),
        ),
    }
}

pub(super) fn max_offset(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    match GetMaxOffsetRequestHeader::from_ext(&req.ext_fields) {
        Ok(h) => with_offset(req, ctx.store.max_offset(&h.topic, h.queue_id)),
        Err(e) => bad_header(req, &e),
    }
}

pub(super) fn min_offset(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    match GetMinOffsetRequestHeader::from_ext(&req.ext_fields) {
        Ok(h) => with_offset(req, ctx.store.min_offset(&h.topic, h.queue_id)),
        Err(e) => bad_header(req, &e),
    }
}

pub(super) fn search_offset(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    let h = match SearchOffsetRequestHeader::from_ext(&req.ext_fields) {
        Ok(h) => h,
        Err(e) => return bad_header(req, &e),
    };
    match ctx.store.offset_by_time(&h.topic, h.queue_id, h.timestamp) {
        Ok(offset) => with_offset(req, offset),
        Err(e) => store_error(req, &e),
    }
}

/// GET_EARLIEST_MSG_STORETIME (32): the store time of the queue's oldest message, or -1.
pub(super) fn earliest_store_time(
    ctx: &Arc<BrokerContext>,
    req: &RemotingCommand,
) -> RemotingCommand {
    let h = match GetMinOffsetRequestHeader::from_ext(&req.ext_fields) {
        Ok(h) => h,
        Err(e) => return bad_header(req, &e),
    };
    let timestamp = match ctx.store.earliest_store_time(&h.topic, h.queue_id) {
        Ok(found) => found.unwrap_or(-1),
        Err(e) => return store_error(req, &e),
    };
    let mut response = success(req);
    response.ext_fields.put("timestamp", timestamp);
    response
}
