//! A topic's route turned into what clients use: the queues a producer may write to, the
//! queues a consumer reads, and where each broker's master is (RocketMQ's
//! `TopicPublishInfo` and `topicRouteData2TopicSubscribeInfo`).

use std::collections::BTreeMap;

use apogee_protocol::body::TopicRouteData;
use apogee_protocol::header::PermName;

use crate::message::MessageQueue;

/// One topic's usable route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicRoute {
    /// The topic.
    pub topic: String,
    /// Writable queues on brokers whose master is registered, ordered by broker then queue
    /// id, as RocketMQ lists them for a producer.
    pub write_queues: Vec<MessageQueue>,
    /// Readable queues, ordered by broker then queue id, for consumers.
    pub read_queues: Vec<MessageQueue>,
    /// Broker name → broker id → address (id 0 is the master).
    pub brokers: BTreeMap<String, BTreeMap<i64, String>>,
    /// The route as the name server sent it.
    pub raw: TopicRouteData,
}

impl TopicRoute {
    /// Builds the usable route of `topic` from the name server's answer.
    #[must_use]
    pub fn from_data(topic: &str, data: TopicRouteData) -> Self {
        let brokers: BTreeMap<String, BTreeMap<i64, String>> = data
            .broker_datas
            .iter()
            .map(|b| (b.broker_name.clone(), b.broker_addrs.clone()))
            .collect();
        let mut queue_datas = data.queue_datas.clone();
        queue_datas.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
        let mut write_queues = Vec::new();
        let mut read_queues = Vec::new();
        for q in &queue_datas {
            let perm = PermName(q.perm);
            let has_master = brokers
                .get(&q.broker_name)
                .is_some_and(|addrs| addrs.contains_key(&0));
            if perm.is_writeable() && has_master {
                write_queues.extend(queues(topic, &q.broker_name, q.write_queue_nums));
            }
            if perm.is_readable() {
                read_queues.extend(queues(topic, &q.broker_name, q.read_queue_nums));
            }
        }
        Self {
            topic: topic.to_owned(),
            write_queues,
            read_queues,
            brokers,
            raw: data,
        }
    }

    /// The master address of `broker_name`, if registered.
    #[must_use]
    pub fn master_addr(&self, broker_name: &str) -> Option<&str> {
        self.brokers
            .get(broker_name)
            .and_then(|addrs| addrs.get(&0))
            .map(String::as_str)
    }

    /// Any address of `broker_name`, the master first.
    #[must_use]
    pub fn any_addr(&self, broker_name: &str) -> Option<&str> {
        self.brokers
            .get(broker_name)
            .and_then(|addrs| addrs.values().next())
            .map(String::as_str)
    }
}

fn queues(topic: &str, broker_name: &str, count: i32) -> impl Iterator<Item = MessageQueue> {
    (0..count.max(0)).map(move |queue_id| MessageQueue {
        topic: topic.to_owned(),
        broker_name: broker_name.to_owned(),
        queue_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use apogee_protocol::body::{BrokerData, QueueData};

    fn broker(name: &str, addrs: &[(i64, &str)]) -> BrokerData {
        BrokerData {
            cluster: "c".to_owned(),
            broker_name: name.to_owned(),
            broker_addrs: addrs.iter().map(|(id, a)| (*id, (*a).to_owned())).collect(),
            ..BrokerData::default()
        }
    }

    fn queue(name: &str, read: i32, write: i32, perm: i32) -> QueueData {
        QueueData {
            broker_name: name.to_owned(),
            read_queue_nums: read,
            write_queue_nums: write,
            perm,
            topic_sys_flag: 0,
        }
    }

    /// Writable queues need the perm bit and a master; readable ones only the perm bit.
    #[test]
    fn write_and_read_queues() {
        let data = TopicRouteData {
            queue_datas: vec![
                queue("b", 2, 2, PermName::READ | PermName::WRITE),
                queue("a", 3, 2, PermName::READ | PermName::WRITE),
                queue("slave-only", 1, 1, PermName::READ | PermName::WRITE),
                queue("ro", 1, 1, PermName::READ),
            ],
            broker_datas: vec![
                broker("a", &[(0, "h:1")]),
                broker("b", &[(0, "h:2"), (1, "h:3")]),
                broker("slave-only", &[(1, "h:4")]),
                broker("ro", &[(0, "h:5")]),
            ],
            ..TopicRouteData::default()
        };
        let route = TopicRoute::from_data("T", data);
        let w: Vec<_> = route
            .write_queues
            .iter()
            .map(|q| (q.broker_name.as_str(), q.queue_id))
            .collect();
        assert_eq!(w, vec![("a", 0), ("a", 1), ("b", 0), ("b", 1)]);
        assert_eq!(route.read_queues.len(), 3 + 2 + 1 + 1);
        assert_eq!(route.master_addr("b"), Some("h:2"));
        assert_eq!(route.master_addr("slave-only"), None);
        assert_eq!(route.any_addr("slave-only"), Some("h:4"));
    }
}
