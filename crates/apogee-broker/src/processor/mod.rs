//! Request processors, one file per request family, and the dispatch by request code.
//!
//! - `send.rs`: SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320).
//! - `pull.rs`: PULL_MESSAGE (11) with long polling.
//! - `offset.rs`: consumer offsets and queue offsets (14, 15, 29, 30, 31, 32).
//! - `client.rs`: HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38).
//! - `lock.rs`: LOCK_BATCH_MQ (41), UNLOCK_BATCH_MQ (42).
//! - `admin.rs`: topics (17, 21, 215).
//! - `query.rs`: QUERY_MESSAGE (12), VIEW_MESSAGE_BY_ID (33).

mod admin;
mod client;
mod lock;
mod offset;
mod pull;
mod query;
mod send;

use std::sync::Arc;

use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::{Connection, HandlerFuture, RequestHandler};

use crate::context::BrokerContext;
use crate::response_code::error;

/// The broker's request handler.
#[derive(Debug, Clone)]
pub struct BrokerProcessor {
    ctx: Arc<BrokerContext>,
}

impl BrokerProcessor {
    /// A handler serving requests from `ctx`.
    #[must_use]
    pub fn new(ctx: Arc<BrokerContext>) -> Self {
        Self { ctx }
    }
}

impl RequestHandler for BrokerProcessor {
    fn handle(&self, connection: Arc<Connection>, request: RemotingCommand) -> HandlerFuture {
        let ctx = self.ctx.clone();
        Box::pin(async move { Some(dispatch(&ctx, &connection, &request).await) })
    }

    /// A send received in full is stored even if its client disconnects before the answer
    /// (as Java's broker does); only the answer is lost.
    fn runs_to_completion(&self, request: &RemotingCommand) -> bool {
        matches!(
            request.code,
            request::SEND_MESSAGE | request::SEND_MESSAGE_V2 | request::SEND_BATCH_MESSAGE
        )
    }

    fn connection_closed(&self, connection: &Arc<Connection>) {
        self.ctx.clients.connection_closed(connection);
    }
}

async fn dispatch(
    ctx: &Arc<BrokerContext>,
    connection: &Arc<Connection>,
    req: &RemotingCommand,
) -> RemotingCommand {
    match req.code {
        request::SEND_MESSAGE | request::SEND_MESSAGE_V2 | request::SEND_BATCH_MESSAGE => {
            send::send(ctx, connection, req).await
        }
        request::PULL_MESSAGE => pull::pull(ctx, req).await,
        request::QUERY_CONSUMER_OFFSET => offset::query_consumer_offset(ctx, req),
        request::UPDATE_CONSUMER_OFFSET => offset::update_consumer_offset(ctx, req),
        request::GET_MAX_OFFSET => offset::max_offset(ctx, req),
        request::GET_MIN_OFFSET => offset::min_offset(ctx, req),
        request::GET_EARLIEST_MSG_STORETIME => offset::earliest_store_time(ctx, req),
        request::SEARCH_OFFSET_BY_TIMESTAMP => offset::search_offset(ctx, req),
        request::HEART_BEAT => client::heartbeat(ctx, connection, req).await,
        request::UNREGISTER_CLIENT => client::unregister_client(ctx, connection, req),
        request::GET_CONSUMER_LIST_BY_GROUP => client::consumer_list(ctx, req),
        request::LOCK_BATCH_MQ => lock::lock_batch(ctx, req),
        request::UNLOCK_BATCH_MQ => lock::unlock_batch(ctx, req),
        request::UPDATE_AND_CREATE_TOPIC => admin::create_topic(ctx, req),
        request::DELETE_TOPIC_IN_BROKER => admin::delete_topic(ctx, req),
        request::GET_ALL_TOPIC_CONFIG => admin::all_topics(ctx, req),
        request::QUERY_MESSAGE => query::query_message(ctx, req),
        request::VIEW_MESSAGE_BY_ID => query::view_message(ctx, req),
        code => error(
            req,
            response::REQUEST_CODE_NOT_SUPPORTED,
            format!(" request type {code} not supported"),
        ),
    }
}
