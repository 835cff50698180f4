//! HEART_BEAT, UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP (being written): stubs.

use std::sync::Arc;

use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;
use apogee_remoting::Connection;

use crate::context::BrokerContext;
use crate::response_code::error;

pub(super) async fn heartbeat(
    _ctx: &Arc<BrokerContext>,
    _connection: &Arc<Connection>,
    req: &RemotingCommand,
) -> RemotingCommand {
    error(
        req,
        response::REQUEST_CODE_NOT_SUPPORTED,
        "heartbeat not built yet",
    )
}

pub(super) fn unregister_client(
    _ctx: &Arc<BrokerContext>,
    _connection: &Arc<Connection>,
    req: &RemotingCommand,
) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}

pub(super) fn consumer_list(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
