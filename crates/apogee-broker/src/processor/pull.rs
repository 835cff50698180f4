//! PULL_MESSAGE (11): read a queue from an offset, with tag filtering and long polling.
//!
//! Statuses map to codes and next offsets as in RocketMQ's `PullMessageProcessor`. A pull
//! that finds nothing new and may be suspended (SUSPEND flag) is held until a message arrives
//! on its queue or its suspend timeout passes (`longPollingEnable`), then answered once more.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use apogee_protocol::header::{
    CommandHeader, PermName, PullMessageRequestHeader, PullMessageResponseHeader,
};
use apogee_protocol::message::java_hash::tags_code;
use apogee_protocol::names;
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;
use apogee_store::{GetResult, GetStatus};
use bytes::{Bytes, BytesMut};

use crate::config::BrokerRole;
use crate::context::BrokerContext;
use crate::response_code::{bad_header, error, store_error};

/// Longest a pull is held, whatever the client asks (the Java client asks 15 s and waits
/// 30 s for the answer).
const SUSPEND_MAX: Duration = Duration::from_secs(30);
/// Bytes one pull returns at most when the client does not say (RocketMQ's in-memory cap).
const PULL_BYTES_DEFAULT: usize = 256 * 1024;

/// Which tag codes a subscription accepts; `None` accepts every message.
type TagFilter = Option<HashSet<i64>>;

pub(super) async fn pull(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    let h = match PullMessageRequestHeader::from_ext(&req.ext_fields) {
        Ok(h) => h,
        Err(e) => return bad_header(req, &e),
    };
    let filter = match check(ctx, &h) {
        Ok(filter) => filter,
        Err((code, remark)) => return error(req, code, remark),
    };
    let flags = h.pull_sys_flag();
    if flags.has_commit_offset() && ctx.config.broker_role != BrokerRole::Slave {
        if let Ok(offset) = u64::try_from(h.commit_offset) {
            ctx.offsets
                .commit(&h.consumer_group, &h.topic, h.queue_id, offset);
        }
    }
    let Ok(offset) = u64::try_from(h.queue_offset) else {
        return error(
            req,
            response::INVALID_PARAMETER,
            format!("queueOffset {} is negative", h.queue_offset),
        );
    };
    let mut result = match read(ctx, &h, offset, &filter) {
        Ok(r) => r,
        Err(e) => return store_error(req, &e),
    };
    let nothing_new =
        result.status == GetStatus::OffsetOverflowOne || no_queue_yet(&result, offset);
    if nothing_new && flags.has_suspend() {
        let hold = if ctx.config.long_polling_enable {
            Duration::from_millis(h.suspend_timeout_millis.max(0) as u64).min(SUSPEND_MAX)
        } else {
            Duration::from_millis(ctx.config.short_polling_time_mills)
        };
        if ctx
            .store
            .wait_for_message(&h.topic, h.queue_id, offset, hold)
            .await
        {
            result = match read(ctx, &h, offset, &filter) {
                Ok(r) => r,
                Err(e) => return store_error(req, &e),
            };
        }
    }
    respond(req, offset, result)
}

/// A pull of offset 0 on a queue that has never held a message: nothing new yet.
fn no_queue_yet(result: &GetResult, offset: u64) -> bool {
    offset == 0
        && matches!(
            result.status,
            GetStatus::NoMatchedLogicQueue | GetStatus::NoMessageInQueue
        )
}

fn read(
    ctx: &BrokerContext,
    h: &PullMessageRequestHeader,
    offset: u64,
    filter: &TagFilter,
) -> apogee_store::Result<GetResult> {
    let max_msgs = usize::try_from(h.max_msg_nums).unwrap_or(1).max(1);
    let max_bytes = h
        .max_msg_bytes
        .and_then(|b| usize::try_from(b).ok())
        .filter(|b| *b > 0)
        .unwrap_or(PULL_BYTES_DEFAULT);
    let accept = |code: i64| filter.as_ref().is_none_or(|codes| codes.contains(&code));
    ctx.store
        .get_messages(&h.topic, h.queue_id, offset, max_msgs, max_bytes, &accept)
}

