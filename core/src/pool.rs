//! Recycling of frames the readers have dropped.

use crate::frame::Frame;
use std::sync::Arc;

/// Frames this stream has published. A frame whose only owner is the pool (every reader
/// dropped it and the slot moved on) is reused whole: its `Arc` allocation and its pixel
/// buffer both, so publishing allocates nothing once the pool is warm.
pub(crate) struct FramePool {
    frames: Vec<Arc<Frame>>,
}

/// Frames kept for reuse. Readers that hold more frames than this make the stream allocate
/// (the extra frames are freed when dropped), which is correct, only slower.
const POOL_SIZE: usize = 8;

impl FramePool {
    pub(crate) fn new() -> Self {
        FramePool {
            frames: Vec::with_capacity(POOL_SIZE),
        }
    }

    /// A frame nobody else holds, recycled when possible.
    pub(crate) fn take(&mut self) -> Arc<Frame> {
        match self
            .frames
            .iter_mut()
            .position(|f| Arc::get_mut(f).is_some())
        {
            Some(i) => self.frames.swap_remove(i),
            None => Arc::new(Frame::empty()),
        }
    }

    /// Keeps `frame` (after it was published) for later reuse.
    pub(crate) fn keep(&mut self, frame: Arc<Frame>) {
        if self.frames.len() < POOL_SIZE {
            self.frames.push(frame);
        }
    }
}
