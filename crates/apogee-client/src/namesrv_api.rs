//! Typed requests to the name servers: the cluster map, the topic list, topic deletion.

use apogee_protocol::body::{self, ClusterInfo, TopicList};
use apogee_protocol::header::{CommandHeader, DeleteTopicFromNamesrvRequestHeader};
use apogee_protocol::remoting::ExtFields;
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::RemotingCommand;

use crate::error::ClientError;
use crate::instance::{ClientInstance, expect_code};

impl ClientInstance {
    /// The cluster map: every broker name with its addresses, and each cluster's brokers.
    ///
    /// # Errors
    /// Name-server errors, [`ClientError::BadResponse`].
    pub async fn cluster_info(&self) -> Result<ClusterInfo, ClientError> {
        let request = RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO, ExtFields::new());
        let (addr, response) = self.invoke_namesrv(request).await?;
        let response = expect_code(&addr, response, &[response::SUCCESS])?;
        body::decode(&response.body).map_err(|e| ClientError::bad_body(&addr, &e))
    }

    /// Every topic some broker has registered.
    ///
    /// # Errors
    /// Name-server errors, [`ClientError::BadResponse`].
    pub async fn all_topics(&self) -> Result<Vec<String>, ClientError> {
        let request = RemotingCommand::request(
            request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
            ExtFields::new(),
        );
        let (addr, response) = self.invoke_namesrv(request).await?;
        let response = expect_code(&addr, response, &[response::SUCCESS])?;
        let list: TopicList =
            body::decode(&response.body).map_err(|e| ClientError::bad_body(&addr, &e))?;
        Ok(list.topic_list)
    }

    /// Removes a topic's route from every name server (DELETE_TOPIC_IN_NAMESRV), as
    /// RocketMQ's admin does after deleting it from the brokers.
    ///
    /// # Errors
    /// The first name server that cannot be reached or refuses.
    pub async fn delete_topic_in_namesrv(&self, topic: &str) -> Result<(), ClientError> {
        let header = DeleteTopicFromNamesrvRequestHeader {
            topic: topic.to_owned(),
            cluster_name: None,
        };
        for addr in &self.config().namesrv_addr {
            let request =
                RemotingCommand::request(request::DELETE_TOPIC_IN_NAMESRV, header.to_ext());
            self.invoke_ok(addr, request).await?;
        }
        Ok(())
    }
}
