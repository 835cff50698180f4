//! Sends (being written).

use std::sync::Arc;

use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;
use apogee_remoting::Connection;

use crate::context::BrokerContext;
use crate::response_code::error;

pub(super) async fn send(
    _ctx: &Arc<BrokerContext>,
    _connection: &Arc<Connection>,
    req: &RemotingCommand,
) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
