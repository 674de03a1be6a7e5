//! The newest frames of a stream that asked for them (`aligned_history`), for a group to find
//! frames of several cameras captured together.

use crate::frame::Frame;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Frames received within the last `span`, oldest first. Holding them keeps their buffers out
/// of the frame pool, which the option enlarges to match.
pub(crate) struct History {
    span: Duration,
    frames: Mutex<VecDeque<Arc<Frame>>>,
}

/// Frames kept at most, whatever the rate: 64 × a 4K BGR frame is 1.6 GB.
pub(crate) const MOST_FRAMES: usize = 64;

impl History {
    pub(crate) fn new(span: Duration) -> Self {
        History {
            span,
            frames: Mutex::new(VecDeque::new()),
        }
    }

    /// Whether frames are kept at all.
    pub(crate) fn enabled(&self) -> bool {
        !self.span.is_zero()
    }

    /// Keeps `frame`, and lets go of those received more than the span before it.
    pub(crate) fn push(&self, frame: Arc<Frame>) {
        let newest = frame.received_instant;
        let mut frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        while frames.front().is_some_and(|f| {
            newest.saturating_duration_since(f.received_instant) > self.span
                || frames.len() >= MOST_FRAMES
        }) {
            frames.pop_front();
        }
        frames.push_back(frame);
    }

    /// The frames kept, oldest first.
    pub(crate) fn frames(&self) -> Vec<Arc<Frame>> {
        self.frames
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// How many frames are kept, and their pixel bytes.
    pub(crate) fn held(&self) -> (usize, u64) {
        let frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes = frames.iter().map(|f| f.data.len() as u64).sum();
        (frames.len(), bytes)
    }

    /// Lets go of every frame (the stream stopped).
    pub(crate) fn clear(&self) {
        self.frames
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
