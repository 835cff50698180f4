//! Sends: SEND_MESSAGE (10, long header), SEND_MESSAGE_V2 (310, letter header) and
//! SEND_BATCH_MESSAGE (320).
//!
//! Order of checks, as RocketMQ's: header, broker role, topic (auto-created when allowed),
//! queue id, then the store's own limits; every refusal has a response code and a remark
//! that says what to change.

use std::net::SocketAddr;
use std::sync::Arc;

use apogee_protocol::header::{
    CommandHeader, PermName, SendMessageRequestHeader, SendMessageResponseHeader,
};
use apogee_protocol::message::message_id::{encode_offset_msg_id, hex_upper};
use apogee_protocol::message::properties::{self, CLUSTER, TRAN_MSG, UNIQ_KEY};
use apogee_protocol::names;
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::Connection;
use apogee_store::{PutMessage, PutResult, PutStatus};
use bytes::Bytes;
use rand::Rng;

use crate::config::BrokerRole;
use crate::context::BrokerContext;
use crate::response_code::{bad_header, error, store_error};
use crate::topic_config::RETRY_QUEUE_NUMS;

/// Region reported in every send response (RocketMQ `regionId` default).
const MSG_REGION: &str = "DefaultRegion";

pub(super) async fn send(
    ctx: &Arc<BrokerContext>,
    connection: &Arc<Connection>,
    req: &RemotingCommand,
) -> RemotingCommand {
    let header = match SendMessageRequestHeader::decode_for_code(req.code, &req.ext_fields) {
        Ok(h) => h,
        Err(e) => return bad_header(req, &e),
    };
    if ctx.config.broker_role == BrokerRole::Slave {
        return error(
            req,
            response::SERVICE_NOT_AVAILABLE,
            "this broker is a SLAVE and does not accept writes; send to its master",
        );
    }
    let queue_id = match resolve_queue(ctx, &header) {
        Ok(q) => q,
        Err(refusal) => return refusal.into_response(req),
    };
    let props = header.properties.as_deref().unwrap_or("");
    if properties::get(props, TRAN_MSG) == Some("true") {
        return error(
            req,
            response::NO_PERMISSION,
            "transactional messages are not supported by this broker yet",
        );
    }
    let template = Template {
        header: &header,
        queue_id,
        born_host: connection.peer(),
        store_host: ctx.store_host,
        cluster: &ctx.config.broker_cluster_name,
    };
    let messages = if req.code == request::SEND_BATCH_MESSAGE || header.is_batch() {
        // As RocketMQ's batch encoder: the batch as a whole must fit maxMessageSize too.
        let max = ctx.store.config().max_message_size;
        if req.body.len() > max {
            return error(
                req,
                response::MESSAGE_ILLEGAL,
                format!(
                    "the batch body is {} bytes, more than maxMessageSize {max}",
                    req.body.len()
                ),
            );
        }
        match batch_messages(&template, &req.body) {
            Ok(m) => m,
            Err(remark) => return error(req, response::MESSAGE_ILLEGAL, remark),
        }
    } else {
        vec![template.message(req.body.clone(), props, header.flag)]
    };
    let put = ctx.store.put_messages(&messages).await;
    match put {
        Ok(result) => respond(req, ctx.store_host, queue_id, &messages, &result),
        Err(e) => store_error(req, &e),
    }
}

/// Why a send was refused before reaching the store.
struct Refusal {
    code: i32,
    remark: String,
}

impl Refusal {
    fn new(code: i32, remark: impl Into<String>) -> Self {
        Self {
            code,
            remark: remark.into(),
        }
    }

    fn into_response(self, req: &RemotingCommand) -> RemotingCommand {
        error(req, self.code, self.remark)
    }
}

/// Finds (or auto-creates) the topic and picks the queue.
fn resolve_queue(ctx: &BrokerContext, h: &SendMessageRequestHeader) -> Result<i32, Refusal> {
    names::validate_topic(&h.topic)
        .map_err(|e| Refusal::new(response::INVALID_PARAMETER, e.to_string()))?;
    if h.topic == names::AUTO_CREATE_TOPIC_TEMPLATE {
        return Err(Refusal::new(
            response::NO_PERMISSION,
            format!(
                "{} is the auto-create template and cannot be sent to",
                h.topic
            ),
        ));
    }
    if names::is_not_allowed_send_topic(&h.topic) {
        return Err(Refusal::new(
            response::NO_PERMISSION,
            format!(
                "Sending message to topic[{}] is forbidden: it is a system topic",
                h.topic
            ),
        ));
    }
    let config = match ctx.topics.get(&h.topic) {
        Some(config) => config,
        None => create_topic(ctx, h)?,
    };
    if !PermName(config.perm).is_writeable() {
        return Err(Refusal::new(
            response::NO_PERMISSION,
            format!("the topic[{}] sending message is forbidden", h.topic),
        ));
    }
    let queues = config.write_queue_nums.max(config.read_queue_nums);
    match h.queue_id {
        q if q < 0 => Ok(rand::rng().random_range(0..config.write_queue_nums.max(1))),
        q if q >= queues => Err(Refusal::new(
            response::INVALID_PARAMETER,
            format!(
                "queueId {q} is illegal: topic {} has {queues} queues",
                h.topic
            ),
        )),
        q => Ok(q),
    }
}

