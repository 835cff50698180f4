//! Broker registration with the name server (REGISTER_BROKER, 103): [`RegisterBrokerBody`],
//! the [`TopicConfig`]s it carries, [`DataVersion`], and the [`KvTable`] answer.
//!
//! Only the JSON form is modelled; the zlib form sent with `compressed=true` (broker config
//! `compressedRegister`, default false) is a different encoding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::lenient;
use crate::header::{PermName, TopicFilterType};

/// The body of REGISTER_BROKER (`RegisterBrokerBody`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterBrokerBody {
    /// The broker's topics and their version.
    pub topic_config_serialize_wrapper: TopicConfigSerializeWrapper,
    /// Filter server addresses (deprecated upstream; normally empty).
    pub filter_server_list: Vec<String>,
}

/// A broker's topic configs with their version (`TopicConfigSerializeWrapper`; 5.x adds
/// static-topic mapping fields, which are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfigSerializeWrapper {
    /// Topic name → config.
    pub topic_config_table: BTreeMap<String, TopicConfig>,
    /// Changes whenever a topic changes; lets the name server skip unchanged registrations.
    pub data_version: DataVersion,
}

/// One topic's config (`TopicConfig`). Missing fields take Java's defaults: 16 read and 16
/// write queues, perm `RW` (6), `SINGLE_TAG`, sysflag 0, not ordered, no attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfig {
    /// The topic.
    pub topic_name: String,
    /// Readable queue count.
    #[serde(deserialize_with = "lenient::i32")]
    pub read_queue_nums: i32,
    /// Writable queue count.
    #[serde(deserialize_with = "lenient::i32")]
    pub write_queue_nums: i32,
    /// [`PermName`] bits.
    #[serde(deserialize_with = "lenient::i32")]
    pub perm: i32,
    /// How tags are filtered.
    pub topic_filter_type: TopicFilterType,
    /// The topic sysflag.
    #[serde(deserialize_with = "lenient::i32")]
    pub topic_sys_flag: i32,
    /// Whether the topic is ordered.
    #[serde(deserialize_with = "lenient::bool")]
    pub order: bool,
    /// 5.x topic attributes (`+key` → value).
    pub attributes: BTreeMap<String, String>,
}

/// Java's `TopicConfig.defaultReadQueueNums` and `defaultWriteQueueNums`.
pub const TOPIC_QUEUE_NUMS_DEFAULT: i32 = 16;

impl Default for TopicConfig {
    fn default() -> Self {
        Self {
            topic_name: String::new(),
            read_queue_nums: TOPIC_QUEUE_NUMS_DEFAULT,
            write_queue_nums: TOPIC_QUEUE_NUMS_DEFAULT,
            perm: PermName::READ_WRITE.0,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_sys_flag: 0,
            order: false,
            attributes: BTreeMap::new(),
        }
    }
}

/// A version stamp of broker metadata (`DataVersion`). Java's default timestamp is "now"; this
/// pure crate has no clock, so a missing timestamp reads as 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DataVersion {
    /// When the version was last bumped, ms since the epoch.
    #[serde(deserialize_with = "lenient::i64")]
    pub timestamp: i64,
    /// Bumped on every change (a Java `AtomicLong`).
    #[serde(deserialize_with = "lenient::i64")]
    pub counter: i64,
    /// 5.x: the controller state version.
    #[serde(deserialize_with = "lenient::i64")]
    pub state_version: i64,
}

/// A string table (`KVTable`), e.g. the `ORDER_TOPIC_CONFIG` namespace returned on
/// registration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KvTable {
    /// Key → value.
    pub table: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{decode, encode};

    /// The body a 5.x broker registers with, as quoted in the reference, decodes field by field.
    #[test]
    fn decode_java_register_body() {
        let json = br#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":3,
            "stateVersion":0,"timestamp":1700000000000},"topicConfigTable":{"T1":{"attributes":{},
            "order":false,"perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"T1",
            "topicSysFlag":0,"writeQueueNums":8}},"topicQueueMappingInfoMap":{}}}"#;
        let body: RegisterBrokerBody = decode(json).expect("decodes");
        let wrapper = &body.topic_config_serialize_wrapper;
        assert_eq!(
            wrapper.data_version,
            DataVersion {
                timestamp: 1_700_000_000_000,
                counter: 3,
                state_version: 0
            }
        );
        let t1 = &wrapper.topic_config_table["T1"];
        assert_eq!(
            (t1.read_queue_nums, t1.write_queue_nums, t1.perm),
            (8, 8, 6)
        );
        assert_eq!(t1.topic_filter_type, TopicFilterType::SingleTag);
        let again: RegisterBrokerBody = decode(&encode(&body)).expect("round trip");
        assert_eq!(again, body);
    }

    /// A 4.x topic config without `attributes`, with string counters and an ordinal filter
    /// type, reads with Java's defaults.
    #[test]
    fn lenient_topic_config_and_version() {
        let config: TopicConfig =
            decode(br#"{"topicName":"T2","topicFilterType":1,"perm":"4"}"#).expect("decodes");
        assert_eq!(config.topic_filter_type, TopicFilterType::MultiTag);
        assert_eq!((config.read_queue_nums, config.perm), (16, 4));
        assert!(config.attributes.is_empty() && !config.order);
        let version: DataVersion =
            decode(br#"{"counter":"12","timestamp":"1700000000000"}"#).expect("decodes");
        assert_eq!((version.counter, version.state_version), (12, 0));
        let kv: KvTable = decode(br#"{"table":{"T1":"broker-a:4"}}"#).expect("decodes");
        assert_eq!(kv.table["T1"], "broker-a:4");
    }
}
