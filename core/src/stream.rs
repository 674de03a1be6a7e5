//! The public face: `VideoStream`, its builder and its stop handle.

use crate::backend::CaptureBackend;
use crate::clock::{Clock, SystemClock};
use crate::decode_mode::DecodeMode;
use crate::error::Error;
use crate::event::Event;
use crate::frame::{Frame, PixelFormat, StreamProps};
use crate::options::StreamOptions;
use crate::redact::{Credentials, SourceUrl};
use crate::request::OpenRequest;
use crate::stats::{State, Stats};
use crate::transport::Transport;
use crate::waiting::{
    Completion, EndReason, EventStream, FrameStream, Frames, NextFrame, StopFuture, WaitError,
};
use crate::worker::{Callbacks, Runner, Shared};
use std::marker::PhantomData;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Builds a [`VideoStream`]: every option of the Python `VideoStream(...)` plus deadlines,
/// jitter, pixel format, transport, events and the clock.
///
/// `Clone`: configure one template, then clone it per camera (callbacks are shared, not
/// copied).
#[must_use = "a builder does nothing until build() or start()"]
pub struct VideoStreamBuilder<B: CaptureBackend> {
    source: SourceUrl,
    pub(crate) name: Option<String>,
    credentials: Option<Credentials>,
    config: B::Config,
    pub(crate) options: StreamOptions,
    clock: Arc<dyn Clock>,
    callbacks: Callbacks,
}

impl<B: CaptureBackend> Clone for VideoStreamBuilder<B> {
    fn clone(&self) -> Self {
        VideoStreamBuilder {
            source: self.source.clone(),
            name: self.name.clone(),
            credentials: self.credentials.clone(),
            config: self.config.clone(),
            options: self.options.clone(),
            clock: Arc::clone(&self.clock),
            callbacks: self.callbacks.clone(),
        }
    }
}

impl<B: CaptureBackend> std::fmt::Debug for VideoStreamBuilder<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoStreamBuilder")
            .field("source", &self.source)
            .field("name", &self.name)
            .field("backend", &B::NAME)
            .field("credentials", &self.credentials.is_some())
            .field("options", &self.options)
            .field("callbacks", &self.callbacks.len())
            .finish_non_exhaustive()
    }
}

impl<B: CaptureBackend> VideoStreamBuilder<B> {
    /// A builder for `source` run by backend `B` with `config`.
    pub fn new(source: impl Into<SourceUrl>, config: B::Config) -> Self {
        VideoStreamBuilder {
            source: source.into(),
            name: None,
            credentials: None,
            config,
            options: StreamOptions::default(),
            clock: Arc::new(SystemClock),
            callbacks: Callbacks::default(),
        }
    }

    /// Replaces the source: one template builder, cloned per camera with its own URL.
    pub fn source(mut self, source: impl Into<SourceUrl>) -> Self {
        self.source = source.into();
        self
    }

    /// A name for the stream (e.g. `"cam0"`): log lines carry it before the redacted source,
    /// and the stream's threads are called `rs-<name>-sup`, `rs-<name>-cap` (the name cut to
    /// fit the 15 bytes Linux keeps of a thread name).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Replaces the backend's configuration.
    pub fn config(mut self, config: B::Config) -> Self {
        self.config = config;
        self
    }

