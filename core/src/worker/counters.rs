//! The stream's statistics counters, apart from its state: every one an atomic that the capture
//! thread, the supervisor and `stats()` touch without a lock.

use crate::context::DecodeCounters;
use crate::error::Error;
use crate::rate::RateMeter;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// No moment recorded yet.
const NEVER: u64 = u64::MAX;

/// Counters and moments of one stream, across its runs. Moments are nanoseconds after
/// `epoch` on the stream's clock.
pub(crate) struct Counters {
    epoch: Instant,
    pub(crate) frames_decoded: AtomicU64,
    /// Shared with each connection's `CaptureContext`, which backends report through.
    pub(crate) decode: Arc<DecodeCounters>,
    pub(crate) reconnects: AtomicU64,
    /// Connections that opened (the newest one's generation).
    pub(crate) generation: AtomicU64,
    pub(crate) runs: AtomicU64,
    /// Frames allocated outside the pool (see `FramePool`).
    pub(crate) frames_beyond_pool: AtomicU64,
    /// Panics of the backend on a capture thread, each reported as a transient error.
    pub(crate) backend_panics: AtomicU64,
    /// Messages and notices of capture threads merged into a later one of the same kind
    /// because the supervisor had not taken them yet.
    pub(crate) coalesced: AtomicU64,
    /// Frames published: the newest one's instant and the measured rate.
    frames: RateMeter,
    /// Since when the stream has not been streaming; `NEVER` while streaming and before the
    /// first start.
    offline_since: AtomicU64,
    last_error_at: AtomicU64,
    /// The newest frames' camera time − receive time, in µs, round robin; `offsets_seen`
    /// counts them all.
    clock_offsets: [AtomicI64; CLOCK_OFFSETS],
    offsets_seen: AtomicU64,
    last_error: Mutex<Option<Arc<Error>>>,
}

/// How many frames the camera's clock offset is the median of.
const CLOCK_OFFSETS: usize = 31;

impl Counters {
    pub(crate) fn new(epoch: Instant) -> Self {
        Counters {
            epoch,
            frames_decoded: AtomicU64::new(0),
            decode: Arc::new(DecodeCounters::new(epoch)),
            reconnects: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            runs: AtomicU64::new(0),
            frames_beyond_pool: AtomicU64::new(0),
            backend_panics: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
            frames: RateMeter::new(epoch),
            offline_since: AtomicU64::new(NEVER),
            last_error_at: AtomicU64::new(NEVER),
            clock_offsets: std::array::from_fn(|_| AtomicI64::new(0)),
            offsets_seen: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    pub(crate) fn nanos_since_epoch(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    fn instant(&self, nanos: u64) -> Option<Instant> {
        (nanos != NEVER).then(|| self.epoch + Duration::from_nanos(nanos))
    }

    /// The wall-clock time of a recorded moment, given the clock's `now` on both scales.
    pub(crate) fn wall_time(
        &self,
        nanos: u64,
        now: Instant,
        now_wall: SystemTime,
    ) -> Option<SystemTime> {
        let then = self.instant(nanos)?;
        Some(now_wall - now.saturating_duration_since(then))
    }

    pub(crate) fn last_frame_at(&self) -> Option<Instant> {
        self.frames.last_at()
    }

    pub(crate) fn last_error_at(&self) -> u64 {
        self.last_error_at.load(Ordering::Acquire)
    }

    pub(crate) fn offline_since(&self) -> u64 {
        self.offline_since.load(Ordering::Acquire)
    }

    /// The stream is streaming (`true`) or not; only the first moment off the stream is kept.
    pub(crate) fn set_streaming(&self, streaming: bool, now: Instant) {
        if streaming {
            self.offline_since.store(NEVER, Ordering::Release);
        } else {
            let now = self.nanos_since_epoch(now);
            let _ = self.offline_since.compare_exchange(
                NEVER,
                now,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    /// Bookkeeping after a publish at `at` of a frame whose camera time lies `camera_offset`
    /// µs after its receive time: lock-free, allocation-free.
    pub(crate) fn frame_published(&self, at: Instant, camera_offset: Option<i64>) {
        self.frames_decoded.fetch_add(1, Ordering::Relaxed);
        if let Some(offset) = camera_offset {
            let n = self.offsets_seen.fetch_add(1, Ordering::Relaxed);
            self.clock_offsets[(n % CLOCK_OFFSETS as u64) as usize]
                .store(offset, Ordering::Relaxed);
        }
        self.frames.tick(at);
    }

    /// The measured rate at `now`; 0 once no frame has come for max(2 s, 3 intervals), so
    /// that an outage does not read as the last rate.
    pub(crate) fn measured_fps(&self, now: Instant) -> f64 {
        self.frames.per_second(now)
    }

    /// The median of the newest frames' camera time − receive time, in seconds; `None`
    /// before a frame with a camera time.
    pub(crate) fn camera_clock_offset(&self) -> Option<f64> {
        let seen = self
            .offsets_seen
            .load(Ordering::Relaxed)
            .min(CLOCK_OFFSETS as u64) as usize;
        let mut offsets: Vec<i64> = self.clock_offsets[..seen]
            .iter()
            .map(|o| o.load(Ordering::Relaxed))
            .collect();
        offsets.sort_unstable();
        offsets.get(seen / 2).map(|&m| m as f64 / 1e6)
    }

    pub(crate) fn set_last_error(&self, error: Arc<Error>, now: Instant) {
        self.last_error_at
            .store(self.nanos_since_epoch(now), Ordering::Release);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    pub(crate) fn last_error(&self) -> Option<Arc<Error>> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
