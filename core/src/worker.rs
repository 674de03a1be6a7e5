//! The reconnect loop: a supervising thread per run, a capture thread per connection.
//!
//! The supervisor owns every decision (deadlines, back-off, give-up) and every callback; the
//! capture thread only opens, reads and publishes. Because the supervisor waits on the clock
//! rather than on the backend, a read that never returns cannot hold up the watchdog or
//! `stop()`.

use crate::LOG_TARGET;
use crate::backend::{CaptureBackend, CaptureContext, OpenRequest};
use crate::backoff::{self, Jitter};
use crate::clock::Clock;
use crate::error::{Error, ErrorKind};
use crate::event::{DisconnectReason, Event};
use crate::frame::StreamProps;
use crate::pool::FramePool;
use crate::slot::Slot;
use crate::stats::{State, Stats};
use crate::wake::WakeSignal;
use arc_swap::ArcSwapOption;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod capture;
mod threads;

pub(crate) use threads::{ThreadTrack, Threads};

type Callback = Arc<dyn Fn() + Send + Sync>;
type EventCallback = Arc<dyn Fn(&Event) + Send + Sync>;

#[derive(Default)]
pub(crate) struct Callbacks {
    pub(crate) on_connect: Vec<Callback>,
    pub(crate) on_disconnect: Vec<Callback>,
    pub(crate) on_reconnect_failure: Vec<Callback>,
    pub(crate) on_event: Vec<EventCallback>,
}

/// State shared by the stream handle, the supervisor and the capture threads.
pub(crate) struct Shared {
    pub(crate) request: OpenRequest,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) backend: &'static str,
    callbacks: Callbacks,
    pub(crate) slot: Slot,
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
    /// Exponential moving average of the interval between frames, in nanoseconds.
    frame_interval: AtomicU64,
    last_error: Mutex<Option<Arc<Error>>>,
    /// Frames allocated outside the pool (see `FramePool`).
    pub(crate) frames_beyond_pool: Arc<AtomicU64>,
    pool: Mutex<Option<FramePool>>,
}

impl Shared {
    pub(crate) fn new(
        request: OpenRequest,
        clock: Arc<dyn Clock>,
        callbacks: Callbacks,
        backend: &'static str,
    ) -> Self {
        let epoch = clock.now();
        let frames_beyond_pool = Arc::new(AtomicU64::new(0));
        let pool = FramePool::new(
            request.options.frame_pool,
            request.options.eager_frame_pool,
            Arc::clone(&frames_beyond_pool),
        );
        Shared {
            request,
            clock,
            backend,
            callbacks,
            slot: Slot::new(),
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
            frame_interval: AtomicU64::new(0),
            last_error: Mutex::new(None),
            frames_beyond_pool,
            pool: Mutex::new(Some(pool)),
        }
    }

    pub(crate) fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn set_state_unchecked(&self, state: State) {
        self.state.store(state.to_u8(), Ordering::Release);
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

    pub(crate) fn measured_fps(&self) -> f64 {
        match self.frame_interval.load(Ordering::Relaxed) {
            0 => 0.0,
            n => 1e9 / n as f64,
        }
    }

    /// The pool for a new connection: the one the last connection returned, or a new one if
    /// a thread left behind still has it.
    pub(crate) fn take_pool(&self) -> FramePool {
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_else(|| {
                FramePool::new(
                    self.request.options.frame_pool,
                    self.request.options.eager_frame_pool,
                    Arc::clone(&self.frames_beyond_pool),
                )
            })
    }

    pub(crate) fn return_pool(&self, pool: FramePool) {
        *self.pool.lock().unwrap_or_else(PoisonError::into_inner) = Some(pool);
    }

    fn set_last_error(&self, error: Arc<Error>) {
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
            live_threads: self.threads.live(),
            detached_threads: self.threads.detached(),
        }
    }
}

/// One run of the worker: from `start()` to `stop()`, giving up or the end of the source.
pub(crate) struct RunControl {
    pub(crate) run: u64,
    stop: AtomicBool,
    finished: AtomicBool,
    /// Wakes the supervisor: stop requests, messages from the capture thread, notices.
    wake: WakeSignal,
    /// Woken when the supervisor has finished.
    done: WakeSignal,
    pub(crate) track: Arc<ThreadTrack>,
}

