//! Topic administration (being written): stubs.

use std::sync::Arc;

use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;

use crate::context::BrokerContext;
use crate::response_code::error;

pub(super) fn create_topic(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}

pub(super) fn delete_topic(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}

pub(super) fn all_topics(_ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    error(req, response::REQUEST_CODE_NOT_SUPPORTED, "not built yet")
}
