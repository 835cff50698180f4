//! Consumer-side bodies: group membership (GET_CONSUMER_LIST_BY_GROUP, 38), queue locks for
//! orderly consumption (LOCK_BATCH_MQ 41, UNLOCK_BATCH_MQ 42), and consumer-offset tables.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::lenient;
use super::register::DataVersion;

/// The answer to GET_CONSUMER_LIST_BY_GROUP (`GetConsumerListByGroupResponseBody`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerListBody {
    /// The client ids of the group's live members.
    pub consumer_id_list: Vec<String>,
}

/// One queue of a topic on one broker (`MessageQueue`). Ordered like Java's `compareTo`:
/// topic, then broker name, then queue id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageQueue {
    /// The topic.
    pub topic: String,
    /// The broker name.
    pub broker_name: String,
    /// The queue id.
    #[serde(deserialize_with = "lenient::i32")]
    pub queue_id: i32,
}

/// The request body of LOCK_BATCH_MQ and UNLOCK_BATCH_MQ (`LockBatchRequestBody`,
/// `UnlockBatchRequestBody`, which have the same fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LockBatchRequestBody {
    /// The consumer group.
    pub consumer_group: String,
    /// The client asking.
    pub client_id: String,
    /// Lock only on the receiving broker.
    #[serde(deserialize_with = "lenient::bool")]
    pub only_this_broker: bool,
    /// The queues (a Java `Set`, kept in wire order).
    pub mq_set: Vec<MessageQueue>,
}

/// The request body of UNLOCK_BATCH_MQ.
pub type UnlockBatchRequestBody = LockBatchRequestBody;

/// The answer to LOCK_BATCH_MQ (`LockBatchResponseBody`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockBatchResponseBody {
    /// The queues now locked by the client; the JSON key is `lockOKMQSet`.
    #[serde(rename = "lockOKMQSet")]
    pub lock_ok_mq_set: Vec<MessageQueue>,
}

/// Consumer offsets by `topic@group` and queue id (`ConsumerOffsetSerializeWrapper`, also the
/// layout of `config/consumerOffset.json`). Java writes the queue ids unquoted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerOffsetTable {
    /// `topic@group` → queue id → committed offset.
    pub offset_table: BTreeMap<String, BTreeMap<i32, i64>>,
    /// 5.x: the table's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_version: Option<DataVersion>,
}

impl ConsumerOffsetTable {
    /// The `topic@group` key Java uses.
    #[must_use]
    pub fn key(topic: &str, group: &str) -> String {
        format!("{topic}@{group}")
    }

    /// The committed offset of a group's queue, if any.
    #[must_use]
    pub fn offset(&self, topic: &str, group: &str, queue_id: i32) -> Option<i64> {
        self.offset_table
            .get(&Self::key(topic, group))
            .and_then(|queues| queues.get(&queue_id))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{decode, encode};

    /// The lock request and answer as a Java orderly consumer exchanges them.
    #[test]
    fn lock_bodies() {
        let json =
            br#"{"clientId":"10.0.0.5@1","consumerGroup":"g","mqSet":[{"brokerName":"broker-a",
            "queueId":0,"topic":"T"}],"onlyThisBroker":false}"#;
        let request: UnlockBatchRequestBody = decode(json).expect("decodes");
        let mq = MessageQueue {
            topic: "T".into(),
            broker_name: "broker-a".into(),
            queue_id: 0,
        };
        assert_eq!(
            request,
            LockBatchRequestBody {
                consumer_group: "g".into(),
                client_id: "10.0.0.5@1".into(),
                only_this_broker: false,
                mq_set: vec![mq.clone()],
            }
        );
        let answer = LockBatchResponseBody {
            lock_ok_mq_set: vec![mq],
        };
        let text = String::from_utf8(encode(&answer)).expect("utf-8");
        assert_eq!(
            text,
            r#"{"lockOKMQSet":[{"topic":"T","brokerName":"broker-a","queueId":0}]}"#
        );
        assert_eq!(
            decode::<LockBatchResponseBody>(text.as_bytes()).ok(),
            Some(answer)
        );
    }

    /// The consumer list and the offset table with Java's unquoted queue ids.
    #[test]
    fn consumer_list_and_offsets() {
        let list: ConsumerListBody =
            decode(br#"{"consumerIdList":["10.0.0.5@1","10.0.0.6@2"]}"#).expect("decodes");
        assert_eq!(list.consumer_id_list.len(), 2);
        let table: ConsumerOffsetTable =
            decode(br#"{"offsetTable":{"T@g":{0:12,1:-1},"%RETRY%g@g":{0:0}}}"#).expect("decodes");
        assert_eq!(table.offset("T", "g", 0), Some(12));
        assert_eq!(table.offset("T", "g", 1), Some(-1));
        assert_eq!(table.offset("%RETRY%g", "g", 0), Some(0));
        assert_eq!(table.offset("T", "g", 2), None);
        let text = String::from_utf8(encode(&table)).expect("utf-8");
        assert!(text.contains(r#""T@g":{"0":12,"1":-1}"#), "{text}");
        assert_eq!(
            decode::<ConsumerOffsetTable>(text.as_bytes()).ok(),
            Some(table)
        );
    }

    /// Queues sort like Java's `MessageQueue.compareTo`.
    #[test]
    fn message_queue_order() {
        let mq = |t: &str, b: &str, q| MessageQueue {
            topic: t.into(),
            broker_name: b.into(),
            queue_id: q,
        };
        let mut queues = vec![
            mq("T", "b", 0),
            mq("T", "a", 1),
            mq("S", "z", 9),
            mq("T", "a", 0),
        ];
        queues.sort();
        assert_eq!(
            queues,
            vec![
                mq("S", "z", 9),
                mq("T", "a", 0),
                mq("T", "a", 1),
                mq("T", "b", 0)
            ]
        );
    }
}
