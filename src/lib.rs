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
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod any;

// The backends' modules and types (`rtsp_stream::ffmpeg`, `FfmpegBackend` …) come from the
// table in `any`.
pub use any::*;
pub use rtsp_stream_core::{
    AlignError, AlignedSet, CameraTime, CameraTimeSource, CaptureBackend, Clock, Credentials,
    DecodeMode, DecodeModes, DisconnectReason, EndReason, Error, ErrorKind, Event, EventStream,
    Frame, FrameStream, Frames, GroupFrameStream, GroupKey, GroupStats, LOG_TARGET, Lagged,
    ManualClock, NextAligned, NextAny, NextFrame, Notice, PixelFormat, ReconnectPolicy, Result,
    Secret, SeqMap, SourceUrl, State, Stats, StopFuture, StopHandle, StreamGroup,
    StreamGroupBuilder, StreamOptions, StreamProps, SuccessRule, SystemClock, Transport,
    VideoStream, VideoStreamBuilder, WaitError, install_scrubbing_panic_hook, raw, redact_text,
};

#[cfg(feature = "image")]
#[cfg_attr(docsrs, doc(cfg(feature = "image")))]
pub use rtsp_stream_core::ImageView;
