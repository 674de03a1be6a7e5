//! Frames one after another: a blocking iterator, a future and a stream.

use super::{EndReason, WaitError};
use crate::frame::Frame;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// Where the waiting forms take a stream's frames from (its slot), kept alive by whoever holds
/// it: a `Frames` iterator outlives neither the frames it can still yield nor the end.
pub(crate) trait FrameSource: Send + Sync {
    /// Blocks until a frame newer than `after_seq` exists, the stream ends or `deadline`
    /// passes.
    fn wait_next(&self, after_seq: u64, deadline: Option<Instant>)
    -> Result<Arc<Frame>, WaitError>;
    /// The same as a poll, registering the task's waker under `key`.
    fn poll_next(
        &self,
        after_seq: u64,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Arc<Frame>, EndReason>>;
    /// Unregisters the waker under `key`, if any.
    fn forget_waker(&self, key: &mut Option<usize>);
}

/// The frames of a stream as a blocking iterator, from
/// [`VideoStream::frames`](crate::VideoStream::frames).
///
/// Each call to `next` blocks until a frame newer than the last one yielded exists and returns
/// it (frames overwritten in the meantime are skipped: the slot holds only the newest). The
/// iterator ends when the stream ends — stopped, given up or at the end of the source — after
/// the frames still in the slot; [`end_reason`](Frames::end_reason) then says why. It does not
/// keep the stream running: dropping the `VideoStream` stops it and ends the iterator.
pub struct Frames {
    shared: Arc<dyn FrameSource>,
    after_seq: u64,
    end: Option<EndReason>,
}

impl Frames {
    pub(crate) fn new(shared: Arc<dyn FrameSource>) -> Self {
        Frames {
            shared,
            after_seq: 0,
            end: None,
        }
    }

    /// Why the iteration ended; `None` while it goes on.
    pub fn end_reason(&self) -> Option<&EndReason> {
        self.end.as_ref()
    }
}

impl Iterator for Frames {
    type Item = Arc<Frame>;

    fn next(&mut self) -> Option<Arc<Frame>> {
        if self.end.is_some() {
            return None;
        }
        match self.shared.wait_next(self.after_seq, None) {
            Ok(frame) => {
                self.after_seq = frame.seq();
                Some(frame)
            }
            Err(WaitError::Ended(reason)) => {
                self.end = Some(reason);
                None
            }
            // Without a deadline only the end stops the wait.
            Err(WaitError::Timeout) => None,
        }
    }
}

impl std::iter::FusedIterator for Frames {}

impl std::fmt::Debug for Frames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frames")
            .field("after_seq", &self.after_seq)
            .field("end", &self.end)
            .finish()
    }
}

/// The next frame, as a future, from [`VideoStream::next_frame`](crate::VideoStream::next_frame).
///
/// Resolves to the first frame newer than `after_seq` — at once if one is in the slot, even
/// after the end — or to the [`EndReason`] once the stream has ended. No timeout of its own:
/// wrap it in the runtime's (`tokio::time::timeout`). Dropping it unregisters its waker.
#[must_use = "futures do nothing unless awaited"]
pub struct NextFrame {
    shared: Arc<dyn FrameSource>,
    after_seq: u64,
    key: Option<usize>,
}

impl NextFrame {
    pub(crate) fn new(shared: Arc<dyn FrameSource>, after_seq: u64) -> Self {
        NextFrame {
            shared,
            after_seq,
            key: None,
        }
    }
}

impl Future for NextFrame {
    type Output = Result<Arc<Frame>, EndReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.shared.poll_next(this.after_seq, &mut this.key, cx)
    }
}

impl Drop for NextFrame {
    fn drop(&mut self) {
        self.shared.forget_waker(&mut self.key);
    }
}

impl std::fmt::Debug for NextFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NextFrame")
            .field("after_seq", &self.after_seq)
            .finish_non_exhaustive()
    }
}

/// The frames of a stream as an async [`Stream`](futures_core::Stream), from
/// [`VideoStream::frame_stream`](crate::VideoStream::frame_stream).
///
/// The async twin of [`Frames`]: each item is a frame newer than the last one yielded; the
/// stream ends (`None`) when the video stream ends, and [`end_reason`](FrameStream::end_reason)
/// says why. Dropping it unregisters its waker.
#[must_use = "streams do nothing unless polled"]
pub struct FrameStream {
    next: NextFrame,
    end: Option<EndReason>,
}

impl FrameStream {
    pub(crate) fn new(shared: Arc<dyn FrameSource>) -> Self {
        FrameStream {
            next: NextFrame::new(shared, 0),
            end: None,
        }
    }

    /// Why the stream ended; `None` while it goes on.
    pub fn end_reason(&self) -> Option<&EndReason> {
        self.end.as_ref()
    }
}

impl futures_core::Stream for FrameStream {
    type Item = Arc<Frame>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Arc<Frame>>> {
        let this = self.get_mut();
        if this.end.is_some() {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.next).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(frame)) => {
                this.next.after_seq = frame.seq();
                Poll::Ready(Some(frame))
            }
            Poll::Ready(Err(reason)) => {
                this.end = Some(reason);
                Poll::Ready(None)
            }
        }
    }
}

impl futures_core::FusedStream for FrameStream {
    fn is_terminated(&self) -> bool {
        self.end.is_some()
    }
}

impl std::fmt::Debug for FrameStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameStream")
            .field("after_seq", &self.next.after_seq)
            .field("end", &self.end)
            .finish()
    }
}
