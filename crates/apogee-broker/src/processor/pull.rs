//! Pulls (being written).

use std::sync::Arc;

use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;

use crate::context::BrokerContext;
use crate::response_code::error;

pub(super) async fn pull(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
