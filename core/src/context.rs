//! The capture thread's link to the stream: cancellation, deadlines, notices.

use crate::clock::{Clock, after};
use crate::decode_mode::{Gate, ModeSetting};
use crate::error::{Error, ErrorKind, Result};
use crate::event::Notice;
use crate::rate::RateMeter;
use crate::waiting::WakerSlab;
use crate::wake::WakeSignal;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// The capture thread's link to the stream: cancellation, the current deadline, and a way to
/// report notices and decode errors. Cheap to clone (a backend may keep a clone, e.g. inside
/// FFmpeg's interrupt callback); every clone sees the same flag and deadline.
#[derive(Clone)]
pub struct CaptureContext {
    inner: Arc<ContextInner>,
}

/// What the backends of a stream's connections count about decoding, and the stream's decode
/// mode they follow.
#[derive(Debug)]
pub(crate) struct DecodeCounters {
    pub(crate) errors: AtomicU64,
    pub(crate) skipped: AtomicU64,
    /// Units the decode mode kept from the decoder.
    pub(crate) units_skipped: AtomicU64,
    /// Pictures decoded but neither converted nor published (`DecodeMode::MaxRate`).
    pub(crate) not_converted: AtomicU64,
    pub(crate) mode: ModeSetting,
    /// When a unit or picture the decode mode left out last showed the camera alive: the
    /// stall watchdog counts from it as from a frame.
    alive: Mutex<Option<Instant>>,
    /// Pictures decoded (converted or not): how many, and at what rate.
    pub(crate) decoded: RateMeter,
    pub(crate) pictures: AtomicU64,
    /// Time spent decoding pictures where the capture thread decodes (from the unit handed
    /// to the decoder to its picture), and converting them, in nanoseconds.
    pub(crate) decode_nanos: AtomicU64,
    pub(crate) convert_nanos: AtomicU64,
}

impl DecodeCounters {
    pub(crate) fn new(epoch: Instant) -> Self {
        DecodeCounters {
            errors: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            units_skipped: AtomicU64::new(0),
            not_converted: AtomicU64::new(0),
            mode: ModeSetting::default(),
            alive: Mutex::new(None),
            decoded: RateMeter::new(epoch),
            pictures: AtomicU64::new(0),
            decode_nanos: AtomicU64::new(0),
            convert_nanos: AtomicU64::new(0),
        }
    }

