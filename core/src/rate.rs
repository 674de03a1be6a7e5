//! A rate measured from the instants of events, lock-free: frames published, pictures
//! decoded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// No event yet.
const NEVER: u64 = u64::MAX;

/// The average interval between events (weight 1/16: about half a second at 30 fps) and the
/// newest event's instant, as nanoseconds after `epoch`.
#[derive(Debug)]
pub(crate) struct RateMeter {
    epoch: Instant,
    last: AtomicU64,
    interval: AtomicU64,
}

impl RateMeter {
    pub(crate) fn new(epoch: Instant) -> Self {
        RateMeter {
            epoch,
            last: AtomicU64::new(NEVER),
            interval: AtomicU64::new(0),
        }
    }

    /// An event at `at`.
    pub(crate) fn tick(&self, at: Instant) {
        let now = at.saturating_duration_since(self.epoch).as_nanos() as u64;
        let prev = self.last.swap(now, Ordering::AcqRel);
        if prev != NEVER && now > prev {
            let dt = now - prev;
            let avg = self.interval.load(Ordering::Relaxed);
            let next = if avg == 0 {
                dt
            } else {
                (avg as i64 + (dt as i64 - avg as i64) / 16) as u64
            };
            self.interval.store(next, Ordering::Relaxed);
        }
    }

    /// The newest event's instant.
    pub(crate) fn last_at(&self) -> Option<Instant> {
        let last = self.last.load(Ordering::Acquire);
        (last != NEVER).then(|| self.epoch + Duration::from_nanos(last))
    }

    /// Events a second at `now`; 0 once none has come for max(2 s, 3 intervals), so that an
    /// outage does not read as the last rate.
    pub(crate) fn per_second(&self, now: Instant) -> f64 {
        let interval = self.interval.load(Ordering::Relaxed);
        let Some(last) = self.last_at() else {
            return 0.0;
        };
        let silent = now.saturating_duration_since(last);
        let gone = Duration::from_secs(2).max(Duration::from_nanos(interval.saturating_mul(3)));
        if interval == 0 || silent > gone {
            return 0.0;
        }
        1e9 / interval as f64
    }
}
