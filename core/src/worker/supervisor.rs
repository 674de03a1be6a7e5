//! One run's supervising thread: connections, deadlines and the back-off the retry state
//! decides. What it tells the application (events, callbacks, log lines) is in `announce`.

use super::Shared;
use super::capture::Message;
use super::run::RunControl;
use super::session::Session;
use crate::backend::CaptureBackend;
use crate::clock::after;
use crate::error::{Error, ErrorKind};
use crate::event::Notice;
use crate::options::StreamOptions;
use crate::reconnect::{Retry, RetryState};
use crate::stats::State;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How far a connection has come; each phase is watched against its own deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
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

pub(super) enum Ending {
    Stopped,
    Finished,
    GaveUp(Arc<Error>),
}

/// Where one connection is: its phase since when, and whether it still owes `Connected`.
struct Progress {
    started: Instant,
    phase: Phase,
    phase_started: Instant,
    /// The generation of a connection whose picture size was unknown on opening: it is
    /// announced with its first frame, so that `Connected` always carries a size.
    unannounced: Option<u64>,
}

pub(crate) struct Supervisor<B: CaptureBackend> {
    pub(super) shared: Arc<Shared>,
    pub(super) control: Arc<RunControl>,
    config: B::Config,
    pub(super) retry: RetryState,
    /// Attempts in this run (each connection's session number).
    attempts: u64,
    /// Frame size last seen, kept across connections.
    pub(super) last_size: Option<(u32, u32)>,
    /// The current connection sent `Connected` (its size is known): its end is a
    /// `Disconnected`, not just a failed attempt.
    pub(super) announced: bool,
}

impl<B: CaptureBackend> Supervisor<B> {
    pub(crate) fn new(shared: Arc<Shared>, control: Arc<RunControl>, config: B::Config) -> Self {
        let opts = &shared.request.options;
        let seed = match opts.jitter_seed {
            Some(seed) => seed ^ (control.run << 32),
            None => {
                let now = shared.counters.nanos_since_epoch(shared.clock.now());
                now ^ (control.run << 32) ^ 0x9e37
            }
        };
        Supervisor {
            retry: RetryState::new(opts.reconnect_policy(), seed),
            shared,
            control,
            config,
            attempts: 0,
            last_size: None,
            announced: false,
        }
    }

    pub(super) fn options(&self) -> &StreamOptions {
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
            let (error, phase, timed_out) = match self.connect() {
                Outcome::Stopped => break Ending::Stopped,
                Outcome::EndOfStream => break Ending::Finished,
                Outcome::Failed {
                    error,
                    phase,
                    timed_out,
                } => (error, phase, timed_out),
            };
            let succeeded = phase == Phase::Streaming;
            let retry = self.retry.after(&error, succeeded);
            self.disconnected(&error, timed_out);
            match retry {
                Retry::GiveUp => break Ending::GaveUp(error),
                Retry::After(delay) => {
                    if !self.back_off(delay) {
                        break Ending::Stopped;
                    }
                }
            }
        };
        self.finish(ending);
    }

    /// One connection, from the attempt to its end.
    fn connect(&mut self) -> Outcome {
        self.attempts += 1;
        if self.attempts > 1 {
            self.shared
                .counters
                .reconnects
                .fetch_add(1, Ordering::Relaxed);
        }
        self.connecting(self.retry.failures() + 1);
        self.announced = false;
        let started = self.shared.clock.now();
        let session =
            match Session::spawn::<B>(&self.shared, &self.control, &self.config, self.attempts) {
                Ok(s) => s,
                Err(error) => return self.failed(error, Phase::Opening, false),
            };
        let mut progress = Progress {
            started,
            phase: Phase::Opening,
            phase_started: started,
            unannounced: None,
        };
        let opts = self.options().clone();
        let end = loop {
            let seen = self.control.wake.epoch();
            // Read before draining: the capture thread posts its last message before it marks
            // itself exited, so an exit seen here has all its messages in the drain below.
            let exited = session.link.exited();
            if let Some(end) = self.take_messages(&session, &mut progress) {
                break end;
            }
            // Before `exited`: a stop mutes the connection, and its capture thread may end
            // because of that.
            if self.control.stop_requested() {
                session.end(opts.stop_timeout / 2);
                return Outcome::Stopped;
            }
            if exited {
                let error = Error::core(
                    ErrorKind::Other,
                    "the capture thread ended without a reason",
                );
                break self.failed(error, progress.phase, false);
            }
            let (deadline, what, limit) = self.deadline(&progress, &opts);
            if self.shared.clock.now() >= deadline {
                let error = Error::core(ErrorKind::Timeout, format!("no {what} within {limit:?}"));
                break self.failed(error, progress.phase, true);
            }
            self.shared
                .clock
                .sleep_until(deadline, &self.control.wake, seen);
        };
        session.end(opts.cancel_grace);
        end
    }

    /// The one place a phase's deadline is computed; streaming is watched from the newest
    /// frame on, or the newest unit a decode mode left out (the camera is alive).
    fn deadline(&self, progress: &Progress, opts: &StreamOptions) -> (Instant, &str, Duration) {
        let (limit, what) = progress.phase.limit(opts);
        let counters = &self.shared.counters;
        let from = match progress.phase {
            Phase::Streaming => counters
                .last_frame_at()
                .max(counters.decode.alive_at())
                .unwrap_or(progress.phase_started),
            _ => progress.phase_started,
        };
        (after(from, limit), what, limit)
    }

    /// Acts on what the capture thread posted and on the backend's notices; `Some` once the
    /// connection is over.
    fn take_messages(&mut self, session: &Session, progress: &mut Progress) -> Option<Outcome> {
        let (messages, mut merged) = session.link.take_messages();
        let mut end = None;
        for message in messages {
            match message {
                Message::Opened(props, generation) => {
                    progress.phase = Phase::AwaitingFirstFrame;
                    progress.phase_started = self.shared.clock.now();
                    if props.width > 0 && props.height > 0 {
                        self.connected(props, generation);
                    } else {
                        progress.unannounced = Some(generation);
                    }
                }
                Message::FirstFrame(props) => {
                    if let Some(generation) = progress.unannounced.take() {
                        self.connected(props.clone(), generation);
                    }
                    progress.phase = Phase::Streaming;
                    self.retry.succeeded();
                    let after = self
                        .shared
                        .clock
                        .now()
                        .saturating_duration_since(progress.started);
                    self.first_frame(props, after);
                }
                Message::Resized(props) => self.size_known(props),
                Message::Failed {
                    error,
                    deadline_passed,
                } => end = Some(self.failed(error, progress.phase, deadline_passed)),
                Message::EndOfStream => end = Some(Outcome::EndOfStream),
            }
        }
        let (notices, dropped) = session.ctx.take_notices();
        merged += dropped;
        for notice in notices {
            self.notice(notice);
        }
        if merged > 0 {
            self.shared
                .counters
                .coalesced
                .fetch_add(merged, Ordering::Relaxed);
            self.notice(Notice::Lagged { merged });
        }
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

    /// Waits `delay` before the next attempt. Returns false if stopped meanwhile.
    fn back_off(&mut self, delay: Duration) -> bool {
        self.backing_off(delay);
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

    pub(super) fn set_state(&self, state: State) {
        self.shared
            .slot
            .if_active(self.control.run, || self.shared.set_state_unchecked(state));
    }
}
