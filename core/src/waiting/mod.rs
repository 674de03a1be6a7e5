//! Waiting for frames and events: blocking, as an iterator, and as futures and streams.
//!
//! Every form is woken through the same path: the publish of a frame and the end of the
//! stream (stop, give-up, end of the source) wake the condition variable blocking waiters
//! sleep on and every registered [`Waker`](std::task::Waker). Nothing polls, no thread is
//! spawned per waiter, and nothing here depends on an async runtime: the futures and streams
//! work under tokio, smol, `futures::executor` or any other executor.

mod events;
mod frames;
mod stop;
mod wakers;

pub use events::{EventStream, Lagged};
pub use frames::{FrameStream, Frames, NextFrame};
pub use stop::StopFuture;

pub(crate) use events::Subscribers;
pub(crate) use frames::FrameSource;
pub(crate) use stop::Completion;
pub(crate) use wakers::WakerSlab;

use crate::error::Error;

/// Why waiting for a frame returned without one.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum WaitError {
    /// The timeout passed with no newer frame; the stream still runs.
    Timeout,
    /// The stream has ended and no newer frame is left in the slot.
    Ended(EndReason),
}

/// Why a stream ended: the answer of [`VideoStream::end_reason`](crate::VideoStream::end_reason)
/// and of every wait that returns because of the end.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum EndReason {
    /// `stop()` was called (or the stream was never started, or was dropped).
    Stopped,
    /// The stream gave up: attempts exhausted, or an error that retrying cannot fix.
    GaveUp(Error),
    /// The source ended (the end of a file).
    Finished,
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::Stopped => f.write_str("stopped"),
            EndReason::GaveUp(error) => write!(f, "gave up: {error}"),
            EndReason::Finished => f.write_str("the source ended"),
        }
    }
}

impl std::fmt::Display for WaitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitError::Timeout => f.write_str("no new frame before the timeout"),
            WaitError::Ended(reason) => write!(f, "the stream ended ({reason})"),
        }
    }
}

impl std::error::Error for WaitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WaitError::Ended(EndReason::GaveUp(error)) => Some(error),
            _ => None,
        }
    }
}

impl From<EndReason> for WaitError {
    fn from(reason: EndReason) -> Self {
        WaitError::Ended(reason)
    }
}
