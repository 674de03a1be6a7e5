//! The contract between the stream and a decoder.

use crate::clock::Clock;
use crate::error::{Error, ErrorKind};
use crate::frame::{FrameSink, StreamProps};
use crate::memory::StreamMemory;
use crate::options::{StreamOptions, Transport};
use crate::redact::{Credentials, SourceUrl};
use crate::wake::WakeSignal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A decoder that [`VideoStream`](crate::VideoStream) can run.
///
/// # Threads
///
/// The stream runs every connection on a *capture thread* of its own. That thread calls
/// [`open`](CaptureBackend::open), then [`Capture::read`] in a loop, then
/// [`Capture::close`]; the capture never leaves it, so it needs neither `Send` nor `Sync`
/// (and no backend needs `unsafe impl Send`). Only the configuration crosses threads.
///
/// # Blocking and cancellation
///
/// `open` and `read` may block, but should return soon after the [`CaptureContext`] says so:
/// [`CaptureContext::should_stop`] turns true when the stream is stopped or the current
/// deadline (open, first frame, or stall deadline, moved by the core after every frame)
/// passes. Wire it into the decoder's native mechanism: FFmpeg's interrupt callback (which
/// lives as long as the input, hence a deadline the core moves rather than a fixed one),
/// short `try_pull_sample` slices for GStreamer, open-time timeouts for OpenCV. When a call
/// returns because of the context, return an error of kind [`ErrorKind::Timeout`] or
/// [`ErrorKind::Cancelled`]; the core knows which it was and does not rely on the kind.
///
/// The stream never depends on `read` returning: a separate supervising thread watches the
/// deadlines, and a capture thread that ignores cancellation for longer than
/// [`StreamOptions::cancel_grace`] (or `stop_timeout` on `stop()`) is detached and muted, its
/// capture dropped whenever the blocked call returns. Backends that cannot be interrupted
/// (nokhwa, some OpenCV paths) are therefore still safe, at the price of a thread that lives
/// until their call returns.
///
/// # Errors
///
/// Map every failure to an [`Error`] of the right [`ErrorKind`]: the reconnect loop retries
/// only when [`Error::is_transient`] is true. Connection refused or reset, end of a network
/// stream, timeouts, an unplugged or busy device are transient; a malformed source, an
/// unsupported scheme or codec, an unknown path, a refused transport are permanent;
/// [`ErrorKind::Authentication`] is its own kind and is not retried. Messages may contain the
/// URL: the core scrubs credentials from them before anything is stored or printed.
pub trait CaptureBackend: Send + Sync + 'static {
    /// Settings specific to this backend. Everything backend-neutral (source, credentials,
    /// transport, pixel format, deadlines, buffer size) is in the [`OpenRequest`].
    type Config: Clone + Send + Sync + 'static;

    /// A live connection, owned by the capture thread.
    type Capture: Capture;

    /// Short lower-case name (`"ffmpeg"`, `"gstreamer"` …), used in errors and logs.
    fn name(config: &Self::Config) -> &'static str;

    /// Opens `request.source()` and returns once the stream is ready to read (its parameters
    /// known, or at least the connection established). Called on the capture thread; must
    /// honour `ctx` (see the trait docs). The request's
    /// [`options`](OpenRequest::options) carry the deadlines for backends that can only set
    /// timeouts when opening.
    fn open(
        config: &Self::Config,
        request: &OpenRequest,
        ctx: &CaptureContext,
    ) -> Result<Self::Capture, Error>;
}

/// What [`Capture::read`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStatus {
    /// A frame was written into the sink.
    Frame,
    /// The source ended normally (the end of a file). The stream finishes without retrying.
    /// A network stream that ends is a transient [`ErrorKind::ConnectionLost`] instead.
    EndOfStream,
}

