//! The contract of `rtsp-stream`: everything a decoder backend implements and everything an
//! application uses, without any decoder.
//!
//! - [`CaptureBackend`] / [`Capture`]: what a decoder implements (open, read, props).
//! - [`VideoStream`]: runs a backend on a background thread, keeps the newest [`Frame`] in a
//!   lock-free slot and reconnects with back-off when the feed drops, stalls or never comes up.
//! - [`Error`] with [`ErrorKind`]: one public error; the reconnect loop decides only through
//!   [`Error::is_transient`].
//! - [`SourceUrl`] / [`Credentials`]: a source whose printable forms never show a password.
//! - [`Clock`]: the system clock in production, [`ManualClock`] in tests.
//! - `MockBackend` (feature `mock`): a scripted backend for deterministic tests.
//!
//! Applications normally depend on the facade crate `rtsp-stream`, which re-exports this crate
//! and the backends enabled by its features.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod backoff;
mod clock;
mod error;
mod event;
mod frame;
mod memory;
mod options;
mod pacer;
mod pool;
mod redact;
mod slot;
mod stats;
mod stream;
mod wake;
mod worker;

#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;

pub use backend::{Capture, CaptureBackend, CaptureContext, Notice, OpenRequest, ReadStatus};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind};
pub use event::{DisconnectReason, Event};
pub use frame::{Frame, FrameSink, PixelFormat, StreamProps};
pub use memory::StreamMemory;
pub use options::{StreamOptions, Transport};
pub use pacer::FilePacer;
pub use redact::{Credentials, Secret, SourceUrl, redact_text};
pub use stats::{State, Stats};
pub use stream::{StopHandle, VideoStream, VideoStreamBuilder};
pub use wake::WakeSignal;

#[cfg(feature = "mock")]
pub use mock::{MockBackend, MockConfig, MockScript};

/// The `log` target every message of this library is written under (backends use
/// sub-targets such as `rtsp_stream::ffmpeg`).
pub const LOG_TARGET: &str = "rtsp_stream";
