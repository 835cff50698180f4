//! The application's side of orderly push consumption: [`MessageListenerOrderly`] (a trait,
//! also implemented by closures), its [`ConsumeOrderlyContext`] and the
//! [`ConsumeOrderlyStatus`] it returns.

use std::fmt;

use crate::message::{MessageExt, MessageQueue};

/// What an orderly listener says about a batch (`ConsumeOrderlyStatus`). RocketMQ's
/// deprecated `ROLLBACK` and `COMMIT` (used only with `autoCommit = false`) are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsumeOrderlyStatus {
    /// SUCCESS: the batch is done; the committed offset moves past it.
    Success,
    /// SUSPEND_CURRENT_QUEUE_A_MOMENT: the same batch is delivered again after the
    /// suspend time; the queue's later messages wait for it.
    SuspendCurrentQueueAMoment,
}

impl ConsumeOrderlyStatus {
    /// The RocketMQ name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::SuspendCurrentQueueAMoment => "SUSPEND_CURRENT_QUEUE_A_MOMENT",
        }
    }
}

impl fmt::Display for ConsumeOrderlyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an orderly listener call knows and may adjust (`ConsumeOrderlyContext`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeOrderlyContext {
    /// The queue the batch came from.
    pub message_queue: MessageQueue,
    /// RocketMQ's `autoCommit` (true). Only `true` is supported: without the deprecated
    /// COMMIT status a `false` could never commit, so the value is ignored and SUCCESS
    /// always moves the committed offset.
    pub auto_commit: bool,
    /// With SUSPEND_CURRENT_QUEUE_A_MOMENT, the wait in milliseconds before the batch is
    /// delivered again; −1 (the default) means the consumer's
    /// `suspend_current_queue_time`. Clamped to 10..=30 000 ms as in RocketMQ.
    pub suspend_current_queue_time_millis: i64,
}

impl ConsumeOrderlyContext {
    /// The context of a batch from `queue`.
    #[must_use]
    pub fn new(queue: MessageQueue) -> Self {
        Self {
            message_queue: queue,
            auto_commit: true,
            suspend_current_queue_time_millis: -1,
        }
    }
}

/// Consumes the messages of each queue in queue-offset order, one batch at a time per
/// queue (`MessageListenerOrderly`); different queues may be consumed at once. Calls run
/// on blocking threads, so the listener may block; a panic counts as
/// SUSPEND_CURRENT_QUEUE_A_MOMENT.
pub trait MessageListenerOrderly: Send + Sync + 'static {
    /// Handles a batch (at most `consume_message_batch_max_size` consecutive messages of
    /// one queue, bodies already decompressed).
    fn consume_message(
        &self,
        messages: &[MessageExt],
        context: &mut ConsumeOrderlyContext,
    ) -> ConsumeOrderlyStatus;
}

impl<F> MessageListenerOrderly for F
where
    F: Fn(&[MessageExt], &mut ConsumeOrderlyContext) -> ConsumeOrderlyStatus
        + Send
        + Sync
        + 'static,
{
    fn consume_message(
        &self,
        messages: &[MessageExt],
        context: &mut ConsumeOrderlyContext,
    ) -> ConsumeOrderlyStatus {
        self(messages, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closures are listeners; statuses print their RocketMQ names; context defaults.
    #[test]
    fn closures_names_and_defaults() {
        let listener = |_: &[MessageExt], ctx: &mut ConsumeOrderlyContext| {
            ctx.suspend_current_queue_time_millis = 50;
            ConsumeOrderlyStatus::SuspendCurrentQueueAMoment
        };
        let mut ctx = ConsumeOrderlyContext::new(MessageQueue::default());
        assert!(ctx.auto_commit);
        assert_eq!(ctx.suspend_current_queue_time_millis, -1);
        let status = MessageListenerOrderly::consume_message(&listener, &[], &mut ctx);
        assert_eq!(status.to_string(), "SUSPEND_CURRENT_QUEUE_A_MOMENT");
        assert_eq!(ctx.suspend_current_queue_time_millis, 50);
        assert_eq!(ConsumeOrderlyStatus::Success.to_string(), "SUCCESS");
    }
}