impl RunControl {
    pub(crate) fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake.wake();
    }

    fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Waits in real time until the supervisor has finished or `deadline` passes.
    pub(crate) fn wait_finished(&self, deadline: Instant) -> bool {
        loop {
            let seen = self.done.epoch();
            if self.is_finished() {
                return true;
            }
            if !self.done.wait_real(seen, Some(deadline)) {
                return self.is_finished();
            }
        }
    }
}

/// Starts a run's supervising thread.
pub(crate) fn spawn<B: CaptureBackend>(
    shared: &Arc<Shared>,
    config: B::Config,
) -> Result<(Arc<RunControl>, JoinHandle<()>), Error> {
    let run = shared.runs.fetch_add(1, Ordering::Relaxed) + 1;
    let track = shared.threads.track();
    let control = Arc::new(RunControl {
        run,
        stop: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        wake: WakeSignal::new(),
        done: WakeSignal::new(),
        track: Arc::clone(&track),
    });
    shared.slot.activate(run);
    shared.set_state_unchecked(State::Connecting);
    let supervisor = Supervisor::<B> {
        shared: Arc::clone(shared),
        control: Arc::clone(&control),
        config,
        failures: 0,
        backoff_step: 0,
        attempts: 0,
        last_size: None,
        jitter: Jitter::new(shared.nanos_since_epoch(shared.clock.now()) ^ (run << 32) ^ 0x9e37),
    };
    let handle = std::thread::Builder::new()
        .name("rtsp-stream".into())
        .spawn(move || {
            let shared = Arc::clone(&supervisor.shared);
            let control = Arc::clone(&supervisor.control);
            let _exit = shared.threads.enter(&control.track);
            supervisor.run();
            control.finished.store(true, Ordering::Release);
            control.done.wake();
        })
        .map_err(|e| {
            shared.slot.deactivate(run);
            shared.set_state_unchecked(State::Stopped);
            Error::core(ErrorKind::Other, "could not spawn the worker thread").with_source(e)
        })?;
    Ok((control, handle))
}

/// Messages from the capture thread to the supervisor.
enum Message {
    Opened(StreamProps),
    /// The first frame of the connection arrived; the props carry its real size.
    FirstFrame(StreamProps),
    Resized(StreamProps),
    Failed(Error),
    EndOfStream,
}

/// The supervisor's side of one connection.
struct Session {
    ctx: CaptureContext,
    link: Arc<capture::Link>,
    handle: Option<JoinHandle<()>>,
    track: Arc<ThreadTrack>,
}

enum Phase {
    Opening,
    AwaitingFirstFrame,
    Streaming,
}

/// How far a connection got.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reached {
    Nothing,
    Opened,
    Frames,
}

impl Phase {
    fn reached(&self) -> Reached {
        match self {
            Phase::Opening => Reached::Nothing,
            Phase::AwaitingFirstFrame => Reached::Opened,
            Phase::Streaming => Reached::Frames,
        }
    }
}

/// How a connection ended.
enum Outcome {
    Stopped,
    EndOfStream,
    Failed { error: Arc<Error>, reached: Reached },
}

enum Ending {
    Stopped,
    Finished,
    GaveUp(Arc<Error>),
}

struct Supervisor<B: CaptureBackend> {
    shared: Arc<Shared>,
    control: Arc<RunControl>,
    config: B::Config,
    /// Consecutive failed attempts since the last connection that delivered a frame.
    failures: u32,
    /// Exponent of the next back-off delay.
    backoff_step: u32,
    /// Attempts in this run.
    attempts: u64,
    /// Frame size last seen, kept across connections.
    last_size: Option<(u32, u32)>,
    jitter: Jitter,
}

impl<B: CaptureBackend> Supervisor<B> {
    fn options(&self) -> &crate::options::StreamOptions {
        &self.shared.request.options
    }

