//! Queue allocation strategies (RocketMQ's `AllocateMessageQueueStrategy`): given every
//! queue of a topic and every member of the group, both sorted, the queues one member takes.
//! Each member computes its own share, so all must produce the same split from the same
//! inputs; these give exactly the Java results.

use std::fmt;

use crate::message::MessageQueue;

/// How a clustering group splits a topic's queues among its members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum AllocateStrategy {
    /// Contiguous ranges, the first `queues % members` members taking one more
    /// (`AllocateMessageQueueAveragely`, the default).
    #[default]
    Average,
    /// Round robin: member `i` takes queues `i`, `i + members`, ...
    /// (`AllocateMessageQueueAveragelyByCircle`).
    AverageByCircle,
}

impl AllocateStrategy {
    /// The RocketMQ name of the strategy (`getName`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Average => "AVG",
            Self::AverageByCircle => "AVG_BY_CIRCLE",
        }
    }

    /// The queues of `all_queues` that `current` takes among `all_consumers`. Both lists must
    /// be sorted (queues by topic, broker name, queue id; client ids lexicographically). A
    /// client missing from `all_consumers` takes nothing, as in Java.
    #[must_use]
    pub fn allocate(
        self,
        current: &str,
        all_queues: &[MessageQueue],
        all_consumers: &[String],
    ) -> Vec<MessageQueue> {
        let Some(index) = all_consumers.iter().position(|c| c == current) else {
            return Vec::new();
        };
        if all_queues.is_empty() {
            return Vec::new();
        }
        match self {
            Self::Average => average(index, all_queues, all_consumers.len()),
            Self::AverageByCircle => by_circle(index, all_queues, all_consumers.len()),
        }
    }
}

impl fmt::Display for AllocateStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `AllocateMessageQueueAveragely.allocate`, index arithmetic included.
fn average(index: usize, queues: &[MessageQueue], consumers: usize) -> Vec<MessageQueue> {
    let n = queues.len();
    let modulo = n % consumers;
    let average_size = if n <= consumers {
        1
    } else if modulo > 0 && index < modulo {
        n / consumers + 1
    } else {
        n / consumers
    };
    let start = if modulo > 0 && index < modulo {
        index * average_size
    } else {
        index * average_size + modulo
    };
    let range = average_size.min(n.saturating_sub(start));
    queues[start.min(n)..start.min(n) + range].to_vec()
}

/// `AllocateMessageQueueAveragelyByCircle.allocate`.
fn by_circle(index: usize, queues: &[MessageQueue], consumers: usize) -> Vec<MessageQueue> {
    (index..queues.len())
        .filter(|i| i % consumers == index)
        .map(|i| queues[i].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queues(n: i32) -> Vec<MessageQueue> {
        (0..n)
            .map(|queue_id| MessageQueue {
                topic: "T".to_owned(),
                broker_name: "broker-a".to_owned(),
                queue_id,
            })
            .collect()
    }

    fn consumers(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("CID_PREFIX{i}")).collect()
    }

    fn ids(strategy: AllocateStrategy, me: usize, q: i32, c: usize) -> Vec<i32> {
        strategy
            .allocate(&format!("CID_PREFIX{me}"), &queues(q), &consumers(c))
            .iter()
            .map(|mq| mq.queue_id)
            .collect()
    }

    /// RocketMQ's examples (`AllocateMessageQueueAveragelyTest`): 4 consumers over 10 queues
    /// take 3, 3, 2, 2 contiguous queues; more consumers than queues leave the last ones idle.
    #[test]
    fn average_matches_rocketmq() {
        let avg = AllocateStrategy::Average;
        assert_eq!(ids(avg, 0, 10, 4), vec![0, 1, 2]);
        assert_eq!(ids(avg, 1, 10, 4), vec![3, 4, 5]);
        assert_eq!(ids(avg, 2, 10, 4), vec![6, 7]);
        assert_eq!(ids(avg, 3, 10, 4), vec![8, 9]);
        // 8 queues, 2 consumers: halves.
        assert_eq!(ids(avg, 0, 8, 2), vec![0, 1, 2, 3]);
        assert_eq!(ids(avg, 1, 8, 2), vec![4, 5, 6, 7]);
        // 4 queues, 6 consumers: one each for the first four.
        for me in 0..4 {
            assert_eq!(ids(avg, me, 4, 6), vec![me as i32]);
        }
        assert!(ids(avg, 4, 4, 6).is_empty());
        assert!(ids(avg, 5, 4, 6).is_empty());
        // As many consumers as queues.
        assert_eq!(ids(avg, 2, 3, 3), vec![2]);
        // One consumer takes all; an unknown one nothing.
        assert_eq!(ids(avg, 0, 5, 1), vec![0, 1, 2, 3, 4]);
        assert!(avg.allocate("other", &queues(5), &consumers(2)).is_empty());
        assert!(avg.allocate("CID_PREFIX0", &[], &consumers(2)).is_empty());
    }

    /// Every split is disjoint and covers every queue, for many sizes.
    #[test]
    fn splits_are_partitions() {
        for strategy in [AllocateStrategy::Average, AllocateStrategy::AverageByCircle] {
            for q in 1..20 {
                for c in 1..8 {
                    let mut all: Vec<i32> = (0..c).flat_map(|me| ids(strategy, me, q, c)).collect();
                    all.sort_unstable();
                    assert_eq!(all, (0..q).collect::<Vec<_>>(), "{strategy} {q} {c}");
                }
            }
        }
    }

    /// RocketMQ's by-circle examples (`AllocateMessageQueueAveragelyByCircleTest`).
    #[test]
    fn by_circle_matches_rocketmq() {
        let circle = AllocateStrategy::AverageByCircle;
        assert_eq!(ids(circle, 0, 10, 4), vec![0, 4, 8]);
        assert_eq!(ids(circle, 1, 10, 4), vec![1, 5, 9]);
        assert_eq!(ids(circle, 2, 10, 4), vec![2, 6]);
        assert_eq!(ids(circle, 3, 10, 4), vec![3, 7]);
        assert!(ids(circle, 5, 4, 6).is_empty());
        assert_eq!(circle.to_string(), "AVG_BY_CIRCLE");
        assert_eq!(AllocateStrategy::Average.name(), "AVG");
    }
}