fn create_topic(
    ctx: &BrokerContext,
    h: &SendMessageRequestHeader,
) -> Result<apogee_protocol::body::TopicConfig, Refusal> {
    let queues = if h.topic.starts_with(names::RETRY_GROUP_TOPIC_PREFIX) {
        RETRY_QUEUE_NUMS
    } else if ctx.config.auto_create_topic_enable {
        let asked = if h.default_topic_queue_nums > 0 {
            h.default_topic_queue_nums
        } else {
            i32::MAX
        };
        asked.min(ctx.config.default_topic_queue_nums as i32)
    } else {
        return Err(Refusal::new(
            response::TOPIC_NOT_EXIST,
            format!(
                "topic[{}] not exist, apply first please (or set autoCreateTopicEnable=true)",
                h.topic
            ),
        ));
    };
    ctx.topics
        .get_or_create(&h.topic, queues, PermName::READ | PermName::WRITE)
        .map_err(|e| Refusal::new(response::SYSTEM_ERROR, e.to_string()))
}

/// What every message of one send shares.
struct Template<'a> {
    header: &'a SendMessageRequestHeader,
    queue_id: i32,
    born_host: SocketAddr,
    store_host: SocketAddr,
    cluster: &'a str,
}

impl Template<'_> {
    fn message(&self, body: Bytes, props: &str, flag: i32) -> PutMessage {
        // One pass over the client's properties for the two the broker adds when missing.
        let (mut has_uniq, mut has_cluster) = (false, false);
        for (name, _) in properties::iter(props) {
            has_uniq |= name == UNIQ_KEY;
            has_cluster |= name == CLUSTER;
        }
        let mut properties = String::with_capacity(props.len() + 64);
        properties.push_str(props);
        if !has_uniq {
            push_property(&mut properties, UNIQ_KEY, &unique_id(self.store_host));
        }
        if !has_cluster {
            push_property(&mut properties, CLUSTER, self.cluster);
        }
        PutMessage {
            topic: self.header.topic.clone(),
            queue_id: self.queue_id,
            flag,
            sys_flag: self.header.sys_flag,
            born_timestamp: self.header.born_timestamp,
            born_host: self.born_host,
            store_host: self.store_host,
            reconsume_times: self.header.reconsume_times.unwrap_or(0),
            prepared_transaction_offset: 0,
            body,
            properties,
        }
    }
}

/// Appends one `name\x01value\x02` pair (the value must be non-empty, as Java skips empty
/// ones; both callers pass non-empty values).
fn push_property(out: &mut String, name: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    out.push_str(name);
    out.push(properties::NAME_VALUE_SEPARATOR);
    out.push_str(value);
    out.push(properties::PROPERTY_SEPARATOR);
}

/// The messages of a SEND_BATCH_MESSAGE body. Batch-level properties are not appended to
/// each message (RocketMQ's fix after 5.3.3): each message keeps its own UNIQ_KEY.
fn batch_messages(template: &Template<'_>, body: &Bytes) -> Result<Vec<PutMessage>, String> {
    if template
        .header
        .topic
        .starts_with(names::RETRY_GROUP_TOPIC_PREFIX)
    {
        return Err("a batch may not be sent to a retry topic".to_owned());
    }
    let entries = apogee_protocol::message::batch::decode_batch(body)
        .map_err(|e| format!("malformed batch body: {e}"))?;
    if entries.is_empty() {
        return Err("empty batch".to_owned());
    }
    Ok(entries
        .into_iter()
        .map(|e| template.message(e.body, &e.properties, e.flag))
        .collect())
}

/// A 32-hex-digit unique id in UNIQ_KEY's shape: the broker's IPv4 address, then random
/// bytes (only uniqueness matters to anyone reading it).
fn unique_id(store_host: SocketAddr) -> String {
    let mut raw = [0u8; 16];
    if let std::net::IpAddr::V4(ip) = store_host.ip() {
        raw[..4].copy_from_slice(&ip.octets());
    }
    rand::rng().fill(&mut raw[4..]);
    hex_upper(&raw)
}

fn respond(
    req: &RemotingCommand,
    store_host: SocketAddr,
    queue_id: i32,
    messages: &[PutMessage],
    result: &PutResult,
) -> RemotingCommand {
    let code = match result.status {
        PutStatus::PutOk => response::SUCCESS,
        PutStatus::FlushDiskTimeout => response::FLUSH_DISK_TIMEOUT,
    };
    let msg_ids: Vec<String> = result
        .append
        .physical_offsets
        .iter()
        .map(|&offset| encode_offset_msg_id(store_host, offset as i64))
        .collect();
    let header = SendMessageResponseHeader {
        msg_id: msg_ids.join(","),
        queue_id,
        queue_offset: result.append.queue_offset as i64,
        transaction_id: messages
            .first()
            .and_then(|m| properties::get(&m.properties, UNIQ_KEY))
            .map(str::to_owned),
        ..SendMessageResponseHeader::default()
    };
    let mut response = RemotingCommand::response_to(req, code, None);
    response.ext_fields = header.to_ext();
    response.ext_fields.put("MSG_REGION", MSG_REGION);
    response.ext_fields.put("TRACE_ON", "true");
    response
}