    /// Credentials given apart from the URL (they take precedence over any inside it).
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::new(username, password));
        self
    }

    /// Wait before the first reconnection attempt (default 1 s).
    pub fn reconnect_delay(mut self, delay: Duration) -> Self {
        self.options.reconnect_delay = delay;
        self
    }

    /// Multiplier of the wait after each consecutive failure (default 1.0; 2.0 gives
    /// 1 s, 2 s, 4 s …).
    pub fn reconnect_backoff(mut self, factor: f64) -> Self {
        self.options.reconnect_backoff = factor;
        self
    }

    /// Cap on the wait between attempts (default 30 s).
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.options.max_reconnect_delay = delay;
        self
    }

    /// Consecutive failed attempts before giving up; `None` (default) retries forever.
    pub fn max_reconnect_attempts(mut self, attempts: impl Into<Option<u32>>) -> Self {
        self.options.max_reconnect_attempts = attempts.into();
        self
    }

    /// Sets every field of the reconnect policy at once (the same as calling
    /// `reconnect_delay`, `reconnect_backoff`, `max_reconnect_delay`,
    /// `max_reconnect_attempts` and `reconnect_jitter`).
    pub fn reconnect_policy(mut self, policy: crate::ReconnectPolicy) -> Self {
        self.options.set_reconnect_policy(policy);
        self
    }

    /// Fraction (0.0–1.0) of each wait randomly taken off, so that many cameras behind one
    /// failed switch do not reconnect in lockstep (default 0).
    pub fn reconnect_jitter(mut self, fraction: f64) -> Self {
        self.options.reconnect_jitter = fraction;
        self
    }

    /// Seed of the jitter's random numbers (default: taken from the clock at start); see
    /// [`StreamOptions::jitter_seed`].
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.options.jitter_seed = Some(seed);
        self
    }

    /// Wait before the first attempt of each start (default 0); see
    /// [`StreamOptions::start_delay`].
    pub fn start_delay(mut self, delay: Duration) -> Self {
        self.options.start_delay = delay;
        self
    }

    /// Deadline for opening the source (default 10 s).
    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.options.open_timeout = timeout;
        self
    }

    /// Deadline for the first frame after opening (default 10 s).
    pub fn first_frame_timeout(mut self, timeout: Duration) -> Self {
        self.options.first_frame_timeout = timeout;
        self
    }

    /// No new frame for this long means the feed dropped (default 5 s).
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.options.stall_timeout = timeout;
        self
    }

    /// Bound on `stop()` and `Drop` (default 100 ms).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.options.stop_timeout = timeout;
        self
    }

    /// How long a cancelled backend may take to return before its thread is detached
    /// (default 1 s).
    pub fn cancel_grace(mut self, grace: Duration) -> Self {
        self.options.cancel_grace = grace;
        self
    }

    /// Pixel format of delivered frames (default BGR8).
    pub fn pixel_format(mut self, format: PixelFormat) -> Self {
        self.options.pixel_format = format;
        self
    }

    /// RTSP transport (default: TCP with automatic fallback to UDP).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.options.transport = transport;
        self
    }

    /// Capture buffer size hint in frames (the Python package's `cap_buffer_size`).
    pub fn buffer_size(mut self, frames: u32) -> Self {
        self.options.buffer_size = Some(frames);
        self
    }

    /// Frames kept for reuse, 2–64 (default 4: the slot's frame, the one being decoded, two
    /// held by the application). See [`StreamOptions::frame_pool`].
    pub fn frame_pool(mut self, frames: usize) -> Self {
        self.options.frame_pool = frames;
        self
    }

    /// Allocate the whole frame pool as soon as the first frame's size is known (default
    /// false). With an eager pool of n, a consumer that holds at most n − 2 frames at a time
    /// causes no allocation in the core's publish path (decoders may allocate on their own).
    pub fn eager_frame_pool(mut self, eager: bool) -> Self {
        self.options.eager_frame_pool = eager;
        self
    }

    /// The largest picture accepted, in pixels (default 4096 × 2160 = 8,847,360). A stream
    /// whose pictures are larger gives up with a permanent error that names the size.
    pub fn max_frame_pixels(mut self, pixels: u64) -> Self {
        self.options.max_frame_pixels = pixels;
        self
    }

    /// Open TLS sources without checking the server's certificate where the backend cannot
    /// check it (default false); see [`StreamOptions::allow_unverified_tls`].
    pub fn allow_unverified_tls(mut self, allow: bool) -> Self {
        self.options.allow_unverified_tls = allow;
        self
    }

    /// How far a sender report may disagree with the camera-time mapping before it counts as
    /// a clock step (default 100 ms); see [`StreamOptions::clock_step_threshold`].
    pub fn clock_step_threshold(mut self, threshold: Duration) -> Self {
        self.options.clock_step_threshold = threshold;
        self
    }

    /// Keeps the frames received within `span` for a group's aligned reads, and enlarges the
    /// frame pool to hold them; see [`StreamOptions::aligned_history`] (500 ms is the usual
    /// value).
    pub fn aligned_history(mut self, span: Duration) -> Self {
        self.options.aligned_history = span;
        self
    }

    /// Asks for aligned reads with the default history,
    /// [`StreamOptions::DEFAULT_ALIGNED_HISTORY`] (500 ms).
    pub fn aligned(self) -> Self {
        self.aligned_history(StreamOptions::DEFAULT_ALIGNED_HISTORY)
    }

    /// Replaces every backend-neutral option at once.
    pub fn options(mut self, options: StreamOptions) -> Self {
        self.options = options;
        self
    }

    /// The clock deadlines and back-off run on (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Called on every connection, with [`Event::Connected`]: once the source is open and its
    /// picture size known (on opening, or with its first frame).
    ///
    /// Callbacks run on the stream's supervising thread, never under a lock; a slow callback
    /// delays the reaction to the next event (frames keep flowing: they are decoded on another
    /// thread). A panicking callback is logged and the stream keeps running.
    pub fn on_connect(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.callbacks.on_connect.push(Arc::new(f));
        self
    }

    /// Called every time a connection announced by `on_connect` ends (the feed dropped,
    /// stalled or failed).
    pub fn on_disconnect(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.callbacks.on_disconnect.push(Arc::new(f));
        self
    }

    /// Called once when the stream gives up: attempts exhausted or a permanent error.
    pub fn on_reconnect_failure(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.callbacks.on_reconnect_failure.push(Arc::new(f));
        self
    }

    /// Called for every [`Event`], before the matching `on_connect` / `on_disconnect` /
    /// `on_reconnect_failure`. Same thread rules as [`on_connect`](Self::on_connect).
    pub fn on_event(mut self, f: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.callbacks.on_event.push(Arc::new(f));
        self
    }

    /// Checks the options and builds the stream, not started. Durations longer than
    /// [`StreamOptions::MAX_DURATION`] (24 h) are taken as that. The backend resolves its
    /// configuration here ([`CaptureBackend::resolve`]: `AnyBackend` picks its decoder); a
    /// configuration that cannot run is the error `start()` returns.
    pub fn build(self) -> Result<VideoStream<B>, Error> {
        let options = self.options.clamped();
        options.validate()?;
        let (config, unusable) = match B::resolve(&self.config, &self.source) {
            Ok(config) => (config, None),
            Err(error) => (self.config, Some(error)),
        };
        if unusable.is_none() {
            B::describe(&config)
                .abilities
                .decode_modes
                .allow(options.decode_mode, B::name(&config))?;
        }
        let request = OpenRequest::new(self.source, self.credentials, options);
        let shared = Arc::new(Shared::new(
            request,
            self.name,
            self.clock,
            self.callbacks,
            B::name(&config),
        ));
        Ok(VideoStream {
            core: Arc::new(Runner::new(shared)),
            config,
            unusable,
            _backend: PhantomData,
        })
    }

    /// What the stream decodes of what its camera sends (default [`DecodeMode::All`]; see
    /// [`DecodeMode`]). A mode the backend cannot run, or a rate that is not finite and above
    /// 0, is the error [`build`](Self::build) returns.
    pub fn decode_mode(mut self, mode: DecodeMode) -> Self {
        self.options.decode_mode = mode;
        self
    }

    /// Builds and starts the stream.
    #[must_use = "dropping the returned VideoStream stops it at once"]
    pub fn start(self) -> Result<VideoStream<B>, Error> {
        let stream = self.build()?;
        stream.start()?;
        Ok(stream)
    }
}