    fn run(mut self) {
        let ending = loop {
            if self.control.stop_requested() {
                break Ending::Stopped;
            }
            match self.connect() {
                Outcome::Stopped => break Ending::Stopped,
                Outcome::EndOfStream => break Ending::Finished,
                Outcome::Failed { error, reached } => {
                    self.disconnected(&error, reached);
                    if !error.is_transient() {
                        break Ending::GaveUp(error);
                    }
                    if self
                        .options()
                        .max_reconnect_attempts
                        .is_some_and(|max| self.failures >= max)
                    {
                        break Ending::GaveUp(error);
                    }
                    if !self.back_off() {
                        break Ending::Stopped;
                    }
                }
            }
        };
        self.finish(ending);
    }

    fn finish(&self, ending: Ending) {
        let source = self.shared.request.source();
        match ending {
            Ending::Stopped => {
                self.emit(Event::Stopped);
            }
            Ending::Finished => {
                log::info!(target: LOG_TARGET, "stream {source}: end of stream");
                self.set_state(State::Finished);
                self.emit(Event::EndOfStream);
            }
            Ending::GaveUp(error) => {
                log::error!(
                    target: LOG_TARGET,
                    "stream {source}: giving up after {} failed attempt(s): {error}",
                    self.failures
                );
                self.set_state(State::GaveUp);
                self.emit(Event::GaveUp { error });
                self.call_all(&self.shared.callbacks.on_reconnect_failure);
            }
        }
    }

