//! Read live video — RTSP/IP cameras, HTTP and file URLs, local webcams — on a background
//! thread that always holds the newest decoded frame and reconnects by itself, with back-off,
//! when the feed drops, stalls or never comes up. The application never blocks on the
//! network.
//!
//! ```no_run
//! # #[cfg(feature = "mock")] {
//! use rtsp_stream::{AnyBackend, VideoStream};
//! use std::time::Duration;
//!
//! let stream = VideoStream::<AnyBackend>::builder("rtsp://user:secret@camera/stream")
//!     .reconnect_delay(Duration::from_secs(1))
//!     .reconnect_backoff(2.0)
//!     .start()?;
//! for frame in stream.frames() {
//!     // frame.data(): BGR8 pixels, frame.width() x frame.height(); never the same frame twice
//! }
//! # }
//! # Ok::<(), rtsp_stream::Error>(())
//! ```
//!
//! Decoders are backends behind cargo features. Choose one statically with
//! `VideoStream<SomeBackend>`, or at run time with [`AnyBackend`] (by name, from the
//! environment variable `RTSP_STREAM_BACKEND`, or automatically). Each backend's own settings
//! are in its module (`rtsp_stream::ffmpeg`, `rtsp_stream::webcam` …).
//!
//! The application API is at the root, re-exported from `rtsp-stream-core`; the contract a
//! backend implements, [`CaptureBackend`], and what an implementation uses are in [`raw`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod any;

pub use any::{AnyBackend, AnyCapture, AnyConfig, BACKEND_ENV_VAR};
pub use rtsp_stream_core::{
    CaptureBackend, Clock, Credentials, DisconnectReason, EndReason, Error, ErrorKind, Event,
    EventStream, Frame, FrameStream, Frames, GroupFrameStream, GroupKey, GroupStats, LOG_TARGET,
    Lagged, ManualClock, NextAny, NextFrame, Notice, PixelFormat, Result, Secret, SeqMap,
    SourceUrl, State, Stats, StopFuture, StopHandle, StreamGroup, StreamGroupBuilder,
    StreamOptions, StreamProps, SystemClock, Transport, VideoStream, VideoStreamBuilder, WaitError,
    raw, redact_text,
};

#[cfg(feature = "image")]
#[cfg_attr(docsrs, doc(cfg(feature = "image")))]
pub use rtsp_stream_core::ImageView;

// No doc comment of its own: the core module's explanation (the test helpers and how to use
// them) is what the facade shows.
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
#[doc(inline)]
pub use rtsp_stream_core::mock;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub use rtsp_stream_core::{MockBackend, MockConfig, MockScript};

/// The FFmpeg backend (feature `ffmpeg`): its settings and what they refer to.
#[cfg(feature = "ffmpeg")]
#[cfg_attr(docsrs, doc(cfg(feature = "ffmpeg")))]
pub use rtsp_stream_ffmpeg as ffmpeg;
#[cfg(feature = "ffmpeg")]
#[cfg_attr(docsrs, doc(cfg(feature = "ffmpeg")))]
pub use rtsp_stream_ffmpeg::{FfmpegBackend, FfmpegConfig};

/// The GStreamer backend (feature `gstreamer`): its settings and what they refer to.
#[cfg(feature = "gstreamer")]
#[cfg_attr(docsrs, doc(cfg(feature = "gstreamer")))]
pub use rtsp_stream_gstreamer as gstreamer;
#[cfg(feature = "gstreamer")]
#[cfg_attr(docsrs, doc(cfg(feature = "gstreamer")))]
pub use rtsp_stream_gstreamer::{GstreamerBackend, GstreamerConfig};

/// The OpenCV backend (feature `opencv`): its settings and OpenCV's `CAP_*` API choices.
#[cfg(feature = "opencv")]
#[cfg_attr(docsrs, doc(cfg(feature = "opencv")))]
pub use rtsp_stream_opencv as opencv;
#[cfg(feature = "opencv")]
#[cfg_attr(docsrs, doc(cfg(feature = "opencv")))]
pub use rtsp_stream_opencv::{OpencvBackend, OpencvConfig};

/// The local webcam backend (feature `webcam`): its settings, `FourCc`, the `CameraSystem`
/// seam and `list_devices`.
#[cfg(feature = "webcam")]
#[cfg_attr(docsrs, doc(cfg(feature = "webcam")))]
pub use rtsp_stream_webcam as webcam;
#[cfg(feature = "webcam")]
#[cfg_attr(docsrs, doc(cfg(feature = "webcam")))]
pub use rtsp_stream_webcam::{WebcamBackend, WebcamConfig, list_devices};

/// The retina backend (feature `retina`): RTSP through the retina crate, decoded by openh264
/// (or libavcodec with the `ffmpeg` feature too).
#[cfg(feature = "retina")]
#[cfg_attr(docsrs, doc(cfg(feature = "retina")))]
pub use rtsp_stream_retina as retina;
#[cfg(feature = "retina")]
#[cfg_attr(docsrs, doc(cfg(feature = "retina")))]
pub use rtsp_stream_retina::{RetinaBackend, RetinaConfig, RetinaDecoder};
