//! What a group's waiters remember, and its async waits.

use super::{GroupKey, Inner, Pick};
use crate::backend::CaptureBackend;
use crate::frame::Frame;
use crate::waiting::EndReason;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll};

/// The last frame seen of each camera of a [`StreamGroup`](super::StreamGroup): what
/// [`wait_any`](super::StreamGroup::wait_any) and [`next_any`](super::StreamGroup::next_any)
/// return frames newer than. Record every frame you take with [`record`](Self::record).
///
/// It remembers which stream a frame came from, so a camera removed and added again under the
/// same key starts afresh (its sequence numbers start again at 1).
#[derive(Debug, Clone)]
pub struct SeqMap<K> {
    seen: HashMap<K, (u64, u64)>,
}

impl<K: GroupKey> Default for SeqMap<K> {
    fn default() -> Self {
        SeqMap {
            seen: HashMap::new(),
        }
    }
}

impl<K: GroupKey> SeqMap<K> {
    /// Nothing seen yet: every camera's newest frame is new.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes `frame` as the last seen of camera `key`.
    pub fn record(&mut self, key: &K, frame: &Frame) {
        self.seen
            .insert(key.clone(), (frame.stream_id, frame.seq()));
    }

    /// The sequence number of the last frame seen of camera `key` (0: none).
    pub fn get(&self, key: &K) -> u64 {
        self.seen.get(key).map_or(0, |&(_, seq)| seq)
    }

    /// Forgets camera `key`: its newest frame is new again.
    pub fn forget(&mut self, key: &K) {
        self.seen.remove(key);
    }

    /// The last seq seen of `key` from the stream `stream_id` (0 if from another stream).
    pub(super) fn seen(&self, key: &K, stream_id: u64) -> u64 {
        match self.seen.get(key) {
            Some(&(stream, seq)) if stream == stream_id => seq,
            _ => 0,
        }
    }
}

/// Registers `cx`'s waker with the group, then looks at every camera: a publish after the
/// registration wakes the task, one before it is seen by the look.
fn poll_pick<K: GroupKey, B: CaptureBackend>(
    inner: &Inner<K, B>,
    after: &SeqMap<K>,
    waker_key: &mut Option<usize>,
    cx: &mut Context<'_>,
) -> Poll<Result<(K, Arc<Frame>), EndReason>> {
    let wakers = || {
        inner
            .notify
            .wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    };
    wakers().register(waker_key, cx.waker());
    let answer = match inner.pick(after) {
        Pick::Frame(key, frame) => Ok((key, frame)),
        Pick::Ended(reason) => Err(reason),
        Pick::Nothing => return Poll::Pending,
    };
    wakers().remove(waker_key);
    Poll::Ready(answer)
}

fn forget<K: GroupKey, B: CaptureBackend>(inner: &Inner<K, B>, waker_key: &mut Option<usize>) {
    if waker_key.is_some() {
        inner
            .notify
            .wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(waker_key);
    }
}

/// The future of [`StreamGroup::next_any`](super::StreamGroup::next_any).
#[must_use = "futures do nothing unless polled"]
pub struct NextAny<'a, K: GroupKey, B: CaptureBackend> {
    inner: &'a Inner<K, B>,
    after: &'a SeqMap<K>,
    waker_key: Option<usize>,
}

impl<'a, K: GroupKey, B: CaptureBackend> NextAny<'a, K, B> {
    pub(super) fn new(inner: &'a Arc<Inner<K, B>>, after: &'a SeqMap<K>) -> Self {
        NextAny {
            inner,
            after,
            waker_key: None,
        }
    }
}

impl<K: GroupKey, B: CaptureBackend> Future for NextAny<'_, K, B> {
    type Output = Result<(K, Arc<Frame>), EndReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_pick(this.inner, this.after, &mut this.waker_key, cx)
    }
}

impl<K: GroupKey, B: CaptureBackend> Drop for NextAny<'_, K, B> {
    fn drop(&mut self) {
        forget(self.inner, &mut self.waker_key);
    }
}

/// Every new frame of a group's cameras as `(key, frame)`, from
/// [`StreamGroup::frame_stream`](super::StreamGroup::frame_stream). Ends when every camera
/// has ended; [`end_reason`](Self::end_reason) then says why.
#[must_use = "streams do nothing unless polled"]
pub struct GroupFrameStream<K: GroupKey, B: CaptureBackend> {
    inner: Arc<Inner<K, B>>,
    after: SeqMap<K>,
    waker_key: Option<usize>,
    end: Option<EndReason>,
}

impl<K: GroupKey, B: CaptureBackend> GroupFrameStream<K, B> {
    pub(super) fn new(inner: Arc<Inner<K, B>>) -> Self {
        GroupFrameStream {
            inner,
            after: SeqMap::new(),
            waker_key: None,
            end: None,
        }
    }

    /// Why the stream ended; `None` while it goes on.
    pub fn end_reason(&self) -> Option<&EndReason> {
        self.end.as_ref()
    }
}

// Nothing in it is pinned: it only holds a map and a handle.
impl<K: GroupKey, B: CaptureBackend> Unpin for GroupFrameStream<K, B> {}

impl<K: GroupKey, B: CaptureBackend> futures_core::Stream for GroupFrameStream<K, B> {
    type Item = (K, Arc<Frame>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.end.is_some() {
            return Poll::Ready(None);
        }
        match poll_pick(&this.inner, &this.after, &mut this.waker_key, cx) {
            Poll::Ready(Ok((key, frame))) => {
                this.after.record(&key, &frame);
                Poll::Ready(Some((key, frame)))
            }
            Poll::Ready(Err(reason)) => {
                this.end = Some(reason);
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<K: GroupKey, B: CaptureBackend> Drop for GroupFrameStream<K, B> {
    fn drop(&mut self) {
        forget(&self.inner, &mut self.waker_key);
    }
}
