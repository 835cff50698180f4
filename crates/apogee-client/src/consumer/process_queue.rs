//! [`ProcessQueue`]: the messages of one queue that were pulled but not yet acknowledged by
//! the listener, ordered by queue offset (RocketMQ's `ProcessQueue`), and the offset it is
//! safe to commit: never past an unacknowledged message.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use super::orderly::OrderlyQueueState;
use crate::message::MessageExt;

/// One queue's in-flight messages and pull position. Shared by its pull task, its consume
/// tasks and the rebalancer. It holds at most `pull_threshold_for_queue` messages: the pull
/// task asks only for the room left.
#[derive(Debug)]
pub struct ProcessQueue {
    state: Mutex<State>,
    dropped: AtomicBool,
    cancel: CancellationToken,
    /// Lock and runner state, used by orderly consumers only.
    orderly: OrderlyQueueState,
}

#[derive(Debug)]
struct State {
    /// Queue offset → message, pulled and not yet acknowledged (or waiting for a retry).
    in_flight: BTreeMap<i64, MessageExt>,
    /// Sum of the in-flight bodies' lengths.
    bytes: usize,
    /// The offset the next pull starts at; every message below it is either acknowledged
    /// or in `in_flight`.
    next_offset: i64,
}

/// A snapshot of a process queue, for monitoring and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessQueueStats {
    /// Messages pulled and not yet acknowledged.
    pub cached_count: usize,
    /// Their body bytes.
    pub cached_bytes: usize,
    /// Where the next pull starts.
    pub next_offset: i64,
    /// The offset safe to commit.
    pub commit_offset: i64,
}

impl ProcessQueue {
    /// A queue whose pulls start at `next_offset`; `cancel` stops its tasks when dropped.
    #[must_use]
    pub fn new(next_offset: i64, cancel: CancellationToken) -> Self {
        Self {
            state: Mutex::new(State {
                in_flight: BTreeMap::new(),
                bytes: 0,
                next_offset,
            }),
            dropped: AtomicBool::new(false),
            cancel,
            orderly: OrderlyQueueState::default(),
        }
    }

    /// Adds pulled messages (those already held are ignored) and moves the pull position to
    /// `next_offset`, atomically. Returns the messages newly added.
    pub fn put_messages(&self, messages: Vec<MessageExt>, next_offset: i64) -> Vec<MessageExt> {
        let mut state = self.state.lock();
        let mut added = Vec::with_capacity(messages.len());
        for message in messages {
            if state.in_flight.contains_key(&message.queue_offset) {
                continue;
            }
            state.bytes += message.body.len();
            state
                .in_flight
                .insert(message.queue_offset, message.clone());
            added.push(message);
        }
        state.next_offset = state.next_offset.max(next_offset);
        added
    }

    /// Moves the pull position (after a pull that found nothing to keep).
    pub fn set_next_offset(&self, next_offset: i64) {
        self.state.lock().next_offset = next_offset;
    }

    /// Acknowledges the messages at `offsets` and returns the offset now safe to commit
    /// (`ProcessQueue.removeMessage`): the smallest offset still in flight, else the next
    /// offset to pull.
    pub fn remove_messages(&self, offsets: &[i64]) -> i64 {
        let mut state = self.state.lock();
        for offset in offsets {
            if let Some(message) = state.in_flight.remove(offset) {
                state.bytes -= message.body.len();
            }
        }
        commit_of(&state)
    }

    /// The offset safe to commit now.
    #[must_use]
    pub fn commit_offset(&self) -> i64 {
        commit_of(&self.state.lock())
    }

    /// Where the next pull starts.
    #[must_use]
    pub fn next_offset(&self) -> i64 {
        self.state.lock().next_offset
    }

    /// The first `n` in-flight messages, in offset order (for orderly consumption, which
    /// acknowledges them before taking more).
    #[must_use]
    pub(crate) fn first_messages(&self, n: usize) -> Vec<MessageExt> {
        let state = self.state.lock();
        state.in_flight.values().take(n).cloned().collect()
    }

    /// The orderly consumer's lock and runner state of this queue.
    pub(crate) fn orderly(&self) -> &OrderlyQueueState {
        &self.orderly
    }

