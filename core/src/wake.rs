//! A wake-up signal that sleepers on any [`Clock`](crate::Clock) can be interrupted with.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// A counter with a condition variable: every [`wake`](WakeSignal::wake) bumps the counter and
/// wakes every thread waiting on it.
///
/// A waiter reads [`epoch`](WakeSignal::epoch) *before* checking its own conditions and then
/// waits for the epoch to move, so a wake that happens in between is never lost. Clones share
/// the same signal.
#[derive(Clone, Default)]
pub struct WakeSignal {
    inner: Arc<(Mutex<u64>, Condvar)>,
}

impl std::fmt::Debug for WakeSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakeSignal")
            .field("epoch", &self.epoch())
            .finish()
    }
}

impl WakeSignal {
    /// A new signal.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of wakes so far.
    pub fn epoch(&self) -> u64 {
        *self.lock()
    }

    /// Wakes every waiter.
    pub fn wake(&self) {
        let mut epoch = self.lock();
        *epoch += 1;
        drop(epoch);
        self.inner.1.notify_all();
    }

    /// Blocks until the epoch differs from `seen` or the real-time `deadline` passes
    /// (`None`: no deadline). Returns whether a wake happened.
    pub fn wait_real(&self, seen: u64, deadline: Option<Instant>) -> bool {
        let epoch = self.lock();
        let condvar = &self.inner.1;
        match deadline {
            None => {
                drop(
                    condvar
                        .wait_while(epoch, |e| *e == seen)
                        .unwrap_or_else(PoisonError::into_inner),
                );
                true
            }
            Some(deadline) => {
                let timeout = deadline.saturating_duration_since(Instant::now());
                let (epoch, _) = condvar
                    .wait_timeout_while(epoch, timeout, |e| *e == seen)
                    .unwrap_or_else(PoisonError::into_inner);
                *epoch != seen
            }
        }
    }

    /// Waits until `done` returns true, checking it again after every wake, or until the
    /// real-time `deadline` passes (`None`: no deadline). Returns the last answer of `done`.
    pub fn wait_for(&self, deadline: Option<Instant>, mut done: impl FnMut() -> bool) -> bool {
        loop {
            let seen = self.epoch();
            if done() {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            self.wait_real(seen, deadline);
        }
    }

    /// Waits until the epoch differs from `seen` or `still_waiting` (evaluated under the
    /// signal's lock, after every wake) returns false. For clocks that decide themselves when
    /// time has moved.
    pub fn wait_while(&self, seen: u64, mut still_waiting: impl FnMut() -> bool) {
        let epoch = self.lock();
        drop(
            self.inner
                .1
                .wait_while(epoch, |e| *e == seen && still_waiting())
                .unwrap_or_else(PoisonError::into_inner),
        );
    }

    fn lock(&self) -> MutexGuard<'_, u64> {
        self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
