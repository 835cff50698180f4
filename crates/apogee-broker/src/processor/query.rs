//! QUERY_MESSAGE and VIEW_MESSAGE_BY_ID (being written): stubs.

use std::sync::Arc;

use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;

use crate::context::BrokerContext;
use crate::response_code::error;

pub(super) fn query_message(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}

pub(super) fn view_message(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
