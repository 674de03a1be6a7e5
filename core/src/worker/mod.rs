//! The reconnect loop: a supervising thread per run, a capture thread per connection.
//!
//! The supervisor owns every decision (deadlines, back-off, give-up) and every callback; the
//! capture thread only opens, reads and publishes. Because the supervisor waits on the clock
//! rather than on the backend, a read that never returns cannot hold up the watchdog or
//! `stop()`.
//!
//! - `control`: starting and stopping runs (what `VideoStream` calls);
//! - `supervisor`: one run's loop of connections and deadlines, asking the retry state
//!   (`crate::reconnect`) whether and when to try again;
//! - `announce`: what the supervisor tells the application (state, events, callbacks, logs);
//! - `session`: the supervisor's handle on one connection's capture thread;
//! - `capture`: one connection's thread: open, read, publish, close;
//! - `counters`: the statistics counters `stats()` reads;
//! - `threads`: counting the threads, the ones left behind included.

use crate::clock::Clock;
use crate::event::Event;
use crate::frame::{Frame, StreamProps};
use crate::pool::FramePool;
use crate::quote::one_line;
use crate::request::OpenRequest;
use crate::slot::Slot;
use crate::stats::{State, Stats};
use crate::waiting::{EndReason, FrameSource, Subscribers, WaitError};
use arc_swap::ArcSwapOption;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

mod announce;
mod capture;
mod control;
mod counters;
mod history;
mod run;
mod session;
mod supervisor;
mod threads;

pub(crate) use control::Runner;
use counters::Counters;
pub(crate) use history::History;
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
    /// Whether callbacks may still start (see `CallbackGate`).
    pub(crate) callback_gate: CallbackGate,
    pub(crate) slot: Slot,
    /// The `events()` streams.
    pub(crate) subscribers: Subscribers,
    /// What the backend says about the stream; the capture thread alone writes it, the size
    /// always that of the newest frame.
    pub(crate) props: ArcSwapOption<StreamProps>,
    pub(crate) threads: Threads,
    state: AtomicU8,
    pub(crate) counters: Counters,
    pool: Mutex<Option<FramePool>>,
    /// The newest frames, for a group's aligned reads (`aligned_history`).
    pub(crate) history: History,
}

/// The waiting forms read the slot through this, without knowing the worker.
impl FrameSource for Shared {
    fn wait_next(
        &self,
        after_seq: u64,
        deadline: Option<std::time::Instant>,
    ) -> Result<Arc<Frame>, WaitError> {
        self.slot.wait_next(after_seq, deadline)
    }

