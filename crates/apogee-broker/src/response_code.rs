//! The one place where broker-side failures become RocketMQ response codes.

use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;
use apogee_store::StoreError;

/// The response code for a store error.
#[must_use]
pub fn for_store_error(error: &StoreError) -> i32 {
    match error {
        StoreError::MessageTooLarge { .. } | StoreError::PropertiesTooLarge { .. } => {
            response::MESSAGE_ILLEGAL
        }
        StoreError::InvalidName(_)
        | StoreError::InvalidQueueId { .. }
        | StoreError::InvalidMessageId(_) => response::INVALID_PARAMETER,
        StoreError::InvalidBatch { .. } => response::MESSAGE_ILLEGAL,
        StoreError::DiskFull { .. } | StoreError::ShutDown | StoreError::Poisoned(_) => {
            response::SERVICE_NOT_AVAILABLE
        }
        _ => response::SYSTEM_ERROR,
    }
}

/// An error response to `request` with `code` and `remark`.
#[must_use]
pub fn error(request: &RemotingCommand, code: i32, remark: impl Into<String>) -> RemotingCommand {
    RemotingCommand::response_to(request, code, Some(remark.into()))
}

/// An error response to `request` for a store error.
#[must_use]
pub fn store_error(request: &RemotingCommand, error: &StoreError) -> RemotingCommand {
    RemotingCommand::response_to(request, for_store_error(error), Some(error.to_string()))
}

/// A SUCCESS response to `request`.
#[must_use]
pub fn success(request: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(request, response::SUCCESS, None)
}

/// The response for a request header that is missing a field or has a bad value.
#[must_use]
pub fn bad_header(
    request: &RemotingCommand,
    error: &apogee_protocol::remoting::ExtFieldError,
) -> RemotingCommand {
    RemotingCommand::response_to(request, response::SYSTEM_ERROR, Some(error.to_string()))
}
