//! Client membership (RocketMQ `ClientManageProcessor`, `ConsumerManageProcessor`):
//! HEART_BEAT (34), UNREGISTER_CLIENT (35) and GET_CONSUMER_LIST_BY_GROUP (38). A change in a
//! consumer group is announced to its members with NOTIFY_CONSUMER_IDS_CHANGED (40).

use std::sync::Arc;
use std::time::Instant;

use apogee_protocol::body::{
    ConsumerData, ConsumerListBody, HeartbeatData, MessageModel, ProducerData, decode, encode,
};
use apogee_protocol::header::{
    CommandHeader, GetConsumerListByGroupRequestHeader, PermName, UnregisterClientRequestHeader,
};
use apogee_protocol::names;
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::response;
use apogee_remoting::Connection;

use crate::client_registry::{
    ConsumerMember, ProducerMember, notify_consumer_ids_changed, spawn_notify_consumer_ids_changed,
};
use crate::context::BrokerContext;
use crate::response_code::{bad_header, error, success};
use crate::topic_config::RETRY_QUEUE_NUMS;

/// HEART_BEAT: registers the client in each of its consumer and producer groups, creating
/// each clustering group's retry topic, and notifies the other members of a consumer group
/// that changed.
pub(super) async fn heartbeat(
    ctx: &Arc<BrokerContext>,
    connection: &Arc<Connection>,
    req: &RemotingCommand,
) -> RemotingCommand {
    let data: HeartbeatData = match decode(&req.body) {
        Ok(data) => data,
        Err(e) => {
            return error(
                req,
                response::SYSTEM_ERROR,
                format!("bad HEART_BEAT body: {e}"),
            );
        }
    };
    if data.client_id.trim().is_empty() {
        return error(
            req,
            response::SYSTEM_ERROR,
            "HEART_BEAT body without a clientID",
        );
    }
    // Check every group first, so that a bad heartbeat registers nothing.
    for consumer in &data.consumer_data_set {
        if let Err(e) = names::validate_group(&consumer.group_name) {
            return error(req, response::SYSTEM_ERROR, format!("HEART_BEAT: {e}"));
        }
    }
    let now = Instant::now();
    for consumer in &data.consumer_data_set {
        register_consumer(ctx, connection, &data, consumer, now).await;
    }
    for producer in &data.producer_data_set {
        register_producer(ctx, connection, &data.client_id, producer, now);
    }
    success(req)
}

async fn register_consumer(
    ctx: &Arc<BrokerContext>,
    connection: &Arc<Connection>,
    data: &HeartbeatData,
    consumer: &ConsumerData,
    now: Instant,
) {
    let group = consumer.group_name.as_str();
    // Broadcasting consumers keep their offsets locally and never send messages back, so they
    // have no retry topic.
    if consumer.message_model == MessageModel::Clustering {
        ensure_retry_topic(ctx, group);
    }
    let member = ConsumerMember {
        client_id: data.client_id.clone(),
        connection: connection.clone(),
        last_heartbeat: now,
        consume_type: consumer.consume_type,
        message_model: consumer.message_model,
        consume_from_where: consumer.consume_from_where,
    };
    // A 5.x v2 heartbeat may leave the subscriptions out (`withoutSub`); keep the stored ones.
    let subscriptions = (!data.without_sub).then_some(consumer.subscription_data_set.as_slice());
    if !ctx.clients.register_consumer(group, member, subscriptions) {
        return;
    }
    // The sender knows what it just changed; everyone else must rebalance.
    let others: Vec<Arc<Connection>> = (ctx.clients.consumer_connections(group).into_iter())
        .filter(|c| !Arc::ptr_eq(c, connection))
        .collect();
    notify_consumer_ids_changed(group, &others).await;
}

/// Creates `%RETRY%<group>` (read and write, [`RETRY_QUEUE_NUMS`] queues) if it is missing.
fn ensure_retry_topic(ctx: &BrokerContext, group: &str) {
    let topic = names::retry_topic(group);
    // A group name near the 255-byte limit makes a retry topic longer than a topic may be;
    // the store would refuse its messages, so there is no point in creating it.
    if let Err(e) = names::validate_topic(&topic) {
        tracing::warn!(group, error = %e, "no retry topic for this group");
        return;
    }
    let perm = PermName::READ | PermName::WRITE;
    if let Err(e) = ctx.topics.get_or_create(&topic, RETRY_QUEUE_NUMS, perm) {
        // The topic is in the table; only persisting it failed, and the next change retries.
        tracing::error!(topic, error = %e, "retry topic created but not persisted");
    }
}

fn register_producer(
    ctx: &BrokerContext,
    connection: &Arc<Connection>,
    client_id: &str,
    producer: &ProducerData,
    now: Instant,
) {
    if producer.group_name.trim().is_empty() {
        return;
    }
    let member = ProducerMember {
        client_id: client_id.to_owned(),
        connection: connection.clone(),
        last_heartbeat: now,
    };
    ctx.clients.register_producer(&producer.group_name, member);
}

/// UNREGISTER_CLIENT: removes the client from the named producer and consumer groups, and
/// notifies the consumer group's remaining members.
pub(super) fn unregister_client(
    ctx: &Arc<BrokerContext>,
    _connection: &Arc<Connection>,
    req: &RemotingCommand,
) -> RemotingCommand {
    let header = match UnregisterClientRequestHeader::from_ext(&req.ext_fields) {
        Ok(header) => header,
        Err(e) => return bad_header(req, &e),
    };
    let client_id = header.client_id.as_str();
    if let Some(group) = header.producer_group.as_deref() {
        if ctx.clients.unregister_producer(group, client_id) {
            tracing::info!(group, client_id, "producer unregistered");
        }
    }
    if let Some(group) = header.consumer_group.as_deref() {
        if let Some(remaining) = ctx.clients.unregister_consumer(group, client_id) {
            // The dispatcher calls this without awaiting, so the notification is spawned; it
            // queues one frame per remaining member.
            spawn_notify_consumer_ids_changed(group.to_owned(), remaining);
        }
    }
    success(req)
}

/// GET_CONSUMER_LIST_BY_GROUP: the sorted client ids of the group's members.
pub(super) fn consumer_list(ctx: &Arc<BrokerContext>, req: &RemotingCommand) -> RemotingCommand {
    let header = match GetConsumerListByGroupRequestHeader::from_ext(&req.ext_fields) {
        Ok(header) => header,
        Err(e) => return bad_header(req, &e),
    };
    let ids = ctx.clients.consumer_ids(&header.consumer_group);
    if ids.is_empty() {
        // RocketMQ answers an unknown or empty group with this error, not an empty list.
        return error(
            req,
            response::SYSTEM_ERROR,
            format!("no consumer for this group, {}", header.consumer_group),
        );
    }
    let body = ConsumerListBody {
        consumer_id_list: ids,
    };
    success(req).with_body(encode(&body))
}
