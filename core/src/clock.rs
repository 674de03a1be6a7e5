//! Time as the stream sees it: real in production, manual in tests.

use crate::wake::WakeSignal;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// `at + duration`, or the latest instant this platform can represent near that if the sum
/// overflows: a deadline of `Duration::MAX` means "never", not a panic.
pub(crate) fn after(at: Instant, duration: Duration) -> Instant {
    at.checked_add(duration).unwrap_or_else(|| {
        // Far enough to be "never" for a stream (about 35,000 years at the first step), and
        // found without overflowing wherever `Instant` is narrower.
        (20..=40)
            .rev()
            .find_map(|shift| at.checked_add(Duration::from_secs(1 << shift)))
            .unwrap_or(at)
    })
}

/// The source of time for a stream's deadlines (open, first frame, stall) and back-off waits.
///
/// Only the stream's supervising thread sleeps on the clock. Frame timestamps also come from
/// it, so a [`ManualClock`] makes every time-dependent decision of the reconnect loop
/// reproducible to the nanosecond with no real sleeping.
pub trait Clock: Send + Sync + 'static {
    /// The current monotonic time.
    fn now(&self) -> Instant;

    /// The current wall-clock time.
    fn system_now(&self) -> SystemTime;

    /// Blocks until `now() >= deadline` or `wake`'s epoch differs from `seen`. May return
    /// early for no reason; callers re-check their conditions.
    fn sleep_until(&self, deadline: Instant, wake: &WakeSignal, seen: u64);
}

/// The real clock: `Instant::now()` and `SystemTime::now()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: Instant, wake: &WakeSignal, seen: u64) {
        wake.wait_real(seen, Some(deadline));
    }
}

/// A clock that moves only when told to, for tests.
///
/// Time starts at the real `Instant` of creation and advances through
/// [`advance`](ManualClock::advance). Tests wait until the stream is parked on the clock
/// ([`wait_for_sleeper`](ManualClock::wait_for_sleeper)), read when it wants to wake, and move
/// time exactly that far: back-off sequences are checked to the nanosecond without sleeping.
/// Clones share the same time.
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

struct ManualInner {
    base: Instant,
    base_wall: SystemTime,
    state: Mutex<ManualState>,
    sleepers_changed: Condvar,
}

#[derive(Default)]
struct ManualState {
    offset: Duration,
    next_id: u64,
    sleepers: Vec<Sleeper>,
}

struct Sleeper {
    id: u64,
    deadline: Instant,
    wake: WakeSignal,
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("ManualClock")
            .field("elapsed", &state.offset)
            .field("sleepers", &state.sleepers.len())
            .finish()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock standing at the real time of this call.
    pub fn new() -> Self {
        ManualClock {
            inner: Arc::new(ManualInner {
                base: Instant::now(),
                base_wall: SystemTime::now(),
                state: Mutex::new(ManualState::default()),
                sleepers_changed: Condvar::new(),
            }),
        }
    }

    /// How far the clock has been advanced since creation.
    pub fn elapsed(&self) -> Duration {
        self.lock().offset
    }

