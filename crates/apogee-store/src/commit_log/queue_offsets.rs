//! The next logical offset of every queue, owned by the commit-log writer.

use std::collections::HashMap;

use crate::limits::QUEUES_PER_TOPIC_MAX;

/// Next queue offset per topic and queue id, assigned under the append lock.
#[derive(Debug, Default)]
pub struct QueueOffsetTable {
    next: HashMap<String, Vec<u64>>,
}

impl QueueOffsetTable {
    /// The next offset of `topic`/`queue_id` (0 for a queue never written).
    ///
    /// # Panics
    /// If `queue_id` is outside `0..QUEUES_PER_TOPIC_MAX` (callers validate it first).
    #[must_use]
    pub fn next(&self, topic: &str, queue_id: i32) -> u64 {
        let idx = Self::index(queue_id);
        self.next
            .get(topic)
            .and_then(|v| v.get(idx))
            .copied()
            .unwrap_or(0)
    }

    /// Sets the next offset of `topic`/`queue_id`.
    ///
    /// # Panics
    /// If `queue_id` is out of range, or if `next` would move the offset backwards: queue
    /// offsets only grow.
    pub fn set(&mut self, topic: &str, queue_id: i32, next: u64) {
        let idx = Self::index(queue_id);
        let offsets = match self.next.get_mut(topic) {
            Some(v) => v,
            None => self.next.entry(topic.to_owned()).or_default(),
        };
        if offsets.len() <= idx {
            offsets.resize(idx + 1, 0);
        }
        assert!(
            next >= offsets[idx],
            "queue offset of {topic}/{queue_id} moving backwards: {} -> {next}",
            offsets[idx]
        );
        offsets[idx] = next;
    }

    fn index(queue_id: i32) -> usize {
        let idx = usize::try_from(queue_id).unwrap_or(usize::MAX);
        assert!(
            idx < QUEUES_PER_TOPIC_MAX,
            "queue id {queue_id} out of range"
        );
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets start at 0, are kept per queue, and never move backwards.
    #[test]
    fn per_queue_offsets() {
        let mut table = QueueOffsetTable::default();
        assert_eq!(table.next("T", 3), 0);
        table.set("T", 3, 5);
        assert_eq!(table.next("T", 3), 5);
        assert_eq!(table.next("T", 0), 0);
        assert_eq!(table.next("U", 3), 0);
        let backwards = std::panic::catch_unwind(move || table.set("T", 3, 4));
        assert!(backwards.is_err());
    }
}
