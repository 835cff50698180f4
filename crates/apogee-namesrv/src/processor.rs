//! Name-server request handling: one function per request code, each answering with the
//! response code RocketMQ uses.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_protocol::body::{self, RegisterBrokerBody, TopicConfigSerializeWrapper, TopicList};
use apogee_protocol::header::{
    CommandHeader, DeleteTopicFromNamesrvRequestHeader, GetRouteInfoRequestHeader,
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader, UnregisterBrokerRequestHeader,
};
use apogee_protocol::remoting::codes::{request, response};
use apogee_protocol::remoting::{ExtFieldError, RemotingCommand};
use apogee_remoting::{Connection, HandlerFuture, RequestHandler};

use crate::route_table::{BROKER_EXPIRED_TIMEOUT_DEFAULT, Registration, RouteTable};

/// Answers name-server requests from a [`RouteTable`].
#[derive(Debug, Clone)]
pub struct NamesrvProcessor {
    table: Arc<RouteTable>,
}

/// A connection's identity for the route table: unique among live connections.
#[must_use]
pub fn connection_id(connection: &Arc<Connection>) -> u64 {
    Arc::as_ptr(connection) as usize as u64
}

fn error(req: &RemotingCommand, code: i32, remark: impl Into<String>) -> RemotingCommand {
    RemotingCommand::response_to(req, code, Some(remark.into()))
}

fn bad_header(req: &RemotingCommand, e: &ExtFieldError) -> RemotingCommand {
    error(req, response::SYSTEM_ERROR, e.to_string())
}

fn success(req: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(req, response::SUCCESS, None)
}

impl NamesrvProcessor {
    /// A processor over `table`.
    #[must_use]
    pub fn new(table: Arc<RouteTable>) -> Self {
        Self { table }
    }

    /// Handles one request (synchronously: every name-server request is a table update or
    /// lookup).
    #[must_use]
    pub fn process(&self, connection_id: Option<u64>, req: &RemotingCommand) -> RemotingCommand {
        match req.code {
            request::REGISTER_BROKER => self.register_broker(connection_id, req),
            request::UNREGISTER_BROKER => self.unregister_broker(req),
            request::GET_ROUTEINFO_BY_TOPIC => self.route(req),
            request::GET_BROKER_CLUSTER_INFO => {
                success(req).with_body(body::encode(&self.table.cluster_info()))
            }
            request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => {
                let list = TopicList {
                    topic_list: self.table.topics(),
                    broker_addr: None,
                };
                success(req).with_body(body::encode(&list))
            }
            request::DELETE_TOPIC_IN_NAMESRV => self.delete_topic(req),
            code => error(
                req,
                response::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {code} not supported"),
            ),
        }
    }

    fn register_broker(
        &self,
        connection_id: Option<u64>,
        req: &RemotingCommand,
    ) -> RemotingCommand {
        let header = match RegisterBrokerRequestHeader::from_ext(&req.ext_fields) {
            Ok(h) => h,
            Err(e) => return bad_header(req, &e),
        };
        if header.compressed == Some(true) {
            return error(
                req,
                response::SYSTEM_ERROR,
                "compressed broker registration is not supported; set compressedRegister=false",
            );
        }
        let expected = header.body_crc32.unwrap_or(0);
        let actual = (crc32fast::hash(&req.body) & 0x7FFF_FFFF) as i32;
        if expected != 0 && expected != actual {
            return error(
                req,
                response::SYSTEM_ERROR,
                format!("registration body CRC mismatch: header {expected}, body {actual}"),
            );
        }
        let topics = if req.body.is_empty() {
            TopicConfigSerializeWrapper::default()
        } else {
            match body::decode::<RegisterBrokerBody>(&req.body) {
                Ok(b) => b.topic_config_serialize_wrapper,
                Err(e) => return error(req, response::SYSTEM_ERROR, e.to_string()),
            }
        };
        let timeout = header
            .heartbeat_timeout_millis
            .filter(|ms| *ms > 0)
            .map_or(BROKER_EXPIRED_TIMEOUT_DEFAULT, |ms| {
                Duration::from_millis(ms as u64)
            });
        let result = self.table.register(
            Registration {
                cluster: header.cluster_name,
                addr: header.broker_addr,
                name: header.broker_name,
                id: header.broker_id,
                ha_addr: header.ha_server_addr,
                topics,
                timeout,
                connection_id,
            },
            Instant::now(),
        );
        let mut response = success(req);
        response.ext_fields = RegisterBrokerResponseHeader {
            ha_server_addr: result.ha_server_addr,
            master_addr: result.master_addr,
        }
        .to_ext();
        response.with_body(body::encode(&body::KvTable::default()))
    }

    fn unregister_broker(&self, req: &RemotingCommand) -> RemotingCommand {
        match UnregisterBrokerRequestHeader::from_ext(&req.ext_fields) {
            Ok(header) => {
                self.table.unregister(&header.broker_addr);
                success(req)
            }
            Err(e) => bad_header(req, &e),
        }
    }

    fn route(&self, req: &RemotingCommand) -> RemotingCommand {
        let header = match GetRouteInfoRequestHeader::from_ext(&req.ext_fields) {
            Ok(h) => h,
            Err(e) => return bad_header(req, &e),
        };
        match self.table.route(&header.topic) {
            // Standard JSON (quoted map keys) for every client: Java clients parse it with
            // fastjson either way, and strict parsers need it.
            Some(route) => success(req).with_body(body::encode(&route)),
            None => error(
                req,
                response::TOPIC_NOT_EXIST,
                format!(
                    "No topic route info in name server for the topic: {}",
                    header.topic
                ),
            ),
        }
    }

    fn delete_topic(&self, req: &RemotingCommand) -> RemotingCommand {
        match DeleteTopicFromNamesrvRequestHeader::from_ext(&req.ext_fields) {
            Ok(header) => {
                self.table
                    .delete_topic(&header.topic, header.cluster_name.as_deref());
                success(req)
            }
            Err(e) => bad_header(req, &e),
        }
    }
}

impl RequestHandler for NamesrvProcessor {
    fn handle(&self, connection: Arc<Connection>, request: RemotingCommand) -> HandlerFuture {
        let response = self.process(Some(connection_id(&connection)), &request);
        Box::pin(async move { Some(response) })
    }

    fn connection_closed(&self, connection: &Arc<Connection>) {
        self.table.connection_closed(connection_id(connection));
    }
}
