//! Recycling of frames the readers have dropped.

use crate::frame::Frame;
use std::sync::Arc;

/// The frames a stream decodes into, at most `capacity` of them.
///
/// A pooled frame whose only owner is the pool (every reader dropped it and the slot moved on)
/// is reused whole, its `Arc` allocation and its pixel buffer both. When every pooled frame is
/// held elsewhere, the pool grows by one up to its capacity; beyond it a frame is allocated
/// that the pool does not keep: it is freed when its last reader drops it, and counted. A frame
/// is therefore never dropped or delayed for lack of a buffer.
///
/// With `capacity` n, the slot's frame and the one being decoded take two, so a consumer that
/// holds at most n − 2 frames at a time always leaves one free. An eager pool allocates all n
/// as soon as a frame's size is known (and resizes the free ones after a size change), so that
/// consumer causes no allocation after the first frame.
pub(crate) struct FramePool {
    /// Pooled frames not being decoded into right now.
    idle: Vec<Arc<Frame>>,
    /// Pooled frames in existence: `idle` plus the one lent to the decoder, if pooled.
    owned: usize,
    capacity: usize,
    eager: bool,
    /// Buffer length the eager frames were last sized for.
    sized_for: Option<usize>,
}

/// A frame lent to the decoder; give it back with [`FramePool::give_back`] whatever happens.
pub(crate) struct Lent {
    pub(crate) frame: Arc<Frame>,
    /// False for a frame allocated beyond the pool's capacity.
    pub(crate) pooled: bool,
}

impl FramePool {
    pub(crate) fn new(capacity: usize, eager: bool) -> Self {
        FramePool {
            idle: Vec::with_capacity(capacity),
            owned: 0,
            capacity: capacity.max(1),
            eager,
            sized_for: None,
        }
    }

    /// A frame nobody else holds: a free pooled one, a new pooled one while below capacity,
    /// else a fresh one outside the pool (the stream counts it when it publishes it).
    pub(crate) fn take(&mut self) -> Lent {
        if let Some(i) = self.idle.iter_mut().position(|f| Arc::get_mut(f).is_some()) {
            return Lent {
                frame: self.idle.swap_remove(i),
                pooled: true,
            };
        }
        let pooled = self.owned < self.capacity;
        if pooled {
            self.owned += 1;
        }
        Lent {
            frame: Arc::new(Frame::empty()),
            pooled,
        }
    }

    /// Takes back a lent frame, published or not. A frame from outside the pool is released:
    /// its readers keep it alive as long as they hold it.
    pub(crate) fn give_back(&mut self, lent: Lent) {
        if lent.pooled {
            self.idle.push(lent.frame);
        }
    }

    /// After a frame of `len` bytes was published: an eager pool allocates its remaining
    /// frames at that size, and brings free frames of another size to it.
    pub(crate) fn size_known(&mut self, len: usize) {
        if !self.eager || self.sized_for == Some(len) {
            return;
        }
        self.sized_for = Some(len);
        for frame in &mut self.idle {
            if let Some(f) = Arc::get_mut(frame)
                && f.data.len() != len
            {
                f.data = vec![0; len];
            }
        }
        while self.owned < self.capacity {
            let mut frame = Frame::empty();
            frame.data = vec![0; len];
            self.idle.push(Arc::new(frame));
            self.owned += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_capacity_then_lends_frames_from_outside() {
        let mut pool = FramePool::new(2, false);
        let mut held = Vec::new();
        let mut outside = 0;
        for _ in 0..5 {
            let lent = pool.take();
            outside += usize::from(!lent.pooled);
            held.push(Arc::clone(&lent.frame));
            pool.give_back(lent);
        }
        assert_eq!((pool.owned, pool.idle.len(), outside), (2, 2, 3));
        drop(held);
        // Free again: reused, nothing from outside.
        let lent = pool.take();
        assert!(lent.pooled);
        pool.give_back(lent);
        assert_eq!(pool.owned, 2);
    }

    #[test]
    fn eager_pool_allocates_all_frames_at_the_known_size_and_resizes_free_ones() {
        let mut pool = FramePool::new(3, true);
        let lent = pool.take();
        pool.give_back(lent);
        pool.size_known(100);
        assert_eq!(pool.owned, 3);
        assert!(pool.idle.iter().all(|f| f.data.len() == 100));
        let held = Arc::clone(&pool.idle[1]);
        pool.size_known(40);
        let sizes: Vec<usize> = pool.idle.iter().map(|f| f.data.len()).collect();
        assert_eq!(sizes.iter().filter(|&&n| n == 40).count(), 2, "{sizes:?}");
        assert_eq!(held.data.len(), 100, "a held frame was touched");
    }
}