/// A live connection, used only on the capture thread that opened it.
pub trait Capture {
    /// Decodes the next frame into `sink`, converting it to
    /// [`sink.pixel_format()`](FrameSink::pixel_format). Blocks until a frame is decoded, the
    /// source fails, or `ctx` says to stop. Frames the decoder could not decode are skipped
    /// (reported through [`CaptureContext::report_decode_error`]); only a failure of the
    /// source is an error.
    fn read(&mut self, sink: &mut FrameSink<'_>, ctx: &CaptureContext)
    -> Result<ReadStatus, Error>;

    /// What is known about the stream now. Called after `open` and again whenever the frame
    /// size changes, so it must reflect the current picture.
    fn props(&self) -> StreamProps;

    /// Releases the connection. Called once, on the capture thread, also after an error or a
    /// cancellation. The default drops nothing and returns; backends with an orderly shutdown
    /// (an RTSP TEARDOWN, a pipeline to NULL) do it here, bounded by `ctx`.
    fn close(&mut self, ctx: &CaptureContext) {
        let _ = ctx;
    }
}

/// Everything backend-neutral that [`CaptureBackend::open`] needs.
#[derive(Debug, Clone)]
pub struct OpenRequest {
    pub(crate) source: SourceUrl,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) options: StreamOptions,
    /// Shared by clones: one memory per stream.
    memory: Arc<StreamMemory>,
}

impl OpenRequest {
    /// A request for `source` with the given options (for driving a backend directly, e.g.
    /// in its own tests).
    pub fn new(
        source: impl Into<SourceUrl>,
        credentials: Option<Credentials>,
        options: StreamOptions,
    ) -> Self {
        let mut source = source.into();
        if let Some(c) = &credentials {
            source.add_secret(c.password.expose());
        }
        OpenRequest {
            source,
            credentials,
            options,
            memory: Arc::default(),
        }
    }

    /// What the backend remembers across this stream's connections (see [`StreamMemory`]).
    pub fn memory(&self) -> &StreamMemory {
        &self.memory
    }

    /// The source as given (its printable form is redacted).
    pub fn source(&self) -> &SourceUrl {
        &self.source
    }

    /// Credentials given apart from the URL, or else those inside the URL.
    pub fn credentials(&self) -> Option<Credentials> {
        self.credentials
            .clone()
            .or_else(|| self.source.credentials())
    }

    /// The URL with the effective credentials inside it, for decoders that only take them that
    /// way. Never log it.
    pub fn url_with_credentials(&self) -> String {
        match &self.credentials {
            Some(c) => self.source.with_credentials(c),
            None => self.source.expose().to_owned(),
        }
    }

    /// Deadlines, transport, pixel format and the other backend-neutral options.
    pub fn options(&self) -> &StreamOptions {
        &self.options
    }

    /// The requested transport.
    pub fn transport(&self) -> Transport {
        self.options.transport
    }

    /// Removes the request's secrets (URL password, separate password, secret query values)
    /// and any URL user-info from `text`.
    pub fn redact(&self, text: &str) -> String {
        self.source.redact(text)
    }
}

/// Something a backend tells the application while a connection is up.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The server refused `from` (e.g. RTSP 461 for TCP) and the backend is using `to`.
    TransportFallback {
        /// The transport that was refused.
        from: Transport,
        /// The one in use now.
        to: Transport,
    },
}

/// The capture thread's link to the stream: cancellation, the current deadline, and a way to
/// report notices and decode errors. Cheap to clone (a backend may keep a clone, e.g. inside
/// FFmpeg's interrupt callback); every clone sees the same flag and deadline.
#[derive(Clone)]
pub struct CaptureContext {
    inner: Arc<ContextInner>,
}

struct ContextInner {
    cancelled: AtomicBool,
    /// Nanoseconds after `epoch`; `u64::MAX` means no deadline.
    deadline: AtomicU64,
    epoch: Instant,
    clock: Arc<dyn Clock>,
    wake: WakeSignal,
    /// The stream's supervisor, woken by notices.
    supervisor: WakeSignal,
    decode_errors: Arc<AtomicU64>,
    notices: Mutex<Vec<Notice>>,
    backend: &'static str,
}

impl std::fmt::Debug for CaptureContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureContext")
            .field("cancelled", &self.is_cancelled())
            .field("remaining", &self.remaining())
            .finish()
    }
}

impl CaptureContext {
    /// A context on `clock` with no deadline, not cancelled (for driving a backend directly).
    pub fn new(clock: Arc<dyn Clock>, backend: &'static str) -> Self {
        Self::for_session(
            clock,
            backend,
            WakeSignal::new(),
            Arc::new(AtomicU64::new(0)),
        )
    }

