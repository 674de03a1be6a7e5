//! Frames captured together: one per camera, their camera times within a tolerance.

use super::{GroupKey, Inner, StreamGroup};
use crate::backend::CaptureBackend;
use crate::frame::Frame;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

/// One frame per camera, in the order the cameras were added.
pub type AlignedSet<K> = Vec<(K, Arc<Frame>)>;

/// A camera's frames that have a camera time, newest first.
type Timed = Vec<(SystemTime, Arc<Frame>)>;

/// Why [`StreamGroup::aligned`] found no set.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlignError<K> {
    /// These cameras have no frame with a [`camera_time`](Frame::camera_time) yet: no sender
    /// report came (real cameras send one about every 5 s, some never), or their backend
    /// gives none.
    NoCameraTime(Vec<K>),
    /// Every camera has camera times, but these have no frame within the tolerance of the
    /// others' (a clock that is wrong, or a history too short for their delay).
    OutOfStep(Vec<K>),
    /// The group has no camera.
    Empty,
}

impl<K: fmt::Display> fmt::Display for AlignError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |keys: &[K]| {
            keys.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            AlignError::NoCameraTime(keys) => {
                write!(f, "no camera time yet from: {}", names(keys))
            }
            AlignError::OutOfStep(keys) => {
                write!(f, "no frame within the tolerance from: {}", names(keys))
            }
            AlignError::Empty => f.write_str("the group has no camera"),
        }
    }
}

impl<K: fmt::Debug + fmt::Display> std::error::Error for AlignError<K> {}

impl<K: GroupKey, B: CaptureBackend> StreamGroup<K, B> {
    /// The newest set of one frame per camera whose camera times lie within `tolerance` of
    /// each other, waiting up to `timeout` for one to exist. Each camera offers its newest
    /// frame and, if it keeps one, its history
    /// ([`aligned_history`](crate::VideoStreamBuilder::aligned_history)): the history must
    /// cover the difference between the cameras' delays, or the set is never complete.
    /// Blocks the calling thread; woken by the cameras' publishes.
    pub fn aligned(
        &self,
        tolerance: Duration,
        timeout: Duration,
    ) -> Result<AlignedSet<K>, AlignError<K>> {
        let deadline = Instant::now().checked_add(timeout);
        let signal = &self.inner.notify.signal;
        loop {
            let seen = signal.epoch();
            let found = self.inner.align(tolerance);
            if found.is_ok() || deadline.is_some_and(|d| Instant::now() >= d) {
                return found;
            }
            signal.wait_real(seen, deadline);
        }
    }

    /// The async form of [`aligned`](Self::aligned): resolves to the first set found (no
    /// timeout: wrap it in your runtime's, and on a timeout call `aligned` with a zero
    /// timeout to learn why there was none).
    pub fn next_aligned(&self, tolerance: Duration) -> NextAligned<'_, K, B> {
        NextAligned {
            inner: &self.inner,
            tolerance,
            waker_key: None,
        }
    }
}

impl<K: GroupKey, B: CaptureBackend> Inner<K, B> {
    /// One look at every camera's frames.
    fn align(&self, tolerance: Duration) -> Result<AlignedSet<K>, AlignError<K>> {
        let cameras = self.read();
        if cameras.is_empty() {
            return Err(AlignError::Empty);
        }
        // Per camera, its frames with a camera time, newest first.
        let offered: Vec<(K, Timed)> = cameras
            .iter()
            .map(|c| {
                let shared = &c.stream.core.shared;
                let mut frames = shared.history.frames();
                if let Some(newest) = shared.slot.peek()
                    && frames.last().is_none_or(|f| f.seq() != newest.seq())
                {
                    frames.push(newest);
                }
                let mut timed: Timed = frames
                    .into_iter()
                    .filter_map(|f| Some((f.camera_time()?.at, f)))
                    .collect();
                timed.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
                (c.key.clone(), timed)
            })
            .collect();
        drop(cameras);
        let without: Vec<K> = offered
            .iter()
            .filter(|(_, frames)| frames.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        if !without.is_empty() {
            return Err(AlignError::NoCameraTime(without));
        }
        let mut anchors: Vec<SystemTime> = offered
            .iter()
            .flat_map(|(_, frames)| frames.iter().map(|(t, _)| *t))
            .collect();
        anchors.sort_by(|a, b| b.cmp(a));
        // The newest anchor that is the latest of a complete set within the tolerance.
        let mut fewest_missing: Option<Vec<K>> = None;
        for top in anchors {
            let low = top.checked_sub(tolerance).unwrap_or(SystemTime::UNIX_EPOCH);
            let mut set = Vec::with_capacity(offered.len());
            let mut missing = Vec::new();
            for (key, frames) in &offered {
                match frames.iter().find(|(t, _)| *t <= top && *t >= low) {
                    Some((_, frame)) => set.push((key.clone(), Arc::clone(frame))),
                    None => missing.push(key.clone()),
                }
            }
            if missing.is_empty() {
                for (_, frame) in &set {
                    frame.mark_taken();
                }
                return Ok(set);
            }
            if fewest_missing
                .as_ref()
                .is_none_or(|m| missing.len() < m.len())
            {
                fewest_missing = Some(missing);
            }
        }
        Err(AlignError::OutOfStep(fewest_missing.unwrap_or_default()))
    }
}

/// The future of [`StreamGroup::next_aligned`].
#[must_use = "futures do nothing unless polled"]
pub struct NextAligned<'a, K: GroupKey, B: CaptureBackend> {
    inner: &'a Inner<K, B>,
    tolerance: Duration,
    waker_key: Option<usize>,
}

impl<K: GroupKey, B: CaptureBackend> Future for NextAligned<'_, K, B> {
    type Output = AlignedSet<K>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let wakers = || {
            this.inner
                .notify
                .wakers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        // Registered before the look: a publish after it wakes the task, one before it is
        // seen by the look.
        wakers().register(&mut this.waker_key, cx.waker());
        match this.inner.align(this.tolerance) {
            Ok(set) => {
                wakers().remove(&mut this.waker_key);
                Poll::Ready(set)
            }
            Err(_) => Poll::Pending,
        }
    }
}

impl<K: GroupKey, B: CaptureBackend> Drop for NextAligned<'_, K, B> {
    fn drop(&mut self) {
        if self.waker_key.is_some() {
            self.inner
                .notify
                .wakers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&mut self.waker_key);
        }
    }
}
