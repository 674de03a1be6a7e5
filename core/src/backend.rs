//! The contract between the stream and a decoder.

use crate::context::CaptureContext;
use crate::description::Description;
use crate::error::Result;
use crate::frame::{FrameSink, StreamProps};
use crate::redact::SourceUrl;
use crate::request::OpenRequest;

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
/// short `try_pull_sample` slices for GStreamer, open-time timeouts for OpenCV; between the
/// steps of a loop, [`CaptureContext::checkpoint`]. Whatever error a call returns because of
/// the context, the core decides once what it was (cancelled by the stream, or the deadline
/// passed: a timeout, or a stall while streaming): backends need not tell, and should not
/// guess from the decoder's error code.
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
/// Map every failure to an [`Error`] of the right [`ErrorKind`] — a backend keeps a private
/// error type and maps it with one `From` impl through [`Error::from_backend`], keeping the
/// decoder library's error as the source (see [`BackendError`]). The reconnect loop retries
/// only when [`Error::is_transient`] is true. Connection refused or reset, end of a network
/// stream, timeouts, an unplugged or busy device are transient; a malformed source, an
/// unsupported scheme or codec, an unknown path, a refused transport are permanent;
/// [`ErrorKind::Authentication`] is its own kind and is not retried. Messages may contain the
/// URL: the core scrubs credentials from them before anything is stored or printed.
///
/// [`Error`]: crate::Error
/// [`ErrorKind`]: crate::ErrorKind
/// [`Error::is_transient`]: crate::Error::is_transient
/// [`Error::from_backend`]: crate::Error::from_backend
/// [`ErrorKind::Authentication`]: crate::ErrorKind::Authentication
/// [`StreamOptions::cancel_grace`]: crate::StreamOptions::cancel_grace
/// [`BackendError`]: crate::raw::BackendError
pub trait CaptureBackend: Send + Sync + 'static {
    /// Settings specific to this backend. Everything backend-neutral (source, credentials,
    /// transport, pixel format, deadlines, buffer size) is in the [`OpenRequest`].
    type Config: Clone + Send + Sync + 'static;

    /// A live connection, owned by the capture thread.
    type Capture: Capture;

    /// Short lower-case name (`"ffmpeg"`, `"gstreamer"` …), used in errors and logs.
    const NAME: &'static str;

    /// The name of the backend that `config` runs: [`NAME`](Self::NAME), except for backends
    /// that choose among others at run time.
    fn name(config: &Self::Config) -> &'static str {
        let _ = config;
        Self::NAME
    }

    /// What this backend opens and can do when run with `config` (see [`Description`]),
    /// declared by the backend itself: the facade's automatic choice and the conformance
    /// suite read it, so nothing else has to know the backend.
    fn describe(config: &Self::Config) -> Description;

    /// The configuration a stream of `source` runs, decided once when the stream is built:
    /// for backends that choose among others at run time (`AnyBackend` reads its environment
    /// variable and picks a decoder here). An error is permanent and is what `start()`
    /// returns. The default runs `config` as it is.
    fn resolve(config: &Self::Config, source: &SourceUrl) -> Result<Self::Config> {
        let _ = source;
        Ok(config.clone())
    }

    /// Opens `request.source()` and returns once the stream is ready to read (its parameters
    /// known, or at least the connection established). Called on the capture thread; must
    /// honour `ctx` (see the trait docs). The request's
    /// [`options`](OpenRequest::options) carry the deadlines for backends that can only set
    /// timeouts when opening.
    fn open(
        config: &Self::Config,
        request: &OpenRequest,
        ctx: &CaptureContext,
    ) -> Result<Self::Capture>;
}

/// What [`Capture::read`] produced.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStatus {
    /// A frame was written into the sink.
    Frame,
    /// The source ended normally (the end of a file). The stream finishes without retrying.
    /// A network stream that ends is a transient
    /// [`ErrorKind::ConnectionLost`](crate::ErrorKind::ConnectionLost) instead.
    EndOfStream,
}

/// A live connection, used only on the capture thread that opened it.
pub trait Capture {
    /// Decodes the next frame into `sink`, converting it to
    /// [`sink.pixel_format()`](FrameSink::pixel_format). Blocks until a frame is decoded, the
    /// source fails, or `ctx` says to stop. Frames the decoder could not decode are skipped
    /// (reported through [`CaptureContext::report_decode_error`]); only a failure of the
    /// source is an error.
    fn read(&mut self, sink: &mut FrameSink<'_>, ctx: &CaptureContext) -> Result<ReadStatus>;

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