    /// One connection, from the attempt to its end.
    fn connect(&mut self) -> Outcome {
        self.attempts += 1;
        if self.attempts > 1 {
            self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        let generation = self.shared.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let attempt = self.failures + 1;
        self.set_state(State::Connecting);
        log::info!(
            target: LOG_TARGET,
            "stream {}: connecting ({}, attempt {attempt})",
            self.shared.request.source(),
            self.shared.backend
        );
        self.emit(Event::Connecting {
            attempt,
            generation,
        });
        let started = self.shared.clock.now();
        let mut session = match self.spawn_capture(generation) {
            Ok(s) => s,
            Err(error) => {
                return Outcome::Failed {
                    error: Arc::new(error),
                    reached: Reached::Nothing,
                };
            }
        };
        let mut phase = Phase::Opening;
        let mut phase_started = started;
        let opts = self.options().clone();
        loop {
            let seen = self.control.wake.epoch();
            // Read before draining: the capture thread posts its last message before it marks
            // itself exited, so an exit seen here has all its messages in the drain below.
            let exited = session.link.exited();
            let mut end: Option<Outcome> = None;
            for message in session.link.take_messages() {
                match message {
                    Message::Opened(props) => {
                        phase = Phase::AwaitingFirstFrame;
                        phase_started = self.shared.clock.now();
                        self.connected(props, generation);
                    }
                    Message::FirstFrame(props) => {
                        phase = Phase::Streaming;
                        self.failures = 0;
                        self.backoff_step = 0;
                        self.emit(Event::FirstFrame {
                            width: props.width,
                            height: props.height,
                            after: self.shared.clock.now().saturating_duration_since(started),
                        });
                        self.size_known(props);
                    }
                    Message::Resized(props) => self.size_known(props),
                    Message::Failed(error) => {
                        let stalled =
                            error.kind() == ErrorKind::Timeout && matches!(phase, Phase::Streaming);
                        if stalled {
                            self.stalled();
                        }
                        end = Some(Outcome::Failed {
                            error: Arc::new(error),
                            reached: phase.reached(),
                        });
                    }
                    Message::EndOfStream => end = Some(Outcome::EndOfStream),
                }
            }
            for notice in session.ctx.take_notices() {
                log::warn!(
                    target: LOG_TARGET,
                    "stream {}: {notice:?}",
                    self.shared.request.source()
                );
                self.emit(Event::Notice(notice));
            }
            if let Some(end) = end {
                self.end_capture(&mut session, opts.cancel_grace);
                return end;
            }
            if exited {
                // The capture thread ended without a word.
                self.end_capture(&mut session, opts.cancel_grace);
                return Outcome::Failed {
                    error: Arc::new(Error::core(
                        ErrorKind::Other,
                        "the capture thread ended without a reason",
                    )),
                    reached: phase.reached(),
                };
            }
            if self.control.stop_requested() {
                self.end_capture(&mut session, opts.stop_timeout / 2);
                return Outcome::Stopped;
            }
            let now = self.shared.clock.now();
            let (deadline, what) = match phase {
                Phase::Opening => (phase_started + opts.open_timeout, "open"),
                Phase::AwaitingFirstFrame => {
                    (phase_started + opts.first_frame_timeout, "first frame")
                }
                Phase::Streaming => (
                    self.shared.last_frame_at().unwrap_or(phase_started) + opts.stall_timeout,
                    "next frame",
                ),
            };
            if now >= deadline {
                if matches!(phase, Phase::Streaming) {
                    self.stalled();
                }
                let waited = match phase {
                    Phase::Opening => opts.open_timeout,
                    Phase::AwaitingFirstFrame => opts.first_frame_timeout,
                    Phase::Streaming => opts.stall_timeout,
                };
                self.end_capture(&mut session, opts.cancel_grace);
                return Outcome::Failed {
                    error: Arc::new(Error::core(
                        ErrorKind::Timeout,
                        format!("no {what} within {waited:?}"),
                    )),
                    reached: phase.reached(),
                };
            }
            self.shared
                .clock
                .sleep_until(deadline, &self.control.wake, seen);
        }
    }

    fn spawn_capture(&self, generation: u64) -> Result<Session, Error> {
        let ctx = CaptureContext::for_session(
            Arc::clone(&self.shared.clock),
            self.shared.backend,
            self.control.wake.clone(),
            Arc::clone(&self.shared.decode_errors),
        );
        let link = Arc::new(capture::Link::new(self.control.wake.clone()));
        let track = self.shared.threads.track();
        self.shared
            .slot
            .activate_session(self.control.run, generation);
        let handle = {
            let (ctx, link, track) = (ctx.clone(), Arc::clone(&link), Arc::clone(&track));
            let shared = Arc::clone(&self.shared);
            let config = self.config.clone();
            let run = self.control.run;
            std::thread::Builder::new()
                .name("rtsp-stream-capture".into())
                .spawn(move || {
                    let _exit = shared.threads.enter(&track);
                    capture::run::<B>(&shared, &config, &ctx, &link, run, generation);
                })
                .map_err(|e| {
                    Error::core(ErrorKind::Other, "could not spawn a capture thread").with_source(e)
                })?
        };
        Ok(Session {
            ctx,
            link,
            handle: Some(handle),
            track,
        })
    }

    /// Cancels the connection and waits up to `grace` (real time) for its thread; a thread
    /// that does not return in time is detached, and muted by ending its session in the slot.
    fn end_capture(&self, session: &mut Session, grace: Duration) {
        session.ctx.cancel();
        let stop_grace = self.options().stop_timeout / 2;
        let mut deadline = Instant::now() + grace;
        loop {
            let seen = self.control.wake.epoch();
            if session.link.exited() {
                break;
            }
            if self.control.stop_requested() {
                deadline = deadline.min(Instant::now() + stop_grace);
            }
            if !self.control.wake.wait_real(seen, Some(deadline)) && Instant::now() >= deadline {
                break;
            }
        }
        self.shared.slot.end_session(self.control.run);
        let handle = session.handle.take();
        if session.link.exited() {
            if let Some(h) = handle {
                let _ = h.join();
            }
        } else {
            self.shared.threads.mark_detached(&session.track);
            log::warn!(
                target: LOG_TARGET,
                "stream {}: backend did not return within {:?} of cancellation; its thread is left behind muted",
                self.shared.request.source(),
                grace.min(deadline.saturating_duration_since(Instant::now()) + grace)
            );
        }
    }

    fn connected(&self, props: StreamProps, generation: u64) {
        log::info!(
            target: LOG_TARGET,
            "stream {}: connected ({}x{}, {} fps, codec {})",
            self.shared.request.source(),
            props.width,
            props.height,
            props.fps.map_or_else(|| "?".to_owned(), |f| format!("{f:.2}")),
            props.codec.as_deref().unwrap_or("?"),
        );
        // The capture thread already set the state and the props, before its first frame
        // could be read; it alone writes the props, and may be on newer ones by now.
        self.emit(Event::Connected { props, generation });
        self.call_all(&self.shared.callbacks.on_connect);
    }

    /// Records the frame size now known; a size that differs from the last one known (in
    /// this connection or an earlier one) is a resolution change.
    fn size_known(&mut self, props: StreamProps) {
        let size = (props.width, props.height);
        let previous = self.last_size.replace(size);
        let changed = previous.is_some_and(|p| p != size);
        if !changed {
            return;
        }
        log::info!(
            target: LOG_TARGET,
            "stream {}: resolution changed to {}x{}",
            self.shared.request.source(),
            props.width,
            props.height
        );
        self.emit(Event::ResolutionChanged { props });
    }

    fn stalled(&self) {
        let after = self
            .shared
            .last_frame_at()
            .map_or(self.options().stall_timeout, |t| {
                self.shared.clock.now().saturating_duration_since(t)
            });
        log::warn!(
            target: LOG_TARGET,
            "stream {}: no frame for {after:?}, dropping the connection",
            self.shared.request.source()
        );
        self.set_state(State::Stalled);
        self.emit(Event::Stalled { after });
    }

    /// Books the end of a connection: failure count, slot, state, events, `on_disconnect`.
    fn disconnected(&mut self, error: &Arc<Error>, reached: Reached) {
        self.shared.set_last_error(Arc::clone(error));
        self.shared.slot.clear(self.control.run);
        let source = self.shared.request.source();
        // A connection that opened but never delivered a frame is a failed attempt too: a
        // camera that accepts and drops at once is backed off, not hammered.
        if reached != Reached::Frames {
            self.failures += 1;
        }
        self.set_state(State::Disconnected);
        if reached == Reached::Nothing {
            log::warn!(
                target: LOG_TARGET,
                "stream {source}: connection attempt failed ({} in a row): {error}",
                self.failures
            );
            return;
        }
        log::warn!(target: LOG_TARGET, "stream {source}: disconnected: {error}");
        let reason = if error.kind() == ErrorKind::Timeout {
            DisconnectReason::Stalled
        } else {
            DisconnectReason::Error(Arc::clone(error))
        };
        self.emit(Event::Disconnected { reason });
        self.call_all(&self.shared.callbacks.on_disconnect);
    }

    /// Waits the next back-off delay. Returns false if stopped meanwhile.
    fn back_off(&mut self) -> bool {
        let unit = self.jitter.next_unit();
        let delay = backoff::delay(self.options(), self.backoff_step, unit);
        self.backoff_step = self.backoff_step.saturating_add(1);
        log::info!(
            target: LOG_TARGET,
            "stream {}: reconnecting in {delay:?} ({} consecutive failure(s))",
            self.shared.request.source(),
            self.failures
        );
        self.set_state(State::BackingOff);
        self.emit(Event::BackingOff {
            failures: self.failures,
            delay,
        });
        let deadline = self.shared.clock.now() + delay;
        loop {
            let seen = self.control.wake.epoch();
            if self.control.stop_requested() {
                return false;
            }
            if self.shared.clock.now() >= deadline {
                return true;
            }
            self.shared
                .clock
                .sleep_until(deadline, &self.control.wake, seen);
        }
    }

    fn set_state(&self, state: State) {
        self.shared
            .slot
            .if_active(self.control.run, || self.shared.set_state_unchecked(state));
    }

    fn emit(&self, event: Event) {
        if !self.shared.slot.is_active(self.control.run) {
            return;
        }
        for callback in &self.shared.callbacks.on_event {
            guarded("on_event", || callback(&event));
        }
    }

    fn call_all(&self, callbacks: &[Callback]) {
        for callback in callbacks {
            if !self.shared.slot.is_active(self.control.run) {
                return;
            }
            guarded("callback", || callback());
        }
    }
}

/// Runs a user callback; a panic is logged and swallowed so the stream keeps running.
fn guarded(what: &str, f: impl FnOnce()) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".into());
        log::error!(target: LOG_TARGET, "{what} panicked: {message}; the stream keeps running");
    }
}
