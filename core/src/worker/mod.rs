//! The reconnect loop: a supervising thread per run, a capture thread per connection.
//!
//! The supervisor owns every decision (deadlines, back-off, give-up) and every callback; the
//! capture thread only opens, reads and publishes. Because the supervisor waits on the clock
//! rather than on the backend, a read that never returns cannot hold up the watchdog or
//! `stop()`.
//!
//! - `control`: starting and stopping runs (what `VideoStream` calls);
//! - `supervisor`: one run's loop of connections, deadlines, back-off and events;
//! - `capture`: one connection's thread: open, read, publish, close;
//! - `threads`: counting the threads, the ones left behind included.

use crate::clock::Clock;
use crate::error::Error;
use crate::event::Event;
use crate::frame::StreamProps;
use crate::pool::FramePool;
use crate::request::OpenRequest;
use crate::slot::Slot;
use crate::stats::{State, Stats};
use crate::waiting::{EndReason, Subscribers};
use arc_swap::ArcSwapOption;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

mod capture;
mod control;
mod supervisor;
mod threads;

pub(crate) use control::Runner;
use threads::Threads;

type Callback = Arc<dyn Fn() + Send + Sync>;
type EventCallback = Arc<dyn Fn(&Event) + Send + Sync>;

#[derive(Default, Clone)]
pub(crate) struct Callbacks {
    pub(crate) on_connect: Vec<Callback>,
    pub(crate) on_disconnect: Vec<Callback>,
    pub(crate) on_reconnect_failure: Vec<Callback>,
    pub(crate) on_event: Vec<EventCallback>,
}

impl Callbacks {
    /// How many callbacks are registered, of every kind.
    pub(crate) fn len(&self) -> usize {
        self.on_connect.len()
            + self.on_disconnect.len()
            + self.on_reconnect_failure.len()
            + self.on_event.len()
    }
}

/// State shared by the stream handle, the supervisor and the capture threads.
pub(crate) struct Shared {
    pub(crate) request: OpenRequest,
    /// The name given with `VideoStreamBuilder::name`.
    pub(crate) name: Option<String>,
    /// How log lines name the stream: its name and its redacted source.
    pub(crate) label: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) backend: &'static str,
    callbacks: Callbacks,
    pub(crate) slot: Slot,
    /// The `events()` streams.
    pub(crate) subscribers: Subscribers,
    pub(crate) props: ArcSwapOption<StreamProps>,
    pub(crate) threads: Threads,
    state: AtomicU8,
    epoch: Instant,
    frames_decoded: AtomicU64,
    decode_errors: Arc<AtomicU64>,
    reconnects: AtomicU64,
    generation: AtomicU64,
    runs: AtomicU64,
    /// Nanoseconds after `epoch` of the newest frame; `u64::MAX` before any.
    last_frame: AtomicU64,
    /// Nanoseconds after `epoch` since which the stream has not been streaming; `u64::MAX`
    /// while streaming and before the first start.
    offline_since: AtomicU64,
    /// Nanoseconds after `epoch` of the last error; `u64::MAX` before any.
    last_error_at: AtomicU64,
    /// Exponential moving average of the interval between frames, in nanoseconds.
    frame_interval: AtomicU64,
    last_error: Mutex<Option<Arc<Error>>>,
    /// Frames allocated outside the pool (see `FramePool`).
    frames_beyond_pool: AtomicU64,
    pool: Mutex<Option<FramePool>>,
}

impl Shared {
    pub(crate) fn new(
        request: OpenRequest,
        name: Option<String>,
        clock: Arc<dyn Clock>,
        callbacks: Callbacks,
        backend: &'static str,
    ) -> Self {
        let label = match &name {
            Some(name) => format!("{name} ({})", request.source()),
            None => request.source().to_string(),
        };
        let epoch = clock.now();
        let pool = FramePool::new(request.options.frame_pool, request.options.eager_frame_pool);
        Shared {
            request,
            name,
            label,
            clock,
            backend,
            callbacks,
            slot: Slot::new(),
            subscribers: Subscribers::default(),
            props: ArcSwapOption::const_empty(),
            threads: Threads::default(),
            state: AtomicU8::new(State::Stopped.to_u8()),
            epoch,
            frames_decoded: AtomicU64::new(0),
            decode_errors: Arc::new(AtomicU64::new(0)),
            reconnects: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            runs: AtomicU64::new(0),
            last_frame: AtomicU64::new(u64::MAX),
            offline_since: AtomicU64::new(u64::MAX),
            last_error_at: AtomicU64::new(u64::MAX),
            frame_interval: AtomicU64::new(0),
            last_error: Mutex::new(None),
            frames_beyond_pool: AtomicU64::new(0),
            pool: Mutex::new(Some(pool)),
        }
    }

