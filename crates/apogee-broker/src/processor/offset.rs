//! Offsets (being written).

use std::sync::Arc;

use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;

use crate::context::BrokerContext;
use crate::response_code::error;

pub(super) fn query_consumer_offset(
    _ctx: &Arc<BrokerContext>,
    req: &RemotingCommand,
) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
pub(super) fn update_consumer_offset(
    _ctx: &Arc<BrokerContext>,
    req: &RemotingCommand,
) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
pub(super) fn max_offset(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
pub(super) fn min_offset(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
pub(super) fn search_offset(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
