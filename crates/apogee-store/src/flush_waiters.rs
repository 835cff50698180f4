//! Puts waiting for a SYNC_FLUSH to cover their bytes, ordered by the offset they need, so
//! that a flush wakes exactly the puts it made durable.
//!
//! A broadcast (a `watch` channel) would wake every waiting put on every flush, most of them
//! only to go back to sleep: with 32 senders and groups of 8, four wake-ups per message
//! instead of one, each a cross-thread wake-up that costs more than the put itself.

use std::collections::BTreeMap;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::error::{Result, StoreError};

/// How a wait ended, as the flusher reports it.
#[derive(Debug, Clone)]
enum Outcome {
    Flushed,
    Failed(String),
    ShutDown,
}

#[derive(Debug, Default)]
struct List {
    /// Everything below this offset is durable.
    flushed: u64,
    /// Set once flushing failed; no later put can become durable.
    failed: Option<String>,
    /// Set when the flusher stopped.
    closed: bool,
    /// Tie-breaker so equal offsets get distinct keys.
    next_id: u64,
    /// (offset needed, id) → the waiting put.
    waiting: BTreeMap<(u64, u64), oneshot::Sender<Outcome>>,
}

/// See the module docs. At most one entry per put in flight (a put that timed out leaves
/// its entry until the next flush passes it).
#[derive(Debug, Default)]
pub struct FlushWaiters {
    list: Mutex<List>,
}

impl FlushWaiters {
    /// Waiters over a log durable up to `flushed`.
    #[must_use]
    pub fn new(flushed: u64) -> Self {
        Self {
            list: Mutex::new(List {
                flushed,
                ..List::default()
            }),
        }
    }

    /// Everything below `flushed` is durable: wakes the puts that needed no more.
    pub fn release(&self, flushed: u64) {
        let done = {
            let mut list = self.list.lock();
            list.flushed = list.flushed.max(flushed);
            let first_pending = (list.flushed + 1, 0);
            let rest = list.waiting.split_off(&first_pending);
            std::mem::replace(&mut list.waiting, rest)
        };
        for (_, waiter) in done {
            let _ = waiter.send(Outcome::Flushed);
        }
    }

    /// Flushing failed: every waiting and future put fails with `reason`.
    pub fn fail(&self, reason: &str) {
        let done = {
            let mut list = self.list.lock();
            list.failed = Some(reason.to_owned());
            std::mem::take(&mut list.waiting)
        };
        for (_, waiter) in done {
            let _ = waiter.send(Outcome::Failed(reason.to_owned()));
        }
    }

    /// The flusher stopped: waiting and future puts that are not durable fail as shut down.
    pub fn close(&self) {
        let done = {
            let mut list = self.list.lock();
            list.closed = true;
            std::mem::take(&mut list.waiting)
        };
        for (_, waiter) in done {
            let _ = waiter.send(Outcome::ShutDown);
        }
    }

    /// Waits until everything below `end` is durable, for at most `timeout`.
    ///
    /// Returns `Ok(true)` when durable, `Ok(false)` on timeout (FLUSH_DISK_TIMEOUT).
    ///
    /// # Errors
    /// [`StoreError::Poisoned`] if flushing failed, [`StoreError::ShutDown`] if the flusher
    /// stopped first.
    pub async fn wait(&self, end: u64, timeout: Duration) -> Result<bool> {
        let rx = {
            let mut list = self.list.lock();
            if list.flushed >= end {
                return Ok(true);
            }
            if let Some(reason) = &list.failed {
                return Err(StoreError::Poisoned(reason.clone()));
            }
            if list.closed {
                return Err(StoreError::ShutDown);
            }
            let (tx, rx) = oneshot::channel();
            let id = list.next_id;
            list.next_id += 1;
            list.waiting.insert((end, id), tx);
            rx
        };
        match tokio::time::timeout(timeout, rx).await {
            Err(_) => Ok(false),
            Ok(Ok(Outcome::Flushed)) => Ok(true),
            Ok(Ok(Outcome::Failed(reason))) => Err(StoreError::Poisoned(reason)),
            Ok(Ok(Outcome::ShutDown) | Err(_)) => Err(StoreError::ShutDown),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A waiter returns once a flush covers its offset (and not before), times out with
    /// `false` (FLUSH_DISK_TIMEOUT) when none does, and fails when flushing failed or the
    /// flusher stopped.
    #[tokio::test(start_paused = true)]
    async fn outcomes() {
        let waiters = Arc::new(FlushWaiters::new(0));
        let w = waiters.clone();
        let waiter = tokio::spawn(async move { w.wait(100, Duration::from_secs(5)).await });
        let w = waiters.clone();
        let later = tokio::spawn(async move { w.wait(150, Duration::from_secs(5)).await });
        tokio::task::yield_now().await;
        waiters.release(50);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "50 does not cover 100");
        waiters.release(100);
        assert!(waiter.await.expect("join").expect("no error"));
        assert!(!later.is_finished(), "100 does not cover 150");
        assert!(
            waiters
                .wait(80, Duration::from_secs(5))
                .await
                .expect("already durable")
        );

        let stuck = waiters.wait(200, Duration::from_secs(5)).await;
        assert!(!stuck.expect("no error"), "timed out => FLUSH_DISK_TIMEOUT");
        waiters.release(160);
        assert!(later.await.expect("join").expect("no error"));

        waiters.fail("EIO");
        let failed = waiters.wait(300, Duration::from_secs(5)).await;
        assert!(matches!(failed, Err(StoreError::Poisoned(_))));

        let closed = FlushWaiters::new(0);
        closed.close();
        let stopped = closed.wait(1, Duration::from_secs(5)).await;
        assert!(matches!(stopped, Err(StoreError::ShutDown)));
    }
}
