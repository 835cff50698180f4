//! The HEART_BEAT (34) body: a client's producer and consumer groups with their subscriptions.
//!
//! Enums are written by name and read by name or ordinal. The ordinals follow Java's
//! declaration order (`ConsumeType.java`, `MessageModel.java`, `ConsumeFromWhere.java`), which
//! is the same in 4.9.8 and 5.x except that 5.x appends `CONSUME_POP`.

use serde::{Deserialize, Serialize};

use super::java_enum::java_enum;
use super::lenient;

/// A client's heartbeat (`HeartbeatData`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HeartbeatData {
    /// The client id, `ip@instance[@unit]`; the JSON key is `clientID`.
    #[serde(rename = "clientID")]
    pub client_id: String,
    /// The client's producer groups (a Java `Set`, kept in wire order).
    pub producer_data_set: Vec<ProducerData>,
    /// The client's consumer groups (a Java `Set`, kept in wire order).
    pub consumer_data_set: Vec<ConsumerData>,
    /// 5.x heartbeat v2: a hash of the subscriptions; 0 (not written) otherwise.
    #[serde(deserialize_with = "lenient::i32", skip_serializing_if = "is_zero")]
    pub heartbeat_fingerprint: i32,
    /// 5.x heartbeat v2: subscriptions left out because the fingerprint is unchanged; false
    /// (not written) otherwise.
    #[serde(deserialize_with = "lenient::bool", skip_serializing_if = "is_false")]
    pub without_sub: bool,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// A producer group a client belongs to (`ProducerData`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerData {
    /// The producer group.
    pub group_name: String,
}

/// A consumer group a client belongs to (`ConsumerData`). Missing enums read as the push
/// consumer's defaults: `CONSUME_PASSIVELY`, `CLUSTERING`, `CONSUME_FROM_LAST_OFFSET`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerData {
    /// The consumer group.
    pub group_name: String,
    /// Pull or push.
    pub consume_type: ConsumeType,
    /// Clustering or broadcasting.
    pub message_model: MessageModel,
    /// Where a queue without a stored offset starts.
    pub consume_from_where: ConsumeFromWhere,
    /// The group's subscriptions (a Java `Set`, kept in wire order).
    pub subscription_data_set: Vec<SubscriptionData>,
    /// Unit mode.
    #[serde(deserialize_with = "lenient::bool")]
    pub unit_mode: bool,
}

/// The `expressionType` of a tag subscription (`ExpressionType.TAG`).
pub const EXPRESSION_TYPE_TAG: &str = "TAG";
/// The `expressionType` of an SQL92 subscription (`ExpressionType.SQL92`).
pub const EXPRESSION_TYPE_SQL92: &str = "SQL92";
/// The `subString` that subscribes to every tag.
pub const SUB_ALL: &str = "*";

/// One topic subscription (`SubscriptionData`). Missing fields read as Java's defaults,
/// except `subVersion`, whose Java default is "now" and which reads as 0 here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionData {
    /// Class filter mode (deprecated upstream).
    #[serde(deserialize_with = "lenient::bool")]
    pub class_filter_mode: bool,
    /// The topic.
    pub topic: String,
    /// The expression: `*`, `TagA || TagB`, or SQL92.
    pub sub_string: String,
    /// The tags of a tag expression (a Java `Set`, kept in wire order).
    pub tags_set: Vec<String>,
    /// Java `String.hashCode` of each tag (a Java `Set`, kept in wire order).
    #[serde(deserialize_with = "lenient::vec_i32")]
    pub code_set: Vec<i32>,
    /// The subscription version, a timestamp in ms.
    #[serde(deserialize_with = "lenient::i64")]
    pub sub_version: i64,
    /// [`EXPRESSION_TYPE_TAG`] (the default) or [`EXPRESSION_TYPE_SQL92`].
    pub expression_type: String,
}

impl Default for SubscriptionData {
    fn default() -> Self {
        Self {
            class_filter_mode: false,
            topic: String::new(),
            sub_string: String::new(),
            tags_set: Vec::new(),
            code_set: Vec::new(),
            sub_version: 0,
            expression_type: EXPRESSION_TYPE_TAG.to_owned(),
        }
    }
}

java_enum! {
    /// How a consumer gets messages (`ConsumeType`).
    pub enum ConsumeType {
        /// Pull consumer (ordinal 0).
        ConsumeActively = "CONSUME_ACTIVELY",
        /// Push consumer (ordinal 1); the default.
        #[default]
        ConsumePassively = "CONSUME_PASSIVELY",
        /// 5.x POP consumer (ordinal 2).
        ConsumePop = "CONSUME_POP",
    }
}

java_enum! {
    /// How a group shares messages (`MessageModel`).
    pub enum MessageModel {
        /// Every member gets every message (ordinal 0).
        Broadcasting = "BROADCASTING",
        /// Members split the queues (ordinal 1); the default.
        #[default]
        Clustering = "CLUSTERING",
    }
}

java_enum! {
    /// Where a queue without a stored offset starts (`ConsumeFromWhere`).
    pub enum ConsumeFromWhere {
        /// From the end (ordinal 0); the default.
        #[default]
        ConsumeFromLastOffset = "CONSUME_FROM_LAST_OFFSET",
        /// Deprecated; behaves like last offset (ordinal 1).
        ConsumeFromLastOffsetAndFromMinWhenBootFirst =
            "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
        /// Deprecated; behaves like last offset (ordinal 2).
        ConsumeFromMinOffset = "CONSUME_FROM_MIN_OFFSET",
        /// Deprecated; behaves like last offset (ordinal 3).
        ConsumeFromMaxOffset = "CONSUME_FROM_MAX_OFFSET",
        /// From the beginning (ordinal 4).
        ConsumeFromFirstOffset = "CONSUME_FROM_FIRST_OFFSET",
        /// From a timestamp (ordinal 5).
        ConsumeFromTimestamp = "CONSUME_FROM_TIMESTAMP",
    }
}

#[cfg(test)]
#[path = "heartbeat_test.rs"]
mod tests;
