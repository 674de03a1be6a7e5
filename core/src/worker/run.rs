//! One run of the worker, as the handles that stop it and the threads that serve it share it.

use super::threads::ThreadTrack;
use crate::wake::WakeSignal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// One run of the worker: from `start()` to `stop()`, giving up or the end of the source.
pub(crate) struct RunControl {
    pub(crate) run: u64,
    stop: AtomicBool,
    finished: AtomicBool,
    /// Wakes the supervisor: stop requests, messages from the capture thread, notices.
    pub(crate) wake: WakeSignal,
    /// Woken when the supervisor has finished.
    done: WakeSignal,
    pub(crate) track: Arc<ThreadTrack>,
}

impl RunControl {
    pub(super) fn new(run: u64, track: Arc<ThreadTrack>) -> Self {
        RunControl {
            run,
            stop: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            wake: WakeSignal::new(),
            done: WakeSignal::new(),
            track,
        }
    }

    pub(super) fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake.wake();
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub(super) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// The supervisor has finished: wakes whoever waits for it.
    pub(super) fn mark_finished(&self) {
        self.finished.store(true, Ordering::Release);
        self.done.wake();
    }

    /// Waits until the supervisor has finished or `deadline` passes; whether it finished.
    pub(super) fn wait_finished(&self, deadline: Instant) -> bool {
        self.done.wait_for(Some(deadline), || self.is_finished())
    }
}
