//! The capture thread's link to the stream: cancellation, deadlines, notices.

use crate::clock::{Clock, after};
use crate::error::{Error, ErrorKind, Result};
use crate::event::Notice;
use crate::wake::WakeSignal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The capture thread's link to the stream: cancellation, the current deadline, and a way to
/// report notices and decode errors. Cheap to clone (a backend may keep a clone, e.g. inside
/// FFmpeg's interrupt callback); every clone sees the same flag and deadline.
#[derive(Clone)]
pub struct CaptureContext {
    inner: Arc<ContextInner>,
}

struct ContextInner {
    cancelled: AtomicBool,
    /// Nanoseconds after `epoch`; `u64::MAX` means no deadline.
    deadline: AtomicU64,
    epoch: Instant,
    clock: Arc<dyn Clock>,
    wake: WakeSignal,
    /// The stream's supervisor, woken by notices.
    supervisor: WakeSignal,
    decode_errors: Arc<AtomicU64>,
    notices: Mutex<Vec<Notice>>,
    backend: &'static str,
}

impl std::fmt::Debug for CaptureContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureContext")
            .field("cancelled", &self.is_cancelled())
            .field("remaining", &self.remaining())
            .finish()
    }
}

impl CaptureContext {
    /// A context on `clock` with no deadline, not cancelled (for driving a backend directly).
    pub fn new(clock: Arc<dyn Clock>, backend: &'static str) -> Self {
        Self::for_session(
            clock,
            backend,
            WakeSignal::new(),
            Arc::new(AtomicU64::new(0)),
        )
    }

    pub(crate) fn for_session(
        clock: Arc<dyn Clock>,
        backend: &'static str,
        supervisor: WakeSignal,
        decode_errors: Arc<AtomicU64>,
    ) -> Self {
        let epoch = clock.now();
        CaptureContext {
            inner: Arc::new(ContextInner {
                cancelled: AtomicBool::new(false),
                deadline: AtomicU64::new(u64::MAX),
                epoch,
                clock,
                wake: WakeSignal::new(),
                supervisor,
                decode_errors,
                notices: Mutex::new(Vec::new()),
                backend,
            }),
        }
    }

    /// True once the stream has cancelled this connection or the current deadline passed.
    /// Cheap enough to call from an interrupt callback thousands of times a second.
    pub fn should_stop(&self) -> bool {
        self.is_cancelled() || self.deadline_passed()
    }

    /// True once the stream cancelled this connection (stop, or the watchdog gave up on it).
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }

    /// True once the current deadline has passed.
    pub fn deadline_passed(&self) -> bool {
        match self.deadline() {
            Some(deadline) => self.inner.clock.now() >= deadline,
            None => false,
        }
    }

    /// The current deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        match self.inner.deadline.load(Ordering::Acquire) {
            u64::MAX => None,
            nanos => Some(self.inner.epoch + Duration::from_nanos(nanos)),
        }
    }

    /// Time left until the deadline (zero once passed), `None` without a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline()
            .map(|d| d.saturating_duration_since(self.inner.clock.now()))
    }

    /// The clock the stream runs on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Waits up to `timeout` of real time, returning early (with `false`) if the connection
    /// is cancelled. For backends that pace or poll.
    pub fn sleep(&self, timeout: Duration) -> bool {
        let until = after(Instant::now(), timeout);
        !self
            .inner
            .wake
            .wait_for(Some(until), || self.is_cancelled())
    }

    /// Blocks until the connection is cancelled, however long that takes.
    pub fn wait_cancelled(&self) {
        self.inner.wake.wait_for(None, || self.is_cancelled());
    }

    /// `Ok` while the connection may go on; once it is cancelled or its deadline has passed,
    /// an error saying that `what` was interrupted. Call it between the steps of a blocking
    /// loop: `ctx.checkpoint("waiting for a frame")?`. The stream decides itself whether the
    /// call was cancelled or timed out; the error's kind only says it was interrupted.
    pub fn checkpoint(&self, what: &str) -> Result<()> {
        if self.should_stop() {
            Err(self.interrupted_error(what))
        } else {
            Ok(())
        }
    }

    /// An error of kind [`ErrorKind::Timeout`] or [`ErrorKind::Cancelled`], whichever applies,
    /// for a backend whose blocking call returned because of this context.
    pub fn interrupted_error(&self, what: &str) -> Error {
        let kind = if self.is_cancelled() {
            ErrorKind::Cancelled
        } else {
            ErrorKind::Timeout
        };
        Error::new(
            kind,
            self.inner.backend,
            format!("interrupted while {what}"),
        )
    }

    /// Reports a notice (e.g. a transport fallback); the stream turns it into an event.
    pub fn notify(&self, notice: Notice) {
        self.inner
            .notices
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(notice);
        self.inner.supervisor.wake();
    }

    /// Counts a frame the decoder could not decode (shows in the stream's stats).
    pub fn report_decode_error(&self) {
        self.inner.decode_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_deadline_in(&self, from_now: Duration) {
        let at = after(self.inner.clock.now(), from_now);
        let nanos = at.saturating_duration_since(self.inner.epoch).as_nanos();
        self.inner
            .deadline
            .store(nanos.min(u64::MAX as u128 - 1) as u64, Ordering::Release);
    }

    /// Blocks until `done` returns true (`true`) or the connection is cancelled (`false`).
    /// `done` is checked again after every [`nudge`](Self::nudge) and cancellation.
    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    pub(crate) fn wait_until(&self, mut done: impl FnMut() -> bool) -> bool {
        self.inner
            .wake
            .wait_for(None, || self.is_cancelled() || done())
            && !self.is_cancelled()
    }

    /// Wakes whatever waits in [`wait_until`](Self::wait_until) to check its condition again.
    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    pub(crate) fn nudge(&self) {
        self.inner.wake.wake();
    }

    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    pub(crate) fn same_as(&self, other: &CaptureContext) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Release);
        self.inner.wake.wake();
    }

    pub(crate) fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(
            &mut *self
                .inner
                .notices
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Decode errors reported so far (on this stream, when run by one).
    pub fn decode_errors(&self) -> u64 {
        self.inner.decode_errors.load(Ordering::Relaxed)
    }
}
