//! The latest-frame slot and the gate that mutes stopped runs.

use crate::frame::Frame;
use arc_swap::ArcSwapOption;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Holds the newest frame. Readers never lock: `read` is one `ArcSwapOption` load. Writers
/// (the capture thread, the supervisor clearing the slot) go through a small mutex, which also
/// decides whether the writer's run is still the active one: once `stop()` has deactivated a
/// run under that mutex, nothing of that run reaches the slot or the callbacks again, even
/// from a detached thread.
pub(crate) struct Slot {
    latest: ArcSwapOption<Frame>,
    gate: Mutex<Gate>,
    new_frame: Condvar,
    last_seq: AtomicU64,
    overwritten_unread: AtomicU64,
}

struct Gate {
    active_run: u64,
    /// The session (attempt) allowed to publish (0: none).
    active_session: u64,
    waiters: usize,
}

impl Slot {
    pub(crate) fn new() -> Self {
        Slot {
            latest: ArcSwapOption::const_empty(),
            gate: Mutex::new(Gate {
                active_run: 0,
                active_session: 0,
                waiters: 0,
            }),
            new_frame: Condvar::new(),
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
    }

    /// Lets session (attempt) `session` of `run` publish, and nobody else.
    pub(crate) fn activate_session(&self, run: u64, session: u64) {
        let mut gate = self.lock();
        if gate.active_run == run {
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

    /// Mutes `run`; returns whether it was the active one.
    pub(crate) fn deactivate(&self, run: u64) -> bool {
        let mut gate = self.lock();
        if gate.active_run == run {
            gate.active_run = 0;
            gate.active_session = 0;
            true
        } else {
            false
        }
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
        Arc::get_mut(frame)
            .expect("a frame being published is not shared yet")
            .seq = seq;
        self.count_unread_replacement();
        self.latest.store(Some(Arc::clone(frame)));
        self.last_seq.store(seq, Ordering::Release);
        let notify = gate.waiters > 0;
        drop(gate);
        if notify {
            self.new_frame.notify_all();
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

    pub(crate) fn read_new(&self, after_seq: u64) -> Option<Arc<Frame>> {
        let guard = self.latest.load();
        match &*guard {
            Some(f) if f.seq > after_seq => {
                f.mark_taken();
                Some(Arc::clone(f))
            }
            _ => None,
        }
    }

    pub(crate) fn wait_next(&self, after_seq: u64, timeout: Duration) -> Option<Arc<Frame>> {
        if let Some(frame) = self.read_new(after_seq) {
            return Some(frame);
        }
        let mut gate = self.lock();
        gate.waiters += 1;
        let mut found = None;
        let (mut gate, _) = self
            .new_frame
            .wait_timeout_while(gate, timeout, |_| {
                found = self.read_new(after_seq);
                found.is_none()
            })
            .unwrap_or_else(PoisonError::into_inner);
        gate.waiters -= 1;
        found
    }

    pub(crate) fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Acquire)
    }

    pub(crate) fn overwritten_unread(&self) -> u64 {
        self.overwritten_unread.load(Ordering::Relaxed)
    }
}
