//! LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42): queue locks for orderly consumers.

use std::sync::Arc;
use std::time::Instant;

use apogee_protocol::body::{self, LockBatchRequestBody, LockBatchResponseBody, MessageQueue};
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;

use crate::context::BrokerContext;
use crate::response_code::{error, success};

fn decode(
    req: &RemotingCommand,
) -> Result<(LockBatchRequestBody, Vec<(String, i32)>), RemotingCommand> {
    let body: LockBatchRequestBody = body::decode(&req.body).map_err(|e| {
        error(
            req,
            response::SYSTEM_ERROR,
            format!("bad lock request body: {e}"),
        )
    })?;
    let queues = body
        .mq_set
        .iter()
        .map(|mq| (mq.topic.clone(), mq.queue_id))
        .collect();
    Ok((body, queues))
}

pub(super) fn lock_batch(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    let (request, queues) = match decode(req) {
        Ok(d) => d,
        Err(response) => return response,
    };
    let granted = ctx.clients.locks().lock(
        &request.consumer_group,
        &request.client_id,
        &queues,
        Instant::now(),
    );
    let broker_name = ctx.config.broker_name.clone();
    let locked = LockBatchResponseBody {
        lock_ok_mq_set: granted
            .into_iter()
            .map(|(topic, queue_id)| MessageQueue {
                topic,
                broker_name: broker_name.clone(),
                queue_id,
            })
            .collect(),
    };
    success(req).with_body(body::encode(&locked))
}

pub(super) fn unlock_batch(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    match decode(req) {
        Ok((request, queues)) => {
            ctx.clients
                .locks()
                .unlock(&request.consumer_group, &request.client_id, &queues);
            success(req)
        }
        Err(response) => response,
    }
}
