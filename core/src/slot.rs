//! The latest-frame slot, the gate that mutes stopped runs, and the end every waiter sees.

use crate::frame::Frame;
use crate::waiting::{EndReason, WaitError, WakerSlab};
use arc_swap::ArcSwapOption;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

/// Holds the newest frame. Readers never lock: `read` is one `ArcSwapOption` load. Writers
/// (the capture thread, the supervisor clearing the slot) go through a small mutex, which also
/// decides whether the writer's run is still the active one: once `stop()` has deactivated a
/// run under that mutex, nothing of that run reaches the slot or the callbacks again, even
/// from a detached thread.
///
/// Waiters — threads on the condition variable, tasks through their wakers — are woken under
/// the same mutex by a publish and by the end of the run, so a waiter that checked for a frame
/// and for the end under it cannot miss either.
pub(crate) struct Slot {
    latest: ArcSwapOption<Frame>,
    gate: Mutex<Gate>,
    changed: Condvar,
    last_seq: AtomicU64,
    overwritten_unread: AtomicU64,
    /// Process-unique, stamped on every frame published here.
    stream_id: u64,
}

struct Gate {
    active_run: u64,
    /// The session (attempt) allowed to publish (0: none).
    active_session: u64,
    /// Threads blocked on `changed`.
    waiters: usize,
    /// Why the last run ended; `None` while a run is in progress.
    end: Option<EndReason>,
    wakers: WakerSlab,
}