    pub(crate) fn for_session(
        clock: Arc<dyn Clock>,
        backend: &'static str,
        supervisor: WakeSignal,
        decode_errors: Arc<AtomicU64>,
    ) -> Self {
        let epoch = clock.now();
        CaptureContext {
            inner: Arc::new(ContextInner {
                cancelled: AtomicBool::new(false),
                deadline: AtomicU64::new(u64::MAX),
                epoch,
                clock,
                wake: WakeSignal::new(),
                supervisor,
                decode_errors,
                notices: Mutex::new(Vec::new()),
                backend,
            }),
        }
    }

    /// True once the stream has cancelled this connection or the current deadline passed.
    /// Cheap enough to call from an interrupt callback thousands of times a second.
    pub fn should_stop(&self) -> bool {
        self.is_cancelled() || self.deadline_passed()
    }

    /// True once the stream cancelled this connection (stop, or the watchdog gave up on it).
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }

    /// True once the current deadline has passed.
    pub fn deadline_passed(&self) -> bool {
        match self.deadline() {
            Some(deadline) => self.inner.clock.now() >= deadline,
            None => false,
        }
    }

    /// The current deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        match self.inner.deadline.load(Ordering::Acquire) {
            u64::MAX => None,
            nanos => Some(self.inner.epoch + Duration::from_nanos(nanos)),
        }
    }

    /// Time left until the deadline (zero once passed), `None` without a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline()
            .map(|d| d.saturating_duration_since(self.inner.clock.now()))
    }

    /// The clock the stream runs on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Waits up to `timeout` of real time, returning early (with `false`) if the connection
    /// is cancelled. For backends that pace or poll.
    pub fn sleep(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            let seen = self.inner.wake.epoch();
            if self.is_cancelled() {
                return false;
            }
            if !self.inner.wake.wait_real(seen, Some(until)) {
                return !self.is_cancelled();
            }
        }
    }

    /// Blocks until the connection is cancelled, however long that takes.
    pub fn wait_cancelled(&self) {
        loop {
            let seen = self.inner.wake.epoch();
            if self.is_cancelled() {
                return;
            }
            self.inner.wake.wait_real(seen, None);
        }
    }

    /// An error of kind [`ErrorKind::Timeout`] or [`ErrorKind::Cancelled`], whichever applies,
    /// for a backend whose blocking call returned because of this context.
    pub fn interrupted_error(&self, what: &str) -> Error {
        let kind = if self.is_cancelled() {
            ErrorKind::Cancelled
        } else {
            ErrorKind::Timeout
        };
        Error::new(kind, self.inner.backend, what)
    }

    /// Reports a notice (e.g. a transport fallback); the stream turns it into an event.
    pub fn notify(&self, notice: Notice) {
        self.inner
            .notices
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(notice);
        self.inner.supervisor.wake();
    }

    /// Counts a frame the decoder could not decode (shows in the stream's stats).
    pub fn report_decode_error(&self) {
        self.inner.decode_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_deadline_in(&self, from_now: Duration) {
        let at = self.inner.clock.now() + from_now;
        let nanos = at.saturating_duration_since(self.inner.epoch).as_nanos();
        self.inner
            .deadline
            .store(nanos.min(u64::MAX as u128 - 1) as u64, Ordering::Release);
    }

    /// Blocks until `done` returns true (`true`) or the connection is cancelled (`false`).
    /// `done` is checked again after every [`nudge`](Self::nudge) and cancellation.
    pub(crate) fn wait_until(&self, mut done: impl FnMut() -> bool) -> bool {
        loop {
            let seen = self.inner.wake.epoch();
            if self.is_cancelled() {
                return false;
            }
            if done() {
                return true;
            }
            self.inner.wake.wait_real(seen, None);
        }
    }

    /// Wakes whatever waits in [`wait_until`](Self::wait_until) to check its condition again.
    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    pub(crate) fn nudge(&self) {
        self.inner.wake.wake();
    }

    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    pub(crate) fn same_as(&self, other: &CaptureContext) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Release);
        self.inner.wake.wake();
    }

    pub(crate) fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(
            &mut *self
                .inner
                .notices
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Decode errors reported so far (on this stream, when run by one).
    pub fn decode_errors(&self) -> u64 {
        self.inner.decode_errors.load(Ordering::Relaxed)
    }
}
