//! Connected producers and consumers by group (being written): a stub with the final API.
#![allow(missing_docs, clippy::unused_self)]

use std::sync::Arc;

use apogee_protocol::body::SubscriptionData;
use apogee_remoting::Connection;

#[derive(Debug)]
pub struct ClientRegistry {
    _expire_after: std::time::Duration,
}

impl ClientRegistry {
    #[must_use]
    pub fn new(expire_after: std::time::Duration) -> Self {
        Self {
            _expire_after: expire_after,
        }
    }
    #[must_use]
    pub fn subscription(&self, _group: &str, _topic: &str) -> Option<SubscriptionData> {
        None
    }
    #[must_use]
    pub fn consumer_ids(&self, _group: &str) -> Vec<String> {
        Vec::new()
    }
    #[must_use]
    pub fn producer_connection(&self, _group: &str) -> Option<Arc<Connection>> {
        None
    }
    pub fn connection_closed(&self, _connection: &Arc<Connection>) {}
    pub fn expire(&self, _now: std::time::Instant) {}
}