    pub(crate) fn alive_at(&self) -> Option<Instant> {
        *self.alive.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where the newest unit went into the decoder (thread, instant), and when the newest
/// picture's conversion started.
#[derive(Debug, Default)]
struct Timing {
    decode_started: Option<(ThreadId, Instant)>,
    convert_started: Option<Instant>,
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
    decode: Arc<DecodeCounters>,
    /// This connection's side of the decode mode.
    gate: Mutex<Gate>,
    /// The stall timeout once the connection streams: a unit the decode mode skips shows the
    /// camera is alive as a frame does (nanoseconds; 0 before the first frame).
    stall: AtomicU64,
    /// Where the newest unit went into the decoder (thread, instant), and when the newest
    /// picture's conversion started: decode and conversion times.
    timing: Mutex<Timing>,
    /// Notices not taken yet, and how many were merged or dropped meanwhile.
    notices: Mutex<(Vec<Notice>, u64)>,
    backend: &'static str,
    /// Counts cancellations and deadline moves; the tasks of async backends waiting for the
    /// next one are under the lock.
    revision: Mutex<(u64, WakerSlab)>,
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
        let epoch = clock.now();
        Self::for_session(
            clock,
            backend,
            WakeSignal::new(),
            Arc::new(DecodeCounters::new(epoch)),
        )
    }

    pub(crate) fn for_session(
        clock: Arc<dyn Clock>,
        backend: &'static str,
        supervisor: WakeSignal,
        decode: Arc<DecodeCounters>,
    ) -> Self {
        let epoch = clock.now();
        let gate = Mutex::new(Gate::new(decode.mode.get().1));
        CaptureContext {
            inner: Arc::new(ContextInner {
                cancelled: AtomicBool::new(false),
                deadline: AtomicU64::new(u64::MAX),
                epoch,
                clock,
                wake: WakeSignal::new(),
                supervisor,
                decode,
                gate,
                stall: AtomicU64::new(0),
                timing: Mutex::new(Timing::default()),
                notices: Mutex::new((Vec::new(), 0)),
                backend,
                revision: Mutex::new((0, WakerSlab::default())),
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

    /// A future that resolves at the next cancellation or move of the deadline after this
    /// call: the hook of backends that run async code (e.g. on a current-thread tokio runtime
    /// on the capture thread). Such a backend races each await against this future and a timer
    /// for [`remaining`](Self::remaining), and takes a fresh one after every wake-up:
    ///
    /// ```ignore
    /// loop {
    ///     let changed = ctx.changed();
    ///     ctx.checkpoint("reading")?;
    ///     tokio::select! {
    ///         item = &mut next => break item,
    ///         () = changed => continue,
    ///         () = sleep(ctx.remaining().unwrap_or(Duration::MAX)) => continue,
    ///     }
    /// }
    /// ```
    ///
    /// No polling and no thread: the stream's cancellation and every new deadline wake the
    /// registered tasks. The future is `Send` and owns what it needs; dropping it removes
    /// its waker.
    pub fn changed(&self) -> ContextChanged {
        let seen = self.lock_revision().0;
        ContextChanged {
            inner: Arc::clone(&self.inner),
            seen,
            key: None,
        }
    }

    fn lock_revision(&self) -> std::sync::MutexGuard<'_, (u64, WakerSlab)> {
        self.inner.revision_lock()
    }

    fn bump_revision(&self) {
        let mut revision = self.lock_revision();
        revision.0 += 1;
        revision.1.wake_all();
    }

    /// Reports a notice (e.g. a transport fallback); the stream turns it into an event. Never
    /// blocks: a notice equal to one the stream has not taken yet is merged into it, and at
    /// most [`MAX_NOTICES`](Self::MAX_NOTICES) wait (the oldest give way), both counted in
    /// the stream's statistics.
    pub fn notify(&self, notice: Notice) {
        let mut queue = self
            .inner
            .notices
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (notices, merged) = &mut *queue;
        if notices.contains(&notice) {
            *merged += 1;
        } else {
            if notices.len() >= Self::MAX_NOTICES {
                notices.remove(0);
                *merged += 1;
            }
            notices.push(notice);
        }
        drop(queue);
        self.inner.supervisor.wake();
    }

    /// Notices that wait for the stream to take them, at most.
    pub const MAX_NOTICES: usize = 16;

    /// Counts a frame the decoder could not decode (shows in the stream's stats).
    pub fn report_decode_error(&self) {
        self.inner.decode.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `n` frames not delivered because their data was incomplete: received or decoded
    /// after a loss, before the next key frame (shows in the stream's stats as
    /// `frames_skipped`).
    pub fn report_frames_skipped(&self, n: u64) {
        self.inner.decode.skipped.fetch_add(n, Ordering::Relaxed);
    }

    /// Before an access unit goes to the decoder: whether to decode it, under the stream's
    /// [`DecodeMode`](crate::DecodeMode). `random_access`: a key frame (decoding can start
    /// with it); `droppable`: whether no later picture depends on it (an H.264 unit whose
    /// slices all have `nal_ref_idc` 0; `false` when unknown), called only under `MaxRate`
    /// for a unit over the rate, so that no other mode pays for reading units. A unit not to
    /// decode is counted
    /// ([`Stats::units_skipped`](crate::Stats::units_skipped)) and keeps the stall deadline
    /// away as a frame would: the camera is alive.
    pub fn should_decode(&self, random_access: bool, droppable: impl FnOnce() -> bool) -> bool {
        let now = self.inner.clock.now();
        let setting = self.inner.decode.mode.get();
        let decision = self
            .inner
            .gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unit(setting, random_access, droppable, now);
        if let Some(waited) = decision.applied {
            self.notify(Notice::DecodeModeApplied {
                mode: setting.0,
                waited,
            });
        }
        if decision.decode {
            self.lock_timing().decode_started = Some((std::thread::current().id(), now));
        } else {
            self.inner
                .decode
                .units_skipped
                .fetch_add(1, Ordering::Relaxed);
            self.still_streaming(now);
        }
        decision.decode
    }

    /// After a picture is decoded, before it is converted: whether to convert and hand it
    /// out ([`DecodeMode::MaxRate`](crate::DecodeMode::MaxRate) says no to pictures over the
    /// rate; the backend then reads the next one). A picture not to convert is counted
    /// ([`Stats::frames_not_converted`](crate::Stats::frames_not_converted)) and keeps the
    /// stall deadline away. Call it once for every picture decoded: it counts them and their
    /// rate, and the time since `should_decode` said yes on the same thread is decode time.
    pub fn should_convert(&self) -> bool {
        let now = self.inner.clock.now();
        let decode = &self.inner.decode;
        decode.pictures.fetch_add(1, Ordering::Relaxed);
        decode.decoded.tick(now);
        let mode = decode.mode.get().0;
        let convert = self
            .inner
            .gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .picture(mode, now);
        let mut timing = self.lock_timing();
        // A decoder on another thread (GStreamer's) is not timed from here.
        if let Some((thread, at)) = timing.decode_started.take()
            && thread == std::thread::current().id()
        {
            let nanos = now.saturating_duration_since(at).as_nanos() as u64;
            decode.decode_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
        timing.convert_started = convert.then_some(now);
        drop(timing);
        if !convert {
            decode.not_converted.fetch_add(1, Ordering::Relaxed);
            self.still_streaming(now);
        }
        convert
    }

    fn lock_timing(&self) -> std::sync::MutexGuard<'_, Timing> {
        self.inner
            .timing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A frame was handed over at `now`: the time since its picture's conversion started
    /// (see [`should_convert`](Self::should_convert)) is conversion time.
    pub(crate) fn frame_written(&self, now: Instant) {
        if let Some(at) = self.lock_timing().convert_started.take() {
            let nanos = now.saturating_duration_since(at).as_nanos() as u64;
            self.inner
                .decode
                .convert_nanos
                .fetch_add(nanos, Ordering::Relaxed);
        }
    }

    /// The deadline after a published frame: `stall` from `now`, and from every unit the
    /// decode mode skips from now on.
    pub(crate) fn streaming(&self, now: Instant, stall: Duration) {
        let nanos = stall.as_nanos().clamp(1, u64::MAX as u128) as u64;
        self.inner.stall.store(nanos, Ordering::Relaxed);
        self.set_deadline_after(now, stall);
    }

    fn still_streaming(&self, now: Instant) {
        *self
            .inner
            .decode
            .alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(now);
        let stall = self.inner.stall.load(Ordering::Relaxed);
        if stall != 0 {
            self.set_deadline_after(now, Duration::from_nanos(stall));
        }
    }

    pub(crate) fn set_deadline_in(&self, from_now: Duration) {
        self.set_deadline_after(self.inner.clock.now(), from_now);
    }

    /// Sets the deadline `limit` after `now` (a moment just read from the stream's clock).
    pub(crate) fn set_deadline_after(&self, now: Instant, limit: Duration) {
        let at = after(now, limit);
        let nanos = at.saturating_duration_since(self.inner.epoch).as_nanos();
        self.inner
            .deadline
            .store(nanos.min(u64::MAX as u128 - 1) as u64, Ordering::Release);
        self.bump_revision();
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
        self.bump_revision();
    }

    /// The notices reported since the last call, and how many were merged or dropped.
    pub(crate) fn take_notices(&self) -> (Vec<Notice>, u64) {
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
        self.inner.decode.errors.load(Ordering::Relaxed)
    }
}

impl ContextInner {
    fn revision_lock(&self) -> std::sync::MutexGuard<'_, (u64, WakerSlab)> {
        self.revision.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The future of [`CaptureContext::changed`]: ready once the connection has been cancelled or
/// given a new deadline since it was made.
#[must_use = "futures do nothing unless awaited"]
pub struct ContextChanged {
    inner: Arc<ContextInner>,
    seen: u64,
    key: Option<usize>,
}

impl std::fmt::Debug for ContextChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextChanged")
            .field("seen", &self.seen)
            .finish()
    }
}

impl Future for ContextChanged {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut revision = this.inner.revision_lock();
        if revision.0 != this.seen {
            revision.1.remove(&mut this.key);
            return Poll::Ready(());
        }
        revision.1.register(&mut this.key, cx.waker());
        Poll::Pending
    }
}

impl Drop for ContextChanged {
    fn drop(&mut self) {
        if self.key.is_some() {
            self.inner.revision_lock().1.remove(&mut self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use std::sync::atomic::AtomicUsize;
    use std::task::{Wake, Waker};

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(fut: &mut ContextChanged, waker: &Waker) -> Poll<()> {
        Pin::new(fut).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn changed_is_woken_by_a_new_deadline_and_by_cancel() {
        let ctx = CaptureContext::new(Arc::new(SystemClock), "t");
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));

        let mut first = ctx.changed();
        assert!(poll(&mut first, &waker).is_pending());
        assert!(poll(&mut first, &waker).is_pending(), "nothing changed yet");
        ctx.set_deadline_in(Duration::from_secs(5));
        assert_eq!(counter.0.load(Ordering::SeqCst), 1, "woken by the deadline");
        assert!(poll(&mut first, &waker).is_ready());

        let mut second = ctx.changed();
        assert!(poll(&mut second, &waker).is_pending());
        ctx.cancel();
        assert_eq!(counter.0.load(Ordering::SeqCst), 2, "woken by cancel");
        assert!(poll(&mut second, &waker).is_ready());
    }

    #[test]
    fn a_dropped_changed_future_leaves_no_waker() {
        let ctx = CaptureContext::new(Arc::new(SystemClock), "t");
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        for _ in 0..1000 {
            let mut fut = ctx.changed();
            assert!(poll(&mut fut, &waker).is_pending());
        }
        assert_eq!(ctx.lock_revision().1.len(), 0);
        ctx.cancel();
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
    }
}
