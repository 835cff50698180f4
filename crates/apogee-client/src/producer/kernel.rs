//! One send attempt to one broker (RocketMQ's `sendKernelImpl` and `processSendResponse`).

use std::time::Duration;

use apogee_protocol::header::{CommandHeader, SendMessageResponseHeader};
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::RemotingCommand;

use super::ProducerConfig;
use super::outgoing::Outgoing;
use super::send_result::{SendResult, SendStatus};
use super::unique_id::now_ms;
use crate::error::ClientError;
use crate::instance::{ClientInstance, expect_code};
use crate::message::MessageQueue;

/// The response extField naming the broker's region (`MessageConst.PROPERTY_MSG_REGION`).
const MSG_REGION: &str = "MSG_REGION";
/// The region reported when the broker names none.
const DEFAULT_REGION: &str = "DefaultRegion";

fn request_for(config: &ProducerConfig, out: &Outgoing, mq: &MessageQueue) -> RemotingCommand {
    let code = if out.batch {
        request::SEND_BATCH_MESSAGE
    } else {
        request::SEND_MESSAGE_V2
    };
    let header = out.header(config, mq, now_ms());
    RemotingCommand::request(code, header.to_ext_v2()).with_body(out.body.clone())
}

/// Sends `out` to queue `mq` of the broker at `addr` and waits up to `timeout`.
///
/// # Errors
/// Transport errors; [`ClientError::Refused`] when the broker did not store it.
pub(crate) async fn send_once(
    instance: &ClientInstance,
    config: &ProducerConfig,
    out: &Outgoing,
    mq: &MessageQueue,
    addr: &str,
    timeout: Duration,
) -> Result<SendResult, ClientError> {
    let request = request_for(config, out, mq);
    let response = instance.invoke(addr, request, timeout).await?;
    let response = expect_code(
        addr,
        response,
        &[
            response::SUCCESS,
            response::FLUSH_DISK_TIMEOUT,
            response::FLUSH_SLAVE_TIMEOUT,
            response::SLAVE_NOT_AVAILABLE,
        ],
    )?;
    let send_status =
        SendStatus::from_code(response.code).ok_or_else(|| ClientError::BadResponse {
            addr: addr.to_owned(),
            detail: format!("unexpected send response code {}", response.code),
        })?;
    let header = SendMessageResponseHeader::from_ext(&response.ext_fields)
        .map_err(|e| ClientError::bad_header(addr, &e))?;
    Ok(SendResult {
        send_status,
        msg_id: out.msg_id.clone(),
        offset_msg_id: header.msg_id,
        message_queue: MessageQueue {
            topic: out.topic.clone(),
            broker_name: mq.broker_name.clone(),
            queue_id: header.queue_id,
        },
        queue_offset: header.queue_offset,
        transaction_id: header.transaction_id,
        region_id: response
            .ext_fields
            .get(MSG_REGION)
            .unwrap_or(DEFAULT_REGION)
            .to_owned(),
    })
}

/// Sends `out` to queue `mq` of the broker at `addr` without waiting for an answer.
///
/// # Errors
/// [`ClientError::Remoting`] when it cannot be written.
pub(crate) async fn send_oneway_once(
    instance: &ClientInstance,
    config: &ProducerConfig,
    out: &Outgoing,
    mq: &MessageQueue,
    addr: &str,
) -> Result<(), ClientError> {
    let request = request_for(config, out, mq);
    instance.invoke_oneway(addr, request).await
}
