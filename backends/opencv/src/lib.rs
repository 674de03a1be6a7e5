//! OpenCV backend of `rtsp-stream`: `cv::VideoCapture` (module videoio) with the API
//! preference of your choice, frames converted by imgproc straight into the buffer the stream
//! lends.
//!
//! What OpenCV 4.6 honours, measured against a port that accepts and never answers:
//! - `CAP_PROP_OPEN_TIMEOUT_MSEC` and `CAP_PROP_READ_TIMEOUT_MSEC` work only as *open
//!   parameters* and only with the FFmpeg API (`CAP_FFMPEG`): an open fails after the open
//!   timeout, a stalled read returns after the read timeout (both 30 s by default). This
//!   backend passes the stream's open timeout and stall timeout there. That is why the
//!   automatic API choice is FFmpeg for URLs and files.
//! - `CAP_PROP_BUFFERSIZE` (the stream's buffer-size hint, the Python package's
//!   `cap_buffer_size`) is set after opening; the FFmpeg API ignores it (it keeps no frame
//!   queue), V4L2 devices honour it.
//! - OpenCV cannot be interrupted from another thread. `stop()` still returns within the
//!   stream's stop timeout: a capture thread blocked inside OpenCV is left behind, muted, and
//!   ends when OpenCV's own timeout returns (at most the open timeout while opening, the stall
//!   timeout while reading).
//! - OpenCV says *that* an open failed, never why. This backend tells a refused connection
//!   (it probes the port) and a missing file apart; a wrong password, an unknown path or a
//!   refused transport all surface as one transient "could not open" error, retried with
//!   back-off until `max_reconnect_attempts`.
//! - RTSP transport: OpenCV's FFmpeg reader asks for TCP and falls back to UDP by itself
//!   (`rtsp_flags=prefer_tcp`), without telling, unless the process-wide environment variable
//!   `OPENCV_FFMPEG_CAPTURE_OPTIONS` pins `rtsp_transport`. The default transport works
//!   either way; an explicit one the process does not pin is a clear
//!   [`ErrorKind::Unsupported`] error. This backend never changes the process environment.
//! - Some RTSP streams report 0 or 90000 fps; outside 1–120 the fps is "unknown".
//! - FFmpeg inside OpenCV would print its own log lines to standard error, unscrubbed: they go
//!   through the process's one owner of FFmpeg's log (the crate `rtsp-stream-ffmpeg-log`) to
//!   the `log` crate, credentials removed.
//!
//! [`ErrorKind::Unsupported`]: rtsp_stream_core::ErrorKind::Unsupported
// Unsafe code here: a `Mat` header over a frame's bytes.
#![allow(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod capture;
mod error;
mod ffmpeg_logs;
mod mat;
mod open;

pub use mat::FrameAsMat;

/// OpenCV's videoio API identifiers (`CAP_ANY`, `CAP_FFMPEG`, `CAP_GSTREAMER`, `CAP_V4L2` …)
/// for [`OpencvConfig::api_preference`].
pub use opencv::videoio::{CAP_ANY, CAP_FFMPEG, CAP_GSTREAMER, CAP_V4L2};

/// The OpenCV backend. See the crate docs.
#[derive(Debug, Clone, Copy)]
pub struct OpencvBackend;

/// Settings specific to OpenCV. Everything backend-neutral (deadlines, pixel format, buffer
/// size) comes from the stream's options.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct OpencvConfig {
    /// The videoio API (the Python package's `cap_backend`): one of the `CAP_*` constants.
    /// `None` (default) chooses `CAP_FFMPEG` for URLs and files, the only API that honours
    /// the open and read timeouts, and `CAP_ANY` for device indices and `/dev/video*` paths.
    pub api_preference: Option<i32>,
    /// Deliver files at their own frame rate, like a live source (default true). Without it a
    /// file is decoded as fast as possible.
    pub pace_files: bool,
}

impl Default for OpencvConfig {
    fn default() -> Self {
        OpencvConfig {
            api_preference: None,
            pace_files: true,
        }
    }
}

const NAME: &str = "opencv";
const LOG_TARGET: &str = "rtsp_stream::opencv";
