//! Choosing the queue of a send yourself (RocketMQ's `MessageQueueSelector`), for example
//! to keep all messages of one order in one queue: [`SelectMessageQueueByHash`].

use apogee_protocol::message::java_hash::java_string_hash;
use rand::Rng;

use crate::message::{Message, MessageQueue};

/// Picks the queue of a message from the topic's writable queues, given an argument the
/// caller passes along with the message.
///
/// Closures `Fn(&[MessageQueue], &Message, &A) -> Option<MessageQueue>` are selectors; give
/// their parameters types (`|queues: &[MessageQueue], _msg: &Message, arg: &u64| ...`) so
/// that they accept any lifetime.
pub trait MessageQueueSelector<A: ?Sized>: Send + Sync {
    /// The queue for `msg`, one of `queues`; `None` refuses the send.
    fn select(&self, queues: &[MessageQueue], msg: &Message, arg: &A) -> Option<MessageQueue>;
}

impl<A, F> MessageQueueSelector<A> for F
where
    A: ?Sized,
    F: Fn(&[MessageQueue], &Message, &A) -> Option<MessageQueue> + Send + Sync,
{
    fn select(&self, queues: &[MessageQueue], msg: &Message, arg: &A) -> Option<MessageQueue> {
        self(queues, msg, arg)
    }
}

/// A value whose Java `hashCode()` is known, so that [`SelectMessageQueueByHash`] maps a key
/// to the same queue as a Java producer does.
pub trait JavaHashCode {
    /// The value's Java `hashCode()`.
    fn java_hash_code(&self) -> i32;
}

impl JavaHashCode for str {
    fn java_hash_code(&self) -> i32 {
        java_string_hash(self)
    }
}

impl JavaHashCode for String {
    fn java_hash_code(&self) -> i32 {
        java_string_hash(self)
    }
}

impl JavaHashCode for i32 {
    fn java_hash_code(&self) -> i32 {
        *self
    }
}

impl JavaHashCode for u32 {
    fn java_hash_code(&self) -> i32 {
        *self as i32
    }
}

impl JavaHashCode for i64 {
    /// `Long.hashCode`: the high and low halves xor-ed.
    fn java_hash_code(&self) -> i32 {
        (*self ^ (*self >> 32)) as i32
    }
}

impl JavaHashCode for u64 {
    /// As `Long.hashCode` of the same bits.
    fn java_hash_code(&self) -> i32 {
        (*self as i64).java_hash_code()
    }
}

impl<T: JavaHashCode + ?Sized> JavaHashCode for &T {
    fn java_hash_code(&self) -> i32 {
        (**self).java_hash_code()
    }
}

/// Same argument, same queue: `|hashCode(arg) % queues|`, as RocketMQ's
/// `SelectMessageQueueByHash`, for ordered messages keyed by order id.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectMessageQueueByHash;

impl<A: JavaHashCode + ?Sized> MessageQueueSelector<A> for SelectMessageQueueByHash {
    fn select(&self, queues: &[MessageQueue], _msg: &Message, arg: &A) -> Option<MessageQueue> {
        let len = i64::try_from(queues.len()).ok().filter(|&n| n > 0)?;
        // Java: `hashCode % size`, negated if negative.
        let index = (i64::from(arg.java_hash_code()) % len).abs();
        queues.get(usize::try_from(index).ok()?).cloned()
    }
}

/// Any queue, at random (RocketMQ's `SelectMessageQueueByRandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectMessageQueueByRandom;

impl<A: ?Sized> MessageQueueSelector<A> for SelectMessageQueueByRandom {
    fn select(&self, queues: &[MessageQueue], _msg: &Message, _arg: &A) -> Option<MessageQueue> {
        if queues.is_empty() {
            return None;
        }
        queues
            .get(rand::rng().random_range(0..queues.len()))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queues(n: i32) -> Vec<MessageQueue> {
        (0..n)
            .map(|queue_id| MessageQueue {
                topic: "T".to_owned(),
                broker_name: "b".to_owned(),
                queue_id,
            })
            .collect()
    }

    /// Hashes as Java's do; negative hashes map like Java's `Math.abs(h % n)`.
    #[test]
    fn by_hash_matches_java() {
        let qs = queues(4);
        let msg = Message::new("T", &b"x"[..]);
        // "order-1".hashCode() is -1207111310 in Java; % 4 is -2, so queue 2.
        assert_eq!("order-1".java_hash_code(), -1_207_111_310);
        let q = SelectMessageQueueByHash.select(&qs, &msg, "order-1");
        assert_eq!(q.map(|q| q.queue_id), Some(2));
        let q = SelectMessageQueueByHash.select(&qs, &msg, &-7i32);
        assert_eq!(q.map(|q| q.queue_id), Some(3));
        assert_eq!((-1i64).java_hash_code(), 0);
        assert_eq!((1i64 << 32).java_hash_code(), 1);
        assert_eq!(SelectMessageQueueByHash.select(&[], &msg, &1i32), None);
        let by_random = SelectMessageQueueByRandom.select(&qs, &msg, &());
        assert!(by_random.is_some_and(|q| q.queue_id < 4));
    }

    /// A typed closure is a selector.
    #[test]
    fn closure_selector() {
        fn pick<A: ?Sized, S: MessageQueueSelector<A>>(s: &S, arg: &A) -> Option<i32> {
            let msg = Message::new("T", &b"x"[..]);
            s.select(&queues(3), &msg, arg).map(|q| q.queue_id)
        }
        let last = |qs: &[MessageQueue], _m: &Message, _a: &()| qs.last().cloned();
        assert_eq!(pick(&last, &()), Some(2));
    }
}
