//! A wake-up signal between threads that costs two atomic operations when nobody waits.
//!
//! The commit-log writer rings after every append; the dispatcher and the sync flusher wait on
//! it when they have caught up. A sequence number makes wake-ups impossible to lose: a waiter
//! reads the sequence, checks for work, and sleeps only if the sequence is still the same.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// See the module docs.
#[derive(Debug, Default)]
pub struct Doorbell {
    seq: AtomicU64,
    waiters: AtomicUsize,
    lock: Mutex<()>,
    cv: Condvar,
}

impl Doorbell {
    /// The current sequence number; pass it to [`Doorbell::wait`] after checking for work.
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Wakes every waiter.
    pub fn ring(&self) {
        self.seq.fetch_add(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock();
            self.cv.notify_all();
        }
    }

    /// Sleeps until the bell rings after `seen` was read, or `timeout` passes.
    pub fn wait(&self, seen: u64, timeout: Duration) {
        let mut guard = self.lock.lock();
        self.waiters.fetch_add(1, Ordering::SeqCst);
        if self.seq.load(Ordering::SeqCst) == seen {
            self.cv.wait_for(&mut guard, timeout);
        }
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A ring after the sequence was read is never lost, whatever the interleaving.
    #[test]
    fn no_lost_wakeups() {
        let bell = Arc::new(Doorbell::default());
        for _ in 0..200 {
            let seen = bell.seq();
            let ringer = {
                let bell = bell.clone();
                std::thread::spawn(move || bell.ring())
            };
            // With a lost wake-up this would sleep for an hour and the test would hang.
            bell.wait(seen, Duration::from_secs(3600));
            ringer.join().expect("ringer");
        }
    }
}