impl Slot {
    pub(crate) fn new() -> Self {
        static STREAMS: AtomicU64 = AtomicU64::new(0);
        Slot {
            stream_id: STREAMS.fetch_add(1, Ordering::Relaxed) + 1,
            latest: ArcSwapOption::const_empty(),
            gate: Mutex::new(Gate {
                active_run: 0,
                active_session: 0,
                waiters: 0,
                // A stream that was never started is stopped: waiting on it returns at once.
                end: Some(EndReason::Stopped),
                wakers: WakerSlab::default(),
            }),
            changed: Condvar::new(),
            last_seq: AtomicU64::new(0),
            overwritten_unread: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn activate(&self, run: u64) {
        let mut gate = self.lock();
        gate.active_run = run;
        gate.active_session = 0;
        gate.end = None;
    }

    /// Lets session (attempt) `session` of `run` publish, and nobody else (nobody at all once
    /// the run has ended).
    pub(crate) fn activate_session(&self, run: u64, session: u64) {
        let mut gate = self.lock();
        if gate.active_run == run && gate.end.is_none() {
            gate.active_session = session;
        }
    }

    /// Mutes the current connection of `run` (it ended or was left behind).
    pub(crate) fn end_session(&self, run: u64) {
        let mut gate = self.lock();
        if gate.active_run == run {
            gate.active_session = 0;
        }
    }

    /// A stop of `run` was requested: its frames are muted at once and, unless it ended by
    /// itself, it ends as stopped, waking every waiter now rather than when the worker has
    /// wound down. The supervisor may still post its last events. Returns whether this call
    /// ended the run.
    pub(crate) fn stop_requested(&self, run: u64) -> bool {
        let mut gate = self.lock();
        if gate.active_run != run {
            return false;
        }
        gate.active_session = 0;
        self.set_end(gate, EndReason::Stopped)
    }

    /// Mutes `run` altogether (ending it as stopped if nothing ended it yet); returns whether
    /// it was the active one.
    pub(crate) fn deactivate(&self, run: u64) -> bool {
        let mut gate = self.lock();
        if gate.active_run != run {
            return false;
        }
        gate.active_run = 0;
        gate.active_session = 0;
        self.set_end(gate, EndReason::Stopped);
        true
    }

    /// Ends `run` (the source ended, or the stream gave up) if it is active and has not ended
    /// yet, waking every waiter. Returns whether it did.
    pub(crate) fn end(&self, run: u64, reason: EndReason) -> bool {
        let gate = self.lock();
        gate.active_run == run && self.set_end(gate, reason)
    }

    fn set_end(&self, mut gate: MutexGuard<'_, Gate>, reason: EndReason) -> bool {
        if gate.end.is_some() {
            return false;
        }
        gate.end = Some(reason);
        gate.wakers.wake_all();
        drop(gate);
        self.changed.notify_all();
        true
    }

    /// Why the last run ended; `None` while one is in progress.
    pub(crate) fn end_reason(&self) -> Option<EndReason> {
        self.lock().end.clone()
    }

    pub(crate) fn is_active(&self, run: u64) -> bool {
        self.lock().active_run == run
    }

    /// Runs `f` under the gate if `run` is active (for state changes that must not outlive
    /// `stop()`). Keep `f` short: it blocks publishing.
    pub(crate) fn if_active<T>(&self, run: u64, f: impl FnOnce() -> T) -> Option<T> {
        let gate = self.lock();
        (gate.active_run == run).then(f)
    }

    /// Runs `f` under the gate if session `session` of `run` may still publish.
    pub(crate) fn if_session_active<T>(
        &self,
        run: u64,
        session: u64,
        f: impl FnOnce() -> T,
    ) -> Option<T> {
        let gate = self.lock();
        (gate.active_run == run && gate.active_session == session).then(f)
    }

    /// Gives `frame` the next sequence number and makes it the newest. `frame` must be
    /// unique (just filled). `book` runs first, under the gate, so counters never lag behind a
    /// frame a reader holds. Returns false, publishing nothing, if session `session` of `run`
    /// is muted.
    pub(crate) fn publish(
        &self,
        run: u64,
        session: u64,
        frame: &mut Arc<Frame>,
        book: impl FnOnce(),
    ) -> bool {
        let gate = self.lock();
        if gate.active_run != run || gate.active_session != session {
            return false;
        }
        book();
        let seq = self.last_seq.load(Ordering::Relaxed) + 1;
        let unique = Arc::get_mut(frame).expect("a frame being published is not shared yet");
        unique.seq = seq;
        unique.stream_id = self.stream_id;
        self.count_unread_replacement();
        self.latest.store(Some(Arc::clone(frame)));
        self.last_seq.store(seq, Ordering::Release);
        gate.wakers.wake_all();
        let notify = gate.waiters > 0;
        drop(gate);
        if notify {
            self.changed.notify_all();
        }
        true
    }

    /// Empties the slot (the feed dropped). Returns false if `run` is muted.
    pub(crate) fn clear(&self, run: u64) -> bool {
        let gate = self.lock();
        if gate.active_run != run && run != 0 {
            return false;
        }
        if self.latest.load().is_some() {
            self.count_unread_replacement();
            self.latest.store(None);
        }
        drop(gate);
        true
    }

    fn count_unread_replacement(&self) {
        if let Some(old) = &*self.latest.load()
            && !old.was_taken()
        {
            self.overwritten_unread.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn read(&self) -> Option<Arc<Frame>> {
        let frame = self.latest.load_full()?;
        frame.mark_taken();
        Some(frame)
    }

    /// The newest frame without marking it read: for the library's own looks (the aligned
    /// history, a group's aligned read), which must not hide a frame nobody read from
    /// `frames_overwritten_unread`.
    pub(crate) fn peek(&self) -> Option<Arc<Frame>> {
        self.latest.load_full()
    }

    pub(crate) fn read_new(&self, after_seq: u64) -> Option<Arc<Frame>> {
        let frame = self.peek_new(after_seq)?;
        frame.mark_taken();
        Some(frame)
    }

    /// Blocks until a frame newer than `after_seq` exists (returned even after the end), the
    /// run ends, or the real-time `deadline` passes (`None`: no deadline).
    pub(crate) fn wait_next(
        &self,
        after_seq: u64,
        deadline: Option<Instant>,
    ) -> Result<Arc<Frame>, WaitError> {
        if let Some(frame) = self.read_new(after_seq) {
            return Ok(frame);
        }
        let mut gate = self.lock();
        gate.waiters += 1;
        let answer = loop {
            if let Some(frame) = self.read_new(after_seq) {
                break Ok(frame);
            }
            if let Some(end) = &gate.end {
                break Err(WaitError::Ended(end.clone()));
            }
            gate = match deadline {
                None => self
                    .changed
                    .wait(gate)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break Err(WaitError::Timeout);
                    }
                    self.changed
                        .wait_timeout(gate, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        };
        gate.waiters -= 1;
        answer
    }

    /// The async form of [`wait_next`](Self::wait_next): registers the task's waker under
    /// `key` while pending and removes it once it answers.
    pub(crate) fn poll_next(
        &self,
        after_seq: u64,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Arc<Frame>, EndReason>> {
        let mut gate = self.lock();
        let answer = match self.read_new(after_seq) {
            Some(frame) => Ok(frame),
            None => match &gate.end {
                Some(end) => Err(end.clone()),
                None => {
                    gate.wakers.register(key, cx.waker());
                    return Poll::Pending;
                }
            },
        };
        gate.wakers.remove(key);
        Poll::Ready(answer)
    }

    /// Registers `waker` under `key` for good: it is woken by every publish and by the end
    /// of every run until [`forget_waker`](Self::forget_waker). For a group watching its
    /// cameras.
    pub(crate) fn watch(&self, key: &mut Option<usize>, waker: &std::task::Waker) {
        self.lock().wakers.register(key, waker);
    }

    /// The newest frame if newer than `after_seq`, without counting it as read.
    pub(crate) fn peek_new(&self, after_seq: u64) -> Option<Arc<Frame>> {
        // The reference count moves only for a frame that is returned.
        match &*self.latest.load() {
            Some(f) if f.seq > after_seq => Some(Arc::clone(f)),
            _ => None,
        }
    }

    /// Removes a pending future's waker (the future was dropped).
    pub(crate) fn forget_waker(&self, key: &mut Option<usize>) {
        if key.is_some() {
            self.lock().wakers.remove(key);
        }
    }

    pub(crate) fn stream_id(&self) -> u64 {
        self.stream_id
    }

    pub(crate) fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Acquire)
    }

    pub(crate) fn overwritten_unread(&self) -> u64 {
        self.overwritten_unread.load(Ordering::Relaxed)
    }
}
