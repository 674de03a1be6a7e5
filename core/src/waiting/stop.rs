//! Stopping without blocking an executor.

use super::WakerSlab;
use crate::wake::WakeSignal;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

/// The completion of one `stop()`: threads wait on its signal, tasks register wakers.
pub(crate) struct Completion {
    done: AtomicBool,
    signal: WakeSignal,
    wakers: Mutex<WakerSlab>,
}

impl Completion {
    pub(crate) fn new() -> Self {
        Completion {
            done: AtomicBool::new(false),
            signal: WakeSignal::new(),
            wakers: Mutex::new(WakerSlab::default()),
        }
    }

    pub(crate) fn finished() -> Self {
        let completion = Self::new();
        completion.done.store(true, Ordering::Release);
        completion
    }

    fn lock(&self) -> MutexGuard<'_, WakerSlab> {
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn complete(&self) {
        let wakers = self.lock();
        self.done.store(true, Ordering::Release);
        wakers.wake_all();
        drop(wakers);
        self.signal.wake();
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Blocks until complete. Bounded: the stop this tracks ends within its `stop_timeout`.
    pub(crate) fn wait(&self) {
        self.signal.wait_for(None, || self.is_complete());
    }

    fn poll(&self, key: &mut Option<usize>, cx: &mut Context<'_>) -> Poll<()> {
        let mut wakers = self.lock();
        if self.is_complete() {
            wakers.remove(key);
            return Poll::Ready(());
        }
        wakers.register(key, cx.waker());
        Poll::Pending
    }
}

/// A stop in progress, from [`VideoStream::stop_async`](crate::VideoStream::stop_async).
///
/// The stop was requested when `stop_async` was called; awaiting this only waits for it to
/// finish — the worker stopped, or left behind muted once `stop_timeout` passed — without
/// blocking the executor (a short-lived thread does the bounded waiting). Dropping it does not
/// cancel the stop. Dropping it unregisters its waker.
#[must_use = "the stop goes on without it; await it to know when it has finished"]
pub struct StopFuture {
    completion: Arc<Completion>,
    key: Option<usize>,
}

impl StopFuture {
    pub(crate) fn new(completion: Arc<Completion>) -> Self {
        StopFuture {
            completion,
            key: None,
        }
    }
}

impl Future for StopFuture {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.completion.poll(&mut this.key, cx)
    }
}

impl Drop for StopFuture {
    fn drop(&mut self) {
        if self.key.is_some() {
            self.completion.lock().remove(&mut self.key);
        }
    }
}

impl std::fmt::Debug for StopFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopFuture")
            .field("done", &self.completion.is_complete())
            .finish()
    }
}