/// A live video source read on a background thread that always holds the newest frame.
///
/// # Threads and blocking
///
/// [`start`](VideoStream::start) spawns a supervising thread that runs the reconnect loop and
/// the callbacks, and one capture thread per connection that opens the backend and decodes.
/// Nothing the application calls waits on the network: [`read`](VideoStream::read) is
/// wait-free, the properties are atomic loads, and [`stop`](VideoStream::stop) returns within
/// `stop_timeout` (100 ms by default) in every state, leaving a backend that ignores
/// cancellation behind on a muted thread. After `stop()` returns no callback fires and no frame
/// is published. A stopped stream (also one that gave up) can be started again; sequence
/// numbers keep growing.
///
/// # Waiting for frames
///
/// [`wait_next`](VideoStream::wait_next) blocks a thread, [`frames`](VideoStream::frames) is a
/// blocking iterator, and [`next_frame`](VideoStream::next_frame),
/// [`frame_stream`](VideoStream::frame_stream), [`events`](VideoStream::events) and
/// [`stop_async`](VideoStream::stop_async) are their async forms (no runtime dependency: any
/// executor). All of them are woken by the publish of a frame and by the end of the stream —
/// `stop()`, giving up, the end of the source — through the same path: no polling, no thread
/// per waiter. A frame still in the slot when the stream ends (the last frames of a file) is
/// returned before the end is reported; `stop()` and a dropped feed empty the slot. Waiting on
/// a stream that is not running (never started, stopped, given up, finished) reports the end at
/// once, with [`end_reason`](VideoStream::end_reason).
///
/// # Reconnecting
///
/// The first connection goes through the same loop as every reconnection, so a source that is
/// down at start is retried too. A connection counts as successful only when its first frame
/// arrives; that resets the back-off delay and the attempt count. Waits grow as
/// `reconnect_delay × reconnect_backoff^n` up to `max_reconnect_delay`. After
/// `max_reconnect_attempts` consecutive failures, or on a permanent error
/// (see [`Error::is_transient`]), the stream gives up and calls `on_reconnect_failure`.
///
/// `VideoStream` is `Sync`: share it behind an `Arc` between threads. Dropping it stops it,
/// which is why an unused one is a warning: `builder(url).start()?;` alone would stop the
/// stream at once.
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn open<B: rtsp_stream_core::CaptureBackend>(
///     builder: rtsp_stream_core::VideoStreamBuilder<B>,
/// ) -> rtsp_stream_core::Result<()> {
///     builder.start()?; // error: unused `VideoStream` that must be used
///     Ok(())
/// }
/// ```
///
/// ```
/// #![deny(unused_must_use)]
/// fn open<B: rtsp_stream_core::CaptureBackend>(
///     builder: rtsp_stream_core::VideoStreamBuilder<B>,
/// ) -> rtsp_stream_core::Result<()> {
///     let _stream = builder.start()?; // kept until the end of the scope
///     Ok(())
/// }
/// ```
#[must_use = "dropping a VideoStream stops it"]
pub struct VideoStream<B: CaptureBackend> {
    pub(crate) core: Arc<Runner>,
    config: B::Config,
    /// Why the configuration cannot run, decided at build time; `start()` returns it.
    unusable: Option<Error>,
    _backend: PhantomData<fn() -> B>,
}

impl<B: CaptureBackend> VideoStream<B>
where
    B::Config: Default,
{
    /// A builder for `source` with the backend's default configuration.
    pub fn builder(source: impl Into<SourceUrl>) -> VideoStreamBuilder<B> {
        VideoStreamBuilder::new(source, B::Config::default())
    }
}

impl<B: CaptureBackend> VideoStream<B> {
    /// A builder for `source` with an explicit backend configuration.
    pub fn builder_with(source: impl Into<SourceUrl>, config: B::Config) -> VideoStreamBuilder<B> {
        VideoStreamBuilder::new(source, config)
    }

    /// Starts the background worker. Fails with [`ErrorKind::AlreadyStarted`](crate::ErrorKind::AlreadyStarted)
    /// if it runs, and with the backend's error if its configuration cannot run (e.g.
    /// `AnyBackend` naming a decoder that is not compiled in).
    pub fn start(&self) -> Result<(), Error> {
        if let Some(error) = &self.unusable {
            return Err(error.clone());
        }
        self.core.start::<B>(self.config.clone())
    }

    /// Switches what the stream decodes, at run time, for this connection and the next ones
    /// (see [`DecodeMode`]). `KeyFrames` applies at the next unit; a switch back to `All`
    /// at the next key frame, reported by
    /// [`Notice::DecodeModeApplied`](crate::Notice::DecodeModeApplied) with the wait. Never
    /// blocks. Errors: [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) for a mode
    /// the backend cannot run (the mode in effect stays),
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) for a rate that is
    /// not finite and above 0.
    pub fn set_decode_mode(&self, mode: DecodeMode) -> Result<(), Error> {
        let mode = B::describe(&self.config)
            .abilities
            .decode_modes
            .allow(mode, B::name(&self.config))?;
        let shared = &self.core.shared;
        shared.counters.decode.mode.set(mode, shared.clock.now());
        Ok(())
    }

    /// Stops the worker and returns within `stop_timeout`, in every state; see
    /// [`StopHandle::stop`]. Stopping a stream that is not running does nothing.
    pub fn stop(&self) {
        self.core.stop();
    }

    /// A handle that can stop this stream from elsewhere, e.g. from inside one of its own
    /// callbacks, without keeping the stream alive.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            core: Arc::downgrade(&self.core),
        }
    }

    /// Whether the worker runs (started, and not stopped, given up or finished).
    pub fn is_running(&self) -> bool {
        self.core.is_running()
    }

    /// The newest frame, without copying pixels; `None` before the first frame and after a
    /// drop until a new frame arrives. Wait-free. May return the same frame again: compare
    /// [`Frame::seq`], or use [`read_new`](Self::read_new).
    pub fn read(&self) -> Option<Arc<Frame>> {
        self.core.shared.slot.read()
    }

    /// The newest frame if its sequence number is greater than `after_seq`: a loop that passes
    /// the last seq it processed never sees a frame twice. Wait-free.
    pub fn read_new(&self, after_seq: u64) -> Option<Arc<Frame>> {
        self.core.shared.slot.read_new(after_seq)
    }

    /// Blocks (without polling) until a frame newer than `after_seq` exists and returns it —
    /// at once if one does, also after the end — until the stream ends
    /// ([`WaitError::Ended`], at once if it has), or until `timeout` of real time passes
    /// ([`WaitError::Timeout`]; the stream still runs).
    ///
    /// ```no_run
    /// # use rtsp_stream_core::{VideoStream, WaitError, CaptureBackend};
    /// # use std::time::Duration;
    /// # fn run<B: CaptureBackend>(stream: &VideoStream<B>) {
    /// let mut seq = 0;
    /// loop {
    ///     match stream.wait_next(seq, Duration::from_secs(10)) {
    ///         Ok(frame) => seq = frame.seq(),
    ///         Err(WaitError::Timeout) => continue, // reconnecting: stream.state() says how
    ///         Err(WaitError::Ended(reason)) => break println!("ended: {reason}"),
    ///         Err(e) => break println!("{e}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn wait_next(&self, after_seq: u64, timeout: Duration) -> Result<Arc<Frame>, WaitError> {
        let deadline = crate::clock::after(std::time::Instant::now(), timeout);
        self.core.shared.slot.wait_next(after_seq, Some(deadline))
    }

    /// The frames as a blocking iterator: each `next` waits for a frame newer than the last one
    /// (starting with the one in the slot, if any); it ends when the stream ends, and
    /// [`Frames::end_reason`] says why. It does not keep the stream alive.
    pub fn frames(&self) -> Frames {
        Frames::new(self.core.shared.clone())
    }

    /// Why the stream is not running: `None` while it runs, `Some(Stopped)` before the first
    /// `start()` and after `stop()`, `Some(GaveUp(error))` or `Some(Finished)` after it ended by
    /// itself (until the next `start()`).
    pub fn end_reason(&self) -> Option<EndReason> {
        self.core.shared.slot.end_reason()
    }

    /// The first frame newer than `after_seq`, as a future: at once if there is one (also after
    /// the end), else when one is published, or `Err(reason)` when the stream ends. No timeout:
    /// wrap it in the runtime's. It owns what it needs (`'static`, `Send`); dropping it
    /// unregisters its waker.
    pub fn next_frame(&self, after_seq: u64) -> NextFrame {
        NextFrame::new(self.core.shared.clone(), after_seq)
    }

    /// The frames as an async `Stream` ([`futures_core::Stream`]): the async form of
    /// [`frames`](Self::frames), ending with the stream. `'static` and `Send`.
    pub fn frame_stream(&self) -> FrameStream {
        FrameStream::new(self.core.shared.clone())
    }

    /// The stream's events as an async `Stream` of `Result<Event, Lagged>`: the same events
    /// `on_event` receives, at most [`EventStream::CAPACITY`] (256) kept per subscriber — a
    /// consumer that falls further behind gets one `Err(Lagged(n))` instead of an ever-growing
    /// queue. It ends after the last event of the first run that ends once it exists, so
    /// subscribe before `start()` to see every event of a run.
    pub fn events(&self) -> EventStream {
        self.core.shared.subscribers.subscribe()
    }

    /// Requests the stop now and returns a future that resolves once the worker has stopped,
    /// or has been left behind muted when `stop_timeout` passed — the same bound and guarantees
    /// as [`stop`](Self::stop), without blocking the executor. Dropping the future does not
    /// cancel the stop.
    pub fn stop_async(&self) -> StopFuture {
        self.core.stop_async()
    }

    /// Where the stream is in its life.
    pub fn state(&self) -> State {
        self.core.shared.state()
    }

    /// Counters and the last error.
    pub fn stats(&self) -> Stats {
        self.core.shared.stats()
    }

    /// The stream's properties while connected.
    pub fn props(&self) -> Option<StreamProps> {
        self.is_connected()
            .then(|| self.core.shared.props.load_full().map(|p| (*p).clone()))
            .flatten()
    }

    /// Frames per second, the same meaning on every backend: the rate the stream declares
    /// (SDP, container or bitstream timing) where it declares one, else the measured rate
    /// ([`Stats::measured_fps`]); 0 when not connected.
    pub fn fps(&self) -> f64 {
        if !self.is_connected() {
            return 0.0;
        }
        match self.core.shared.props.load().as_ref().and_then(|p| p.fps) {
            Some(fps) => fps,
            None => self.core.shared.measured_fps(),
        }
    }

    /// Width of the current frames; 0 when not connected.
    pub fn frame_width(&self) -> u32 {
        self.props().map_or(0, |p| p.width)
    }

    /// Height of the current frames; 0 when not connected.
    pub fn frame_height(&self) -> u32 {
        self.props().map_or(0, |p| p.height)
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.state() == State::Streaming
    }

    /// Reconnection attempts made so far: every attempt after the first of each run, counted
    /// when it is made — also while the source stays down.
    pub fn reconnect_count(&self) -> u64 {
        self.core.shared.reconnects()
    }

    /// The stream's options, as built (durations capped at
    /// [`StreamOptions::MAX_DURATION`]).
    pub fn options(&self) -> &StreamOptions {
        &self.core.shared.request.options
    }

    /// The source (its printable form is redacted).
    pub fn source(&self) -> &SourceUrl {
        self.core.shared.request.source()
    }

    /// The name given with [`VideoStreamBuilder::name`].
    pub fn name(&self) -> Option<&str> {
        self.core.shared.name.as_deref()
    }

    /// The backend's name.
    pub fn backend_name(&self) -> &'static str {
        self.core.shared.backend
    }
}

impl<B: CaptureBackend> Drop for VideoStream<B> {
    fn drop(&mut self) {
        self.core.stop();
    }
}

impl<B: CaptureBackend> std::fmt::Debug for VideoStream<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoStream")
            .field("source", self.source())
            .field("backend", &self.backend_name())
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Stops a [`VideoStream`] without owning it; does nothing once the stream is dropped.
#[derive(Clone, Debug)]
pub struct StopHandle {
    core: Weak<Runner>,
}

impl StopHandle {
    /// Stops the stream: returns within its `stop_timeout` in every state, also when called
    /// from inside one of the stream's callbacks (the supervising thread then finishes after
    /// the callback returns). After it returns no callback fires and no frame is published.
    pub fn stop(&self) {
        if let Some(core) = self.core.upgrade() {
            core.stop();
        }
    }

    /// [`VideoStream::stop_async`] from a handle: resolves at once if the stream is gone.
    pub fn stop_async(&self) -> StopFuture {
        match self.core.upgrade() {
            Some(core) => core.stop_async(),
            None => StopFuture::new(Arc::new(Completion::finished())),
        }
    }
}