/// Validates the request against the topic and finds the subscription's tag filter.
fn check(ctx: &BrokerContext, h: &PullMessageRequestHeader) -> Result<TagFilter, (i32, String)> {
    names::validate_group(&h.consumer_group)
        .map_err(|e| (response::INVALID_PARAMETER, e.to_string()))?;
    let Some(topic) = ctx.topics.get(&h.topic) else {
        return Err((
            response::TOPIC_NOT_EXIST,
            format!("topic[{}] not exist, apply first please", h.topic),
        ));
    };
    if !PermName(topic.perm).is_readable() {
        return Err((
            response::NO_PERMISSION,
            format!("the topic[{}] pulling message is forbidden", h.topic),
        ));
    }
    if h.queue_id < 0 || h.queue_id >= topic.read_queue_nums {
        return Err((
            response::SYSTEM_ERROR,
            format!(
                "queueId[{}] is illegal, topic:[{}] topicConfig.readQueueNums:[{}]",
                h.queue_id, h.topic, topic.read_queue_nums
            ),
        ));
    }
    let expression_type = h.expression_type.as_deref().unwrap_or("TAG");
    if !expression_type.eq_ignore_ascii_case("TAG") {
        return Err((
            response::SUBSCRIPTION_PARSE_FAILED,
            format!("expression type {expression_type} is not supported; use TAG"),
        ));
    }
    let expression = if h.pull_sys_flag().has_subscription() {
        h.subscription.clone().unwrap_or_else(|| "*".to_owned())
    } else {
        match ctx.clients.subscription(&h.consumer_group, &h.topic) {
            Some(sub) => sub.sub_string,
            None => {
                return Err((
                    response::SUBSCRIPTION_NOT_EXIST,
                    format!(
                        "the consumer's subscription not exist, group: {} topic: {} (send a heartbeat first)",
                        h.consumer_group, h.topic
                    ),
                ));
            }
        }
    };
    Ok(tag_filter(&expression))
}

/// The tag codes of `TagA || TagB`; `*` or an empty expression accepts everything.
fn tag_filter(expression: &str) -> TagFilter {
    let tags: Vec<&str> = expression
        .split("||")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if tags.is_empty() || tags.contains(&"*") {
        return None;
    }
    Some(tags.into_iter().map(|t| tags_code(Some(t))).collect())
}

fn respond(req: &RemotingCommand, offset: u64, result: GetResult) -> RemotingCommand {
    let (code, next) = match result.status {
        GetStatus::Found => (response::SUCCESS, result.next_begin_offset),
        GetStatus::NoMatchedMessage | GetStatus::MessageWasRemoving => {
            (response::PULL_RETRY_IMMEDIATELY, result.next_begin_offset)
        }
        GetStatus::NoMessageInQueue | GetStatus::NoMatchedLogicQueue if offset != 0 => {
            (response::PULL_OFFSET_MOVED, 0)
        }
        GetStatus::NoMessageInQueue | GetStatus::NoMatchedLogicQueue => {
            (response::PULL_NOT_FOUND, 0)
        }
        GetStatus::OffsetTooSmall | GetStatus::OffsetOverflowBadly => {
            (response::PULL_OFFSET_MOVED, result.next_begin_offset)
        }
        GetStatus::OffsetOverflowOne => (response::PULL_NOT_FOUND, offset),
    };
    let body: Bytes = if result.messages.len() == 1 {
        result.messages[0].bytes.clone()
    } else {
        let total = result.messages.iter().map(|m| m.bytes.len()).sum();
        let mut buf = BytesMut::with_capacity(total);
        for m in &result.messages {
            buf.extend_from_slice(&m.bytes);
        }
        buf.freeze()
    };
    let header = PullMessageResponseHeader {
        suggest_which_broker_id: 0,
        next_begin_offset: next as i64,
        min_offset: result.min_offset as i64,
        max_offset: result.max_offset as i64,
        ..PullMessageResponseHeader::default()
    };
    let mut response = RemotingCommand::response_to(req, code, None);
    response.ext_fields = header.to_ext();
    response.with_body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `*` accepts all; `A || B` accepts exactly those tags' codes.
    #[test]
    fn tag_expressions() {
        assert_eq!(tag_filter("*"), None);
        assert_eq!(tag_filter(""), None);
        let codes = tag_filter("TagA || TagB").expect("filter");
        assert!(codes.contains(&2_598_919));
        assert_eq!(codes.len(), 2);
    }
}
