//! One run's supervising thread: connections, deadlines, back-off, events and callbacks.

use super::Shared;
use super::capture::{self, Link, Message};
use super::control::RunControl;
use super::threads::ThreadTrack;
use crate::LOG_TARGET;
use crate::backend::CaptureBackend;
use crate::backoff::{self, Jitter};
use crate::clock::after;
use crate::context::CaptureContext;
use crate::error::{Error, ErrorKind};
use crate::event::{DisconnectReason, Event};
use crate::frame::StreamProps;
use crate::options::StreamOptions;
use crate::stats::State;
use crate::waiting::EndReason;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How far a connection has come; each phase is watched against its own deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Opening,
    AwaitingFirstFrame,
    Streaming,
}

impl Phase {
    /// The phase's time limit, and what it waits for.
    fn limit(self, opts: &StreamOptions) -> (Duration, &'static str) {
        match self {
            Phase::Opening => (opts.open_timeout, "open"),
            Phase::AwaitingFirstFrame => (opts.first_frame_timeout, "first frame"),
            Phase::Streaming => (opts.stall_timeout, "next frame"),
        }
    }
}

/// How a connection ended.
enum Outcome {
    Stopped,
    EndOfStream,
    Failed {
        error: Arc<Error>,
        phase: Phase,
        /// The phase's deadline passed: no (first) frame in time.
        timed_out: bool,
    },
}

enum Ending {
    Stopped,
    Finished,
    GaveUp(Arc<Error>),
}

/// The supervisor's side of one connection.
struct Session {
    ctx: CaptureContext,
    link: Arc<Link>,
    handle: Option<JoinHandle<()>>,
    track: Arc<ThreadTrack>,
}

pub(crate) struct Supervisor<B: CaptureBackend> {
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
    /// The current connection sent `Connected` (its size is known): its end is a
    /// `Disconnected`, not just a failed attempt.
    announced: bool,
    jitter: Jitter,
}

impl<B: CaptureBackend> Supervisor<B> {
    pub(crate) fn new(shared: Arc<Shared>, control: Arc<RunControl>, config: B::Config) -> Self {
        let seed = match shared.request.options.jitter_seed {
            Some(seed) => seed ^ (control.run << 32),
            None => shared.nanos_since_epoch(shared.clock.now()) ^ (control.run << 32) ^ 0x9e37,
        };
        Supervisor {
            shared,
            control,
            config,
            failures: 0,
            backoff_step: 0,
            attempts: 0,
            last_size: None,
            announced: false,
            jitter: Jitter::new(seed),
        }
    }

    fn options(&self) -> &StreamOptions {
        &self.shared.request.options
    }

