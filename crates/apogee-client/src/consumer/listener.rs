//! The application's side of push consumption: [`MessageListenerConcurrently`] (a trait, also
//! implemented by closures), its [`ConsumeConcurrentlyContext`] and the
//! [`ConsumeConcurrentlyStatus`] it returns.

use std::fmt;

use crate::message::{MessageExt, MessageQueue};

/// What a concurrent listener says about a batch (`ConsumeConcurrentlyStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsumeConcurrentlyStatus {
    /// CONSUME_SUCCESS: the messages up to the context's `ack_index` are done.
    ConsumeSuccess,
    /// RECONSUME_LATER: deliver the whole batch again later.
    ReconsumeLater,
}

impl ConsumeConcurrentlyStatus {
    /// The RocketMQ name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::ConsumeSuccess => "CONSUME_SUCCESS",
            Self::ReconsumeLater => "RECONSUME_LATER",
        }
    }
}

impl fmt::Display for ConsumeConcurrentlyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a listener call knows and may adjust (`ConsumeConcurrentlyContext`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeConcurrentlyContext {
    /// The queue the batch came from.
    pub message_queue: MessageQueue,
    /// The delay level for the next delivery of failed messages (0: the broker's choice).
    /// Kept for the send-back to `%RETRY%` that a later change adds; local redelivery does
    /// not use it yet.
    pub delay_level_when_next_consume: i32,
    /// With CONSUME_SUCCESS, the index of the last message that succeeded; the ones after it
    /// are treated as failed. `None` (the default) means the whole batch.
    pub ack_index: Option<usize>,
}

impl ConsumeConcurrentlyContext {
    /// The context of a batch from `queue`.
    #[must_use]
    pub fn new(queue: MessageQueue) -> Self {
        Self {
            message_queue: queue,
            delay_level_when_next_consume: 0,
            ack_index: None,
        }
    }
}

/// Consumes messages of any queue, possibly several calls at once
/// (`MessageListenerConcurrently`). Calls run on blocking threads, so the listener may block;
/// a panic counts as RECONSUME_LATER.
pub trait MessageListenerConcurrently: Send + Sync + 'static {
    /// Handles a batch (at most `consume_message_batch_max_size` messages, bodies already
    /// decompressed).
    fn consume_message(
        &self,
        messages: &[MessageExt],
        context: &mut ConsumeConcurrentlyContext,
    ) -> ConsumeConcurrentlyStatus;
}

impl<F> MessageListenerConcurrently for F
where
    F: Fn(&[MessageExt], &mut ConsumeConcurrentlyContext) -> ConsumeConcurrentlyStatus
        + Send
        + Sync
        + 'static,
{
    fn consume_message(
        &self,
        messages: &[MessageExt],
        context: &mut ConsumeConcurrentlyContext,
    ) -> ConsumeConcurrentlyStatus {
        self(messages, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closures are listeners; statuses print their RocketMQ names.
    #[test]
    fn closures_and_names() {
        let listener = |messages: &[MessageExt], ctx: &mut ConsumeConcurrentlyContext| {
            ctx.ack_index = Some(messages.len());
            ConsumeConcurrentlyStatus::ConsumeSuccess
        };
        let mut ctx = ConsumeConcurrentlyContext::new(MessageQueue::default());
        let status = MessageListenerConcurrently::consume_message(&listener, &[], &mut ctx);
        assert_eq!(status.to_string(), "CONSUME_SUCCESS");
        assert_eq!(ctx.ack_index, Some(0));
        assert_eq!(
            ConsumeConcurrentlyStatus::ReconsumeLater.to_string(),
            "RECONSUME_LATER"
        );
    }
}