    /// Moves time forward by `by` and wakes every sleeper whose deadline has come.
    pub fn advance(&self, by: Duration) {
        let due: Vec<WakeSignal> = {
            let mut state = self.lock();
            state.offset += by;
            let now = self.inner.base + state.offset;
            let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut state.sleepers)
                .into_iter()
                .partition(|s| s.deadline <= now);
            state.sleepers = waiting;
            due.into_iter().map(|s| s.wake).collect()
        };
        self.inner.sleepers_changed.notify_all();
        for wake in due {
            wake.wake();
        }
    }

    /// Waits (in real time, at most `timeout`) until at least one thread sleeps on this clock,
    /// and returns how long from now the earliest sleeper wants to wake.
    pub fn wait_for_sleeper(&self, timeout: Duration) -> Option<Duration> {
        self.wait_for(timeout, |state, now| {
            state
                .sleepers
                .iter()
                .map(|s| s.deadline.saturating_duration_since(now))
                .min()
        })
    }

    /// Waits (in real time, at most `timeout`) until a thread sleeps on this clock with a
    /// deadline exactly `after` from now. Returns whether one did.
    pub fn wait_for_sleeper_after(&self, after: Duration, timeout: Duration) -> bool {
        self.wait_for(timeout, |state, now| {
            state
                .sleepers
                .iter()
                .any(|s| s.deadline == now + after)
                .then_some(())
        })
        .is_some()
    }

    /// Waits (in real time, at most `timeout`) until a thread sleeps on this clock exactly
    /// `after` from now, then advances by `after`. Returns whether it did (time is unchanged
    /// otherwise). The safe way to move a stream through one known wait.
    pub fn advance_when_parked(&self, after: Duration, timeout: Duration) -> bool {
        let parked = self.wait_for_sleeper_after(after, timeout);
        if parked {
            self.advance(after);
        }
        parked
    }

    /// Waits for a sleeper and advances time to its deadline. Returns the step taken.
    pub fn advance_to_next_sleeper(&self, timeout: Duration) -> Option<Duration> {
        let step = self.wait_for_sleeper(timeout)?;
        self.advance(step);
        Some(step)
    }

    /// The deadlines of the threads sleeping now, relative to now.
    pub fn sleepers(&self) -> Vec<Duration> {
        let state = self.lock();
        let now = self.inner.base + state.offset;
        state
            .sleepers
            .iter()
            .map(|s| s.deadline.saturating_duration_since(now))
            .collect()
    }

    fn wait_for<T>(
        &self,
        timeout: Duration,
        mut found: impl FnMut(&ManualState, Instant) -> Option<T>,
    ) -> Option<T> {
        let mut result = None;
        let base = self.inner.base;
        drop(
            self.inner
                .sleepers_changed
                .wait_timeout_while(self.lock(), timeout, |state| {
                    result = found(state, base + state.offset);
                    result.is_none()
                })
                .unwrap_or_else(PoisonError::into_inner),
        );
        result
    }

    fn lock(&self) -> MutexGuard<'_, ManualState> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.inner.base + self.lock().offset
    }

    fn system_now(&self) -> SystemTime {
        self.inner.base_wall + self.lock().offset
    }

    fn sleep_until(&self, deadline: Instant, wake: &WakeSignal, seen: u64) {
        let id = {
            let mut state = self.lock();
            if self.inner.base + state.offset >= deadline {
                return;
            }
            let id = state.next_id;
            state.next_id += 1;
            state.sleepers.push(Sleeper {
                id,
                deadline,
                wake: wake.clone(),
            });
            id
        };
        self.inner.sleepers_changed.notify_all();
        // `advance` updates the offset before it wakes, and the wake takes the signal's lock,
        // which `wait_while` holds while it reads the time: no wake-up is lost.
        wake.wait_while(seen, || self.now() < deadline);
        let mut state = self.lock();
        state.sleepers.retain(|s| s.id != id);
        drop(state);
        self.inner.sleepers_changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn sleeper_wakes_exactly_at_deadline() {
        let clock = ManualClock::new();
        let wake = WakeSignal::new();
        let start = clock.now();
        let c = clock.clone();
        let w = wake.clone();
        let t = thread::spawn(move || {
            let seen = w.epoch();
            c.sleep_until(start + Duration::from_secs(3), &w, seen);
            c.now() - start
        });
        assert_eq!(
            clock.wait_for_sleeper(Duration::from_secs(5)),
            Some(Duration::from_secs(3))
        );
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.sleepers(), vec![Duration::from_secs(1)]);
        clock.advance(Duration::from_secs(1));
        assert_eq!(t.join().unwrap(), Duration::from_secs(3));
        assert!(clock.sleepers().is_empty());
    }

    #[test]
    fn wake_interrupts_sleep() {
        let clock = ManualClock::new();
        let wake = WakeSignal::new();
        let c = clock.clone();
        let w = wake.clone();
        let deadline = clock.now() + Duration::from_secs(100);
        let t = thread::spawn(move || {
            let seen = w.epoch();
            c.sleep_until(deadline, &w, seen);
        });
        assert!(clock.wait_for_sleeper(Duration::from_secs(5)).is_some());
        wake.wake();
        t.join().unwrap();
        assert_eq!(clock.elapsed(), Duration::ZERO);
    }

    #[test]
    fn system_clock_sleep_is_bounded_by_deadline() {
        let wake = WakeSignal::new();
        let start = Instant::now();
        SystemClock.sleep_until(start + Duration::from_millis(20), &wake, wake.epoch());
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}