    pub(crate) fn run(mut self) {
        let start_delay = self.options().start_delay;
        if !start_delay.is_zero() {
            let deadline = after(self.shared.clock.now(), start_delay);
            if !self.sleep_until(deadline) {
                self.finish(Ending::Stopped);
                return;
            }
        }
        let ending = loop {
            if self.control.stop_requested() {
                break Ending::Stopped;
            }
            match self.connect() {
                Outcome::Stopped => break Ending::Stopped,
                Outcome::EndOfStream => break Ending::Finished,
                Outcome::Failed {
                    error,
                    phase,
                    timed_out,
                } => {
                    self.disconnected(&error, phase, timed_out);
                    let exhausted = self
                        .options()
                        .max_reconnect_attempts
                        .is_some_and(|max| self.failures >= max);
                    if !error.is_transient() || exhausted {
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
        let source = &self.shared.label;
        match ending {
            Ending::Stopped => {
                self.emit(Event::Stopped);
            }
            Ending::Finished => {
                log::info!(target: LOG_TARGET, "stream {source}: end of stream");
                self.set_state(State::Finished);
                self.emit(Event::EndOfStream);
                self.shared.end_run(self.control.run, EndReason::Finished);
            }
            Ending::GaveUp(error) => {
                log::error!(
                    target: LOG_TARGET,
                    "stream {source}: giving up after {} failed attempt(s): {error}",
                    self.failures
                );
                self.set_state(State::GaveUp);
                self.emit(Event::GaveUp {
                    error: Arc::clone(&error),
                });
                // Waiters learn of it before the callbacks run: a slow callback holds up
                // nobody but the supervisor.
                self.shared
                    .end_run(self.control.run, EndReason::GaveUp((*error).clone()));
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
        let attempt = self.failures + 1;
        self.set_state(State::Connecting);
        log::info!(
            target: LOG_TARGET,
            "stream {}: connecting ({}, attempt {attempt})",
            self.shared.label,
            self.shared.backend
        );
        self.emit(Event::Connecting { attempt });
        let started = self.shared.clock.now();
        let mut session = match self.spawn_capture(self.attempts) {
            Ok(s) => s,
            Err(error) => {
                return Outcome::Failed {
                    error: Arc::new(error),
                    phase: Phase::Opening,
                    timed_out: false,
                };
            }
        };
        let mut phase = Phase::Opening;
        let mut phase_started = started;
        self.announced = false;
        // A connection whose picture size is unknown on opening is announced with its first
        // frame, so that `Connected` always carries a size.
        let mut unannounced = None;
        let opts = self.options().clone();
        let end = loop {
            let seen = self.control.wake.epoch();
            // Read before draining: the capture thread posts its last message before it marks
            // itself exited, so an exit seen here has all its messages in the drain below.
            let exited = session.link.exited();
            let mut end = None;
            for message in session.link.take_messages() {
                match message {
                    Message::Opened(props, generation) => {
                        phase = Phase::AwaitingFirstFrame;
                        phase_started = self.shared.clock.now();
                        if props.width > 0 && props.height > 0 {
                            self.connected(props, generation);
                        } else {
                            unannounced = Some(generation);
                        }
                    }
                    Message::FirstFrame(props) => {
                        if let Some(generation) = unannounced.take() {
                            self.connected(props.clone(), generation);
                        }
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
                    Message::Failed {
                        error,
                        deadline_passed,
                    } => {
                        end = Some(self.failed(error, phase, deadline_passed));
                    }
                    Message::EndOfStream => end = Some(Outcome::EndOfStream),
                }
            }
            for notice in session.ctx.take_notices() {
                log::warn!(
                    target: LOG_TARGET,
                    "stream {}: {notice:?}",
                    self.shared.label
                );
                self.emit(Event::Notice(notice));
            }
            if let Some(end) = end {
                break end;
            }
            // Before `exited`: a stop mutes the connection, and its capture thread may end
            // because of that.
            if self.control.stop_requested() {
                self.end_capture(&mut session, opts.stop_timeout / 2);
                return Outcome::Stopped;
            }
            if exited {
                let error = Error::core(
                    ErrorKind::Other,
                    "the capture thread ended without a reason",
                );
                break self.failed(error, phase, false);
            }
            // The one place a phase's deadline is computed; streaming is watched from the
            // newest frame on.
            let (limit, what) = phase.limit(&opts);
            let from = match phase {
                Phase::Streaming => self.shared.last_frame_at().unwrap_or(phase_started),
                _ => phase_started,
            };
            let deadline = after(from, limit);
            if self.shared.clock.now() >= deadline {
                let error = Error::core(ErrorKind::Timeout, format!("no {what} within {limit:?}"));
                break self.failed(error, phase, true);
            }
            self.shared
                .clock
                .sleep_until(deadline, &self.control.wake, seen);
        };
        self.end_capture(&mut session, opts.cancel_grace);
        end
    }

    /// A connection failed in `phase`; a deadline that passed while streaming is a stall.
    fn failed(&self, error: Error, phase: Phase, timed_out: bool) -> Outcome {
        if timed_out && phase == Phase::Streaming {
            self.stalled();
        }
        Outcome::Failed {
            error: Arc::new(error),
            phase,
            timed_out,
        }
    }

    /// Starts connection `session_id` (the attempt's number in this run) on a thread of its
    /// own.
    fn spawn_capture(&self, session_id: u64) -> Result<Session, Error> {
        let ctx = CaptureContext::for_session(
            Arc::clone(&self.shared.clock),
            self.shared.backend,
            self.control.wake.clone(),
            Arc::clone(&self.shared.decode_errors),
        );
        let link = Arc::new(Link::new(self.control.wake.clone()));
        let track = self.shared.threads.track();
        self.shared
            .slot
            .activate_session(self.control.run, session_id);
        let handle = {
            let (ctx, link, track) = (ctx.clone(), Arc::clone(&link), Arc::clone(&track));
            let shared = Arc::clone(&self.shared);
            let config = self.config.clone();
            let run = self.control.run;
            std::thread::Builder::new()
                .name(self.shared.thread_name("cap"))
                .spawn(move || {
                    let _exit = shared.threads.enter(&track);
                    capture::run::<B>(&shared, &config, &ctx, &link, run, session_id);
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

    /// Cancels the connection and waits up to `grace` (real time; less once a stop is
    /// requested) for its thread; a thread that does not return in time is detached, and
    /// muted by ending its session in the slot.
    fn end_capture(&self, session: &mut Session, grace: Duration) {
        session.ctx.cancel();
        let stop_grace = self.options().stop_timeout / 2;
        let mut deadline = after(Instant::now(), grace);
        loop {
            let seen = self.control.wake.epoch();
            if session.link.exited() {
                break;
            }
            if self.control.stop_requested() {
                deadline = deadline.min(after(Instant::now(), stop_grace));
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
                "stream {}: backend did not return within {grace:?} of cancellation; its \
                 thread is left behind muted",
                self.shared.label,
            );
        }
    }

    fn connected(&mut self, props: StreamProps, generation: u64) {
        self.announced = true;
        log::info!(
            target: LOG_TARGET,
            "stream {}: connected ({}x{}, {} fps, codec {})",
            self.shared.label,
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
        if previous.is_none_or(|p| p == size) {
            return;
        }
        log::info!(
            target: LOG_TARGET,
            "stream {}: resolution changed to {}x{}",
            self.shared.label,
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
            self.shared.label
        );
        self.set_state(State::Stalled);
        self.emit(Event::Stalled { after });
    }

    /// Books the end of a connection: failure count, slot, state, events, `on_disconnect`.
    fn disconnected(&mut self, error: &Arc<Error>, phase: Phase, timed_out: bool) {
        self.shared.set_last_error(Arc::clone(error));
        self.shared.slot.clear(self.control.run);
        let source = &self.shared.label;
        // A connection that opened but never delivered a frame is a failed attempt too: a
        // camera that accepts and drops at once is backed off, not hammered.
        if phase != Phase::Streaming {
            self.failures += 1;
        }
        self.set_state(State::Disconnected);
        if !self.announced {
            log::warn!(
                target: LOG_TARGET,
                "stream {source}: connection attempt failed ({} in a row): {error}",
                self.failures
            );
            return;
        }
        log::warn!(target: LOG_TARGET, "stream {source}: disconnected: {error}");
        let reason = if timed_out {
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
            self.shared.label,
            self.failures
        );
        self.set_state(State::BackingOff);
        self.emit(Event::BackingOff {
            failures: self.failures,
            delay,
        });
        let deadline = after(self.shared.clock.now(), delay);
        self.sleep_until(deadline)
    }

    /// Sleeps on the stream's clock until `deadline`. Returns false if stopped meanwhile.
    fn sleep_until(&self, deadline: Instant) -> bool {
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
        // Queued before the callbacks run, so a slow callback does not delay async consumers.
        self.shared.subscribers.publish(&event);
        for callback in &self.shared.callbacks.on_event {
            guarded("on_event", || callback(&event));
        }
    }

    fn call_all(&self, callbacks: &[Arc<dyn Fn() + Send + Sync>]) {
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