    pub(crate) fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn set_state_unchecked(&self, state: State) {
        self.state.store(state.to_u8(), Ordering::Release);
        if state == State::Streaming {
            self.offline_since.store(u64::MAX, Ordering::Release);
        } else {
            // Only the first state off the stream marks the moment.
            let now = self.nanos_since_epoch(self.clock.now());
            let _ = self.offline_since.compare_exchange(
                u64::MAX,
                now,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    /// The wall-clock time of `nanos` after the epoch (`u64::MAX`: none), per the clock.
    fn wall_time(&self, nanos: u64, now: Instant) -> Option<SystemTime> {
        if nanos == u64::MAX {
            return None;
        }
        let ago = now.saturating_duration_since(self.epoch + Duration::from_nanos(nanos));
        Some(self.clock.system_now() - ago)
    }

    /// Ends `run` by itself (given up, or the source ended): wakes every waiter and ends the
    /// event streams, after the events already queued.
    fn end_run(&self, run: u64, reason: EndReason) {
        if self.slot.end(run, reason) {
            self.subscribers.close_all();
        }
    }

    /// A thread name carrying the stream's name: `rs-<name>-<role>`, cut to the 15 bytes
    /// Linux keeps (`rs-<role>` for an unnamed stream).
    pub(crate) fn thread_name(&self, role: &str) -> String {
        const LIMIT: usize = 15;
        let Some(name) = &self.name else {
            return format!("rs-{role}");
        };
        let room = LIMIT.saturating_sub("rs-".len() + 1 + role.len());
        let mut cut = room.min(name.len());
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("rs-{}-{role}", &name[..cut])
    }

    pub(crate) fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    fn nanos_since_epoch(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    fn last_frame_at(&self) -> Option<Instant> {
        match self.last_frame.load(Ordering::Acquire) {
            u64::MAX => None,
            n => Some(self.epoch + Duration::from_nanos(n)),
        }
    }

    /// Bookkeeping after a publish: lock-free, allocation-free.
    fn frame_published(&self, at: Instant) {
        self.frames_decoded.fetch_add(1, Ordering::Relaxed);
        let now = self.nanos_since_epoch(at);
        let prev = self.last_frame.swap(now, Ordering::AcqRel);
        if prev != u64::MAX && now > prev {
            let dt = now - prev;
            let avg = self.frame_interval.load(Ordering::Relaxed);
            let next = if avg == 0 {
                dt
            } else {
                // Weight 1/16: smooth over about half a second at 30 fps.
                (avg as i64 + (dt as i64 - avg as i64) / 16) as u64
            };
            self.frame_interval.store(next, Ordering::Relaxed);
        }
    }

    /// The measured rate; 0 once no frame has come for max(2 s, 3 intervals), so that an
    /// outage does not read as the last rate.
    pub(crate) fn measured_fps(&self) -> f64 {
        let interval = self.frame_interval.load(Ordering::Relaxed);
        let Some(last) = self.last_frame_at() else {
            return 0.0;
        };
        let silent = self.clock.now().saturating_duration_since(last);
        let gone = Duration::from_secs(2).max(Duration::from_nanos(interval.saturating_mul(3)));
        if interval == 0 || silent > gone {
            return 0.0;
        }
        1e9 / interval as f64
    }

    /// The pool for a new connection: the one the last connection returned, or a new one if
    /// a thread left behind still has it.
    pub(crate) fn take_pool(&self) -> FramePool {
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_else(|| {
                let opts = &self.request.options;
                FramePool::new(opts.frame_pool, opts.eager_frame_pool)
            })
    }

    pub(crate) fn return_pool(&self, pool: FramePool) {
        *self.pool.lock().unwrap_or_else(PoisonError::into_inner) = Some(pool);
    }

    fn set_last_error(&self, error: Arc<Error>) {
        let now = self.nanos_since_epoch(self.clock.now());
        self.last_error_at.store(now, Ordering::Release);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    pub(crate) fn stats(&self) -> Stats {
        let now = self.clock.now();
        Stats {
            state: self.state(),
            frames_decoded: self.frames_decoded.load(Ordering::Relaxed),
            last_seq: self.slot.last_seq(),
            frames_overwritten_unread: self.slot.overwritten_unread(),
            frames_beyond_pool: self.frames_beyond_pool.load(Ordering::Relaxed),
            measured_fps: self.measured_fps(),
            decode_errors: self.decode_errors.load(Ordering::Relaxed),
            reconnects: self.reconnects(),
            generation: self.generation.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            since_last_frame: self
                .last_frame_at()
                .map(|t| now.saturating_duration_since(t)),
            last_error_at: self.wall_time(self.last_error_at.load(Ordering::Acquire), now),
            offline_since: self.wall_time(self.offline_since.load(Ordering::Acquire), now),
            live_threads: self.threads.live(),
            detached_threads: self.threads.detached(),
        }
    }
}
