//! The contract of `rtsp-stream`: everything an application uses and everything a decoder
//! backend implements, without any decoder.
//!
//! - [`VideoStream`]: runs a backend on a background thread, keeps the newest [`Frame`] in a
//!   lock-free slot and reconnects with back-off when the feed drops, stalls or never comes up.
//! - [`Error`] with [`ErrorKind`]: one public error; the reconnect loop decides only through
//!   [`Error::is_transient`].
//! - [`SourceUrl`] / [`Credentials`]: a source whose printable forms never show a password.
//! - [`WaitError`] / [`EndReason`]: waiting that ends when the stream ends — blocking
//!   ([`VideoStream::wait_next`], [`VideoStream::frames`]) or async
//!   ([`VideoStream::next_frame`], [`FrameStream`], [`EventStream`], [`StopFuture`]), with no
//!   runtime dependency.
//! - [`StreamGroup`]: many cameras under keys, waited on together ([`StreamGroup::wait_any`],
//!   fair), stopped together against one deadline.
//! - [`Clock`]: the system clock in production, [`ManualClock`] in tests.
//! - [`mock`] (feature `mock`): a scripted backend for deterministic tests.
//! - [`raw`]: for backend authors — [`CaptureBackend`] and what a decoder uses to implement it.
//!
//! Applications normally depend on the facade crate `rtsp-stream`, which re-exports this crate
//! and the backends enabled by its features.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod camera_time;
mod clock;
mod context;
mod convert;
mod decode_mode;
mod description;
mod error;
mod event;
mod frame;
mod group;
mod memory;
#[cfg(feature = "metrics")]
mod metrics;
mod nal;
mod options;
mod pacer;
mod panic;
mod pool;
mod quote;
mod rate;
pub mod raw;
mod reconnect;
mod redact;
mod request;
mod slot;
mod stats;
mod stream;
mod transport;
mod waiting;
mod wake;
mod worker;
#[cfg(feature = "yuv")]
mod yuv;

#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;

pub use backend::CaptureBackend;
pub use camera_time::{CameraTime, CameraTimeSource};
pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "image")]
pub use convert::ImageView;
pub use decode_mode::{DecodeMode, DecodeModes};
pub use error::{Error, ErrorKind, Result};
pub use event::{DisconnectReason, Event, Notice};
pub use frame::{Frame, PixelFormat, StreamProps};
pub use group::{
    AlignError, AlignedSet, GroupFrameStream, GroupKey, GroupStats, NextAligned, NextAny, SeqMap,
    StreamGroup, StreamGroupBuilder,
};
pub use options::StreamOptions;
pub use panic::install_scrubbing_panic_hook;
pub use reconnect::{ReconnectPolicy, SuccessRule};
pub use redact::{Credentials, Secret, SourceUrl, redact_text};
pub use stats::{State, Stats};
pub use stream::{StopHandle, VideoStream, VideoStreamBuilder};
pub use transport::Transport;
pub use waiting::{
    EndReason, EventStream, FrameStream, Frames, Lagged, NextFrame, StopFuture, WaitError,
};

#[cfg(feature = "mock")]
pub use mock::{MockBackend, MockConfig, MockScript};

/// The `log` target every message of this library is written under (backends use
/// sub-targets such as `rtsp_stream::ffmpeg`).
pub const LOG_TARGET: &str = "rtsp_stream";