    fn poll_next(
        &self,
        after_seq: u64,
        key: &mut Option<usize>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<Arc<Frame>, EndReason>> {
        self.slot.poll_next(after_seq, key, cx)
    }

    fn forget_waker(&self, key: &mut Option<usize>) {
        self.slot.forget_waker(key);
    }
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
            Some(name) => format!("{} ({})", one_line(name), request.source()),
            None => request.source().to_string(),
        };
        let counters = Counters::new(clock.now());
        counters
            .decode
            .mode
            .set(request.options.decode_mode, clock.now());
        let opts = &request.options;
        // The history holds its frames: the pool grows by what it spans at 30 fps.
        let held = (opts.aligned_history.as_secs_f64() * 30.0).ceil() as usize;
        let pool_size = (opts.frame_pool + held).min(history::MOST_FRAMES);
        let pool = FramePool::new(pool_size.max(opts.frame_pool), opts.eager_frame_pool);
        let history = History::new(opts.aligned_history);
        Shared {
            request,
            name,
            label,
            clock,
            backend,
            callbacks,
            callback_gate: CallbackGate::default(),
            slot: Slot::new(),
            subscribers: Subscribers::default(),
            props: ArcSwapOption::const_empty(),
            threads: Threads::default(),
            state: AtomicU8::new(State::Stopped.to_u8()),
            counters,
            pool: Mutex::new(Some(pool)),
            history,
        }
    }

    pub(crate) fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn set_state_unchecked(&self, state: State) {
        self.state.store(state.to_u8(), Ordering::Release);
        self.counters
            .set_streaming(state == State::Streaming, self.clock.now());
    }

    /// Ends `run` by itself (given up, or the source ended): wakes every waiter and ends the
    /// event streams, after the events already queued.
    fn end_run(&self, run: u64, reason: EndReason) {
        if self.slot.end(run, reason) {
            self.subscribers.close_all();
        }
    }

    /// A thread name carrying the stream's name: `rs-<name>-<role>`, cut to the 15 bytes
    /// Linux keeps (`rs-<role>` for an unnamed stream). Characters a thread name cannot hold
    /// (NUL, which would make the thread's creation fail) and control characters become `_`.
    pub(crate) fn thread_name(&self, role: &str) -> String {
        const LIMIT: usize = 15;
        let Some(name) = &self.name else {
            return format!("rs-{role}");
        };
        let name: String = name
            .chars()
            .map(|c| if c.is_control() { '_' } else { c })
            .collect();
        let room = LIMIT.saturating_sub("rs-".len() + 1 + role.len());
        let mut cut = room.min(name.len());
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("rs-{}-{role}", &name[..cut])
    }

    pub(crate) fn reconnects(&self) -> u64 {
        Counters::get(&self.counters.reconnects)
    }

    pub(crate) fn measured_fps(&self) -> f64 {
        self.counters.measured_fps(self.clock.now())
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

    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        let (now, now_wall) = (self.clock.now(), self.clock.system_now());
        Stats {
            state: self.state(),
            frames_decoded: Counters::get(&c.frames_decoded),
            last_seq: self.slot.last_seq(),
            frames_overwritten_unread: self.slot.overwritten_unread(),
            frames_beyond_pool: Counters::get(&c.frames_beyond_pool),
            measured_fps: c.measured_fps(now),
            decode_errors: Counters::get(&c.decode.errors),
            frames_skipped: Counters::get(&c.decode.skipped),
            units_skipped: Counters::get(&c.decode.units_skipped),
            frames_not_converted: Counters::get(&c.decode.not_converted),
            decode_mode: c.decode.mode.get().0,
            pictures_decoded: Counters::get(&c.decode.pictures),
            decoded_fps: c.decode.decoded.per_second(now),
            decode_time: Duration::from_nanos(Counters::get(&c.decode.decode_nanos)),
            convert_time: Duration::from_nanos(Counters::get(&c.decode.convert_nanos)),
            reconnects: Counters::get(&c.reconnects),
            camera_clock_offset: c.camera_clock_offset(),
            aligned_history: self.history.held(),
            generation: Counters::get(&c.generation),
            backend_panics: Counters::get(&c.backend_panics),
            messages_coalesced: Counters::get(&c.coalesced),
            last_error: c.last_error(),
            since_last_frame: c.last_frame_at().map(|t| now.saturating_duration_since(t)),
            last_error_at: c.wall_time(c.last_error_at(), now, now_wall),
            offline_since: c.wall_time(c.offline_since(), now, now_wall),
            live_threads: self.threads.live(),
            detached_threads: self.threads.detached(),
        }
    }
}

/// Whether callbacks may still start. A callback starts only after checking the gate under
/// its lock, and `stop()` closes the gate under the same lock before it returns: no callback
/// starts after `stop()` has returned. One already running when `stop()` gives up waiting may
/// still be running (it is the application's code; nothing can end it).
#[derive(Default)]
pub(crate) struct CallbackGate {
    /// (closed for run ≤ this, callbacks running now)
    state: Mutex<(u64, usize)>,
    idle: std::sync::Condvar,
}

impl CallbackGate {
    /// Runs `f` unless the gate is closed for `run`.
    pub(crate) fn run(&self, run: u64, f: impl FnOnce()) {
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.0 >= run {
                return;
            }
            state.1 += 1;
        }
        struct Done<'a>(&'a CallbackGate);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.1 -= 1;
                drop(state);
                self.0.idle.notify_all();
            }
        }
        let _done = Done(self);
        f();
    }

    /// Closes the gate for `run` and every earlier one, then waits until `deadline` for the
    /// callbacks running now to return (not at all from inside one: `inside`).
    pub(crate) fn close(&self, run: u64, deadline: Instant, inside: bool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 = state.0.max(run);
        let own = usize::from(inside);
        while state.1 > own {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            state = self
                .idle
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
