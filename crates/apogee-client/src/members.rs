//! The groups a [`crate::ClientInstance`] belongs to, and the handler for requests brokers
//! send to the client (NOTIFY_CONSUMER_IDS_CHANGED today).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use apogee_protocol::body::ConsumerData;
use apogee_protocol::header::{CommandHeader, NotifyConsumerIdsChangedRequestHeader};
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::{Connection, HandlerFuture, RemotingCommand, RequestHandler};
use parking_lot::RwLock;
use tracing::debug;

/// A consumer group's side of the shared instance.
pub trait ConsumerMember: Send + Sync + 'static {
    /// The group's entry in heartbeats: model, consume-from-where and subscriptions.
    fn consumer_data(&self) -> ConsumerData;

    /// The broker says the group's membership changed: rebalance soon.
    fn consumer_ids_changed(&self);
}

/// Producer and consumer groups registered with an instance.
#[derive(Default)]
pub(crate) struct Members {
    /// Producer group names.
    pub(crate) producers: RwLock<BTreeSet<String>>,
    /// Consumer group name → member.
    pub(crate) consumers: RwLock<BTreeMap<String, Arc<dyn ConsumerMember>>>,
}

impl Members {
    /// Every topic a consumer group subscribes to.
    pub(crate) fn subscribed_topics(&self) -> BTreeSet<String> {
        self.consumers
            .read()
            .values()
            .flat_map(|member| {
                member
                    .consumer_data()
                    .subscription_data_set
                    .into_iter()
                    .map(|s| s.topic)
            })
            .collect()
    }
}

/// Answers broker-initiated requests.
pub(crate) struct ServerRequests {
    members: Arc<Members>,
}

impl ServerRequests {
    /// A handler over the instance's members.
    pub(crate) fn new(members: Arc<Members>) -> Self {
        Self { members }
    }
}

impl RequestHandler for ServerRequests {
    fn handle(&self, _connection: Arc<Connection>, request: RemotingCommand) -> HandlerFuture {
        let answer = match request.code {
            request::NOTIFY_CONSUMER_IDS_CHANGED => {
                match NotifyConsumerIdsChangedRequestHeader::from_ext(&request.ext_fields) {
                    Ok(header) => {
                        let member = self
                            .members
                            .consumers
                            .read()
                            .get(&header.consumer_group)
                            .cloned();
                        if let Some(member) = member {
                            member.consumer_ids_changed();
                        }
                        None
                    }
                    Err(error) => {
                        debug!(%error, "malformed NOTIFY_CONSUMER_IDS_CHANGED");
                        None
                    }
                }
            }
            code => Some(RemotingCommand::response_to(
                &request,
                response::REQUEST_CODE_NOT_SUPPORTED,
                Some(format!(" request type {code} not supported")),
            )),
        };
        let answer = if request.is_oneway() { None } else { answer };
        Box::pin(async move { answer })
    }
}
