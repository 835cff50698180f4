//! Queue locks for orderly consumption (RocketMQ `RebalanceLockManager`): a consumer locks
//! the queues it was assigned before consuming them in order, so that during a rebalance two
//! members never consume one queue at once. A lock lapses 60 s after its last renewal
//! (`rocketmq.broker.rebalance.lockMaxLiveTime`); clients renew every 20 s.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// How long a lock lives without renewal.
pub const LOCK_MAX_LIVE: Duration = Duration::from_secs(60);

/// (group, topic, queue id).
type QueueKey = (String, String, i32);

/// Who holds each locked queue, and since when (last renewal).
#[derive(Debug, Default)]
pub struct QueueLocks {
    held: Mutex<HashMap<QueueKey, (String, Instant)>>,
}

impl QueueLocks {
    /// Locks (or renews) each of `queues` of `group` for `client_id`, unless another live
    /// client holds it; returns the queues now held by `client_id`.
    pub fn lock(
        &self,
        group: &str,
        client_id: &str,
        queues: &[(String, i32)],
        now: Instant,
    ) -> Vec<(String, i32)> {
        let mut held = self.held.lock();
        let mut granted = Vec::new();
        for (topic, queue_id) in queues {
            let key = (group.to_owned(), topic.clone(), *queue_id);
            let taken = held.get(&key).is_some_and(|(owner, at)| {
                owner != client_id && now.saturating_duration_since(*at) < LOCK_MAX_LIVE
            });
            if !taken {
                held.insert(key, (client_id.to_owned(), now));
                granted.push((topic.clone(), *queue_id));
            }
        }
        granted
    }

    /// Releases those of `queues` that `client_id` holds.
    pub fn unlock(&self, group: &str, client_id: &str, queues: &[(String, i32)]) {
        let mut held = self.held.lock();
        for (topic, queue_id) in queues {
            let key = (group.to_owned(), topic.clone(), *queue_id);
            if held.get(&key).is_some_and(|(owner, _)| owner == client_id) {
                held.remove(&key);
            }
        }
    }

    /// Drops locks not renewed within [`LOCK_MAX_LIVE`]; bounds the table to live locks.
    pub fn expire(&self, now: Instant) {
        self.held
            .lock()
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < LOCK_MAX_LIVE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue locked by one client is refused to another until it is released or lapses;
    /// the holder can renew it.
    #[test]
    fn exclusive_until_released_or_lapsed() {
        let locks = QueueLocks::default();
        let t0 = Instant::now();
        let q = vec![("T".to_owned(), 0), ("T".to_owned(), 1)];
        assert_eq!(locks.lock("g", "a", &q, t0), q);
        assert!(locks.lock("g", "b", &q, t0).is_empty(), "held by a");
        assert_eq!(
            locks.lock("other", "b", &q, t0),
            q,
            "another group is independent"
        );
        assert_eq!(
            locks.lock("g", "a", &q[..1], t0),
            q[..1].to_vec(),
            "renewal"
        );
        locks.unlock("g", "b", &q);
        assert!(
            locks.lock("g", "b", &q[..1], t0).is_empty(),
            "b cannot unlock a's queue"
        );
        locks.unlock("g", "a", &q[..1]);
        assert_eq!(locks.lock("g", "b", &q[..1], t0), q[..1].to_vec());
        let later = t0 + LOCK_MAX_LIVE + Duration::from_secs(1);
        assert_eq!(
            locks.lock("g", "b", &q[1..], later),
            q[1..].to_vec(),
            "a's lock lapsed"
        );
        locks.expire(later + LOCK_MAX_LIVE);
        assert!(locks.held.lock().is_empty());
    }
}