    /// Whether the message at `offset` is still in flight.
    #[must_use]
    pub fn contains(&self, offset: i64) -> bool {
        self.state.lock().in_flight.contains_key(&offset)
    }

    /// Count, bytes and positions.
    #[must_use]
    pub fn stats(&self) -> ProcessQueueStats {
        let state = self.state.lock();
        ProcessQueueStats {
            cached_count: state.in_flight.len(),
            cached_bytes: state.bytes,
            next_offset: state.next_offset,
            commit_offset: commit_of(&state),
        }
    }

    /// The distance between the last and first in-flight offsets (`getMaxSpan`).
    #[must_use]
    pub fn max_span(&self) -> i64 {
        let state = self.state.lock();
        match (
            state.in_flight.first_key_value(),
            state.in_flight.last_key_value(),
        ) {
            (Some((first, _)), Some((last, _))) => last - first,
            _ => 0,
        }
    }

    /// Marks the queue no longer this consumer's: its pull task stops and results of its
    /// running listener calls are ignored.
    pub fn mark_dropped(&self) {
        self.dropped.store(true, Ordering::Release);
        self.cancel.cancel();
    }

    /// Whether [`ProcessQueue::mark_dropped`] was called.
    #[must_use]
    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Acquire)
    }

    /// Cancelled when the queue is dropped or the consumer shuts down.
    #[must_use]
    pub fn cancelled(&self) -> &CancellationToken {
        &self.cancel
    }
}

fn commit_of(state: &State) -> i64 {
    state
        .in_flight
        .first_key_value()
        .map_or(state.next_offset, |(offset, _)| {
            (*offset).min(state.next_offset)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::net::{Ipv4Addr, SocketAddr};

    fn message(offset: i64) -> MessageExt {
        let host = SocketAddr::from((Ipv4Addr::LOCALHOST, 1));
        MessageExt {
            topic: "T".to_owned(),
            body: Bytes::from_static(b"abc"),
            flag: 0,
            properties: Default::default(),
            broker_name: "b".to_owned(),
            queue_id: 0,
            queue_offset: offset,
            commit_log_offset: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: host,
            store_timestamp: 0,
            store_host: host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            offset_msg_id: String::new(),
        }
    }

    /// The commit offset is the smallest in-flight offset, or the next pull offset when
    /// nothing is in flight; acknowledging out of order never moves it past a held message.
    #[test]
    fn commit_offset_rules() {
        let pq = ProcessQueue::new(10, CancellationToken::new());
        assert_eq!(pq.commit_offset(), 10);
        let added = pq.put_messages((10..15).map(message).collect(), 15);
        assert_eq!(added.len(), 5);
        assert_eq!(pq.commit_offset(), 10);
        assert_eq!(pq.stats().cached_bytes, 15);
        assert_eq!(pq.max_span(), 4);
        // 11..14 done, 10 still running: commit stays at 10.
        assert_eq!(pq.remove_messages(&[11, 12, 13, 14]), 10);
        assert!(pq.contains(10));
        // 10 done: nothing held, commit jumps to the next pull offset.
        assert_eq!(pq.remove_messages(&[10]), 15);
        assert_eq!(pq.stats().cached_count, 0);
        // Duplicates are not added twice; removing an unknown offset changes nothing.
        pq.put_messages(vec![message(15), message(16)], 17);
        assert!(pq.put_messages(vec![message(16)], 17).is_empty());
        assert_eq!(pq.remove_messages(&[99]), 15);
        assert_eq!(pq.remove_messages(&[16]), 15);
        assert_eq!(pq.remove_messages(&[15]), 17);
        // A pull that kept nothing (all filtered) moves the commit with it.
        pq.set_next_offset(20);
        assert_eq!(pq.commit_offset(), 20);
        assert_eq!(pq.next_offset(), 20);
    }

    /// Dropping cancels the queue's token.
    #[test]
    fn dropping_cancels() {
        let pq = ProcessQueue::new(0, CancellationToken::new());
        assert!(!pq.is_dropped());
        pq.mark_dropped();
        assert!(pq.is_dropped());
        assert!(pq.cancelled().is_cancelled());
    }
}
