//! A scripted backend and the tools to drive it, for deterministic tests of the stream and of
//! applications built on it.
//!
//! - [`MockScript`]: a queue of [`MockStep`]s shared between the test and every connection
//!   the stream opens. [`open`](crate::CaptureBackend::open) consumes steps up to and
//!   including the next open step (read steps left over from a connection that ended early
//!   are dropped); [`read`](crate::raw::Capture::read) consumes read steps. When the queue is
//!   empty, opens fail with a transient "connection refused" and reads stall until cancelled,
//!   so a finished script looks like a camera that went away.
//! - [`ManualClock`](crate::ManualClock): time moves only when the test says so; the stream's
//!   deadlines and back-off run on it.
//! - [`EventRecorder`] and [`wait_until`]: waiting for what the stream does, with deadlines.
//!
//! # A reliable recipe
//!
//! Move time only once the stream is parked where you expect it.
//! [`EventRecorder::advance_past_backoff`] waits for the n-th back-off event, then until the
//! stream sleeps on the clock exactly that delay ahead, then advances: it never lands on
//! another deadline. (Jumping to whatever the stream sleeps on next,
//! [`ManualClock::advance_to_next_sleeper`](crate::ManualClock::advance_to_next_sleeper), can
//! hit the 10 s open deadline of an attempt still under way instead of the back-off.) Wait for
//! events with [`EventRecorder::wait_nth`] rather than sleeping.
//!
//! ```
//! use rtsp_stream_core::mock::{EventRecorder, MockBackend, MockConfig, MockScript};
//! use rtsp_stream_core::{ErrorKind, ManualClock, VideoStream};
//! use std::time::Duration;
//!
//! // Real time, generous for a busy machine: only a failing test waits this long.
//! const PATIENCE: Duration = Duration::from_secs(10);
//!
//! let script = MockScript::new();
//! script
//!     .open_ok(MockScript::props(64, 48, 25.0))
//!     .frames(3)
//!     .read_error(ErrorKind::ConnectionLost) // the camera drops…
//!     .open_fail(ErrorKind::ConnectionRefused) // …is not back at the first retry…
//!     .open_ok(MockScript::props(64, 48, 25.0)) // …and is at the second.
//!     .frames(1);
//! let clock = ManualClock::new();
//! let events = EventRecorder::new();
//! let stream = VideoStream::<MockBackend>::builder_with("mock://door", MockConfig::new(script))
//!     .clock(clock.clone())
//!     .reconnect_backoff(2.0)
//!     .on_event(events.handler())
//!     .start()?;
//! assert_eq!(events.advance_past_backoff(&clock, 0, PATIENCE), Duration::from_secs(1));
//! assert_eq!(events.advance_past_backoff(&clock, 1, PATIENCE), Duration::from_secs(2));
//! events.wait_nth("first_frame", 1, PATIENCE);
//! assert_eq!(stream.reconnect_count(), 2);
//! # Ok::<(), rtsp_stream_core::Error>(())
//! ```

mod recorder;
mod script;

pub use recorder::{EventRecorder, frames_for, wait_until};
pub use script::{MockBackend, MockCall, MockCapture, MockConfig, MockScript, MockStep};
