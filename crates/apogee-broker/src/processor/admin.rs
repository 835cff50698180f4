//! Topic administration: UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER (215) and
//! GET_ALL_TOPIC_CONFIG (21), as RocketMQ's `AdminBrokerProcessor` answers them.
//!
//! Deleting a topic removes its config and every consumer group's committed offsets on it.
//! Its messages stay in the commit log (and its consume queues and index entries on disk)
//! until retention deletes the segments that hold them: the store has no per-topic deletion,
//! because records of every topic share the commit-log segments. A topic re-created under the
//! same name therefore shows its old, not yet expired messages again.

use std::sync::Arc;

use apogee_protocol::body::{self, TopicConfig};
use apogee_protocol::header::{
    CommandHeader, CreateTopicRequestHeader, DeleteTopicRequestHeader, PermName,
};
use apogee_protocol::names::{self, validate_topic};
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;
use apogee_store::limits::QUEUES_PER_TOPIC_MAX;

use crate::context::BrokerContext;
use crate::response_code::{bad_header, error, success};

/// Most read or write queues a topic may be created with: the store's queue-id bound.
const QUEUE_NUMS_MAX: i32 = QUEUES_PER_TOPIC_MAX as i32;
const _: () = assert!(QUEUES_PER_TOPIC_MAX <= i32::MAX as usize);

/// Prefixes of system topics: RocketMQ's transactional and trace topics (`RMQ_SYS_…`) and the
/// 5.x system prefix (`TopicValidator.SYSTEM_TOPIC_PREFIX`).
const SYSTEM_TOPIC_PREFIXES: [&str; 2] = ["RMQ_SYS_", "rmq_sys_"];

/// Whether users may neither create nor delete `topic` (RocketMQ `TopicValidator.isSystemTopic`,
/// limited to the system topics this broker itself relies on).
fn is_system_topic(topic: &str) -> bool {
    topic == names::AUTO_CREATE_TOPIC_TEMPLATE
        || topic == names::SCHEDULE_TOPIC
        || topic == names::TRANS_CHECK_MAX_TIME_TOPIC
        || SYSTEM_TOPIC_PREFIXES.iter().any(|p| topic.starts_with(p))
}

/// Checks the name against RocketMQ's rules and the system topics; the remark on failure.
fn check_user_topic(topic: &str) -> Result<(), String> {
    validate_topic(topic).map_err(|e| e.to_string())?;
    if is_system_topic(topic) {
        // RocketMQ's remark for the same refusal.
        return Err(format!("The topic[{topic}] is conflict with system topic."));
    }
    Ok(())
}

/// Checks what UPDATE_AND_CREATE_TOPIC asks for; the remark on failure.
fn check_create(header: &CreateTopicRequestHeader) -> Result<(), String> {
    check_user_topic(&header.topic)?;
    let counts = [
        ("readQueueNums", header.read_queue_nums),
        ("writeQueueNums", header.write_queue_nums),
    ];
    for (key, value) in counts {
        if !(1..=QUEUE_NUMS_MAX).contains(&value) {
            return Err(format!(
                "{key} {value} is out of range 1..={QUEUE_NUMS_MAX}"
            ));
        }
    }
    if !PermName(header.perm).is_valid() {
        return Err(format!(
            "perm {} is not a valid topic permission (0..{})",
            header.perm,
            PermName::PRIORITY
        ));
    }
    Ok(())
}

/// UPDATE_AND_CREATE_TOPIC: creates the topic or replaces its config.
pub(super) fn create_topic(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    let header = match CreateTopicRequestHeader::from_ext(&req.ext_fields) {
        Ok(header) => header,
        Err(e) => return bad_header(req, &e),
    };
    if let Err(remark) = check_create(&header) {
        return error(req, response::INVALID_PARAMETER, remark);
    }
    let existing = ctx.topics.get(&header.topic);
    let config = TopicConfig {
        topic_name: header.topic.clone(),
        read_queue_nums: header.read_queue_nums,
        write_queue_nums: header.write_queue_nums,
        perm: header.perm,
        topic_filter_type: header.topic_filter_type,
        topic_sys_flag: header.topic_sys_flag.unwrap_or(0),
        order: header.order,
        // The 5.x `attributes` modification text is not applied; attributes a topic already
        // has (from a 5.x topics file) are kept rather than silently dropped.
        attributes: existing
            .as_ref()
            .map(|c| c.attributes.clone())
            .unwrap_or_default(),
    };
    if existing.as_ref() == Some(&config) {
        // Unchanged: no data-version bump, so no needless re-registration (as RocketMQ 5.x).
        return success(req);
    }
    if let Err(e) = ctx.topics.put(config) {
        return error(req, response::SYSTEM_ERROR, e.to_string());
    }
    tracing::info!(
        topic = %header.topic,
        read = header.read_queue_nums,
        write = header.write_queue_nums,
        perm = %PermName(header.perm),
        "topic created or updated"
    );
    // The broker re-registers on its next period.
    success(req)
}

/// DELETE_TOPIC_IN_BROKER: forgets the topic and its consumer offsets. SUCCESS also when the
/// topic did not exist, as RocketMQ answers.
pub(super) fn delete_topic(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    let header = match DeleteTopicRequestHeader::from_ext(&req.ext_fields) {
        Ok(header) => header,
        Err(e) => return bad_header(req, &e),
    };
    let topic = header.topic;
    if let Err(remark) = check_user_topic(&topic) {
        return error(req, response::INVALID_PARAMETER, remark);
    }
    let existed = match ctx.topics.remove(&topic) {
        Ok(existed) => existed,
        Err(e) => return error(req, response::SYSTEM_ERROR, e.to_string()),
    };
    // Offsets go even if the config was already gone (as in RocketMQ): offsets are persisted
    // on a period, so after a crash they can outlive a config deleted earlier.
    ctx.offsets.remove_topic(&topic);
    tracing::info!(%topic, existed, "topic deleted; its messages stay until retention");
    // The broker re-registers on its next period.
    success(req)
}

/// GET_ALL_TOPIC_CONFIG: the whole topic table with its data version, as JSON
/// (`TopicConfigSerializeWrapper`); slaves sync from it and admin tools list topics with it.
pub(super) fn all_topics(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    success(req).with_body(body::encode(&ctx.topics.snapshot()))
}
