//! Counting the stream's threads, detached ones included, so leaks show in the stats.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Default)]
pub(crate) struct Threads {
    live: AtomicUsize,
    detached: AtomicUsize,
}

/// One thread's fate: whether it has exited and whether it was left behind.
#[derive(Default)]
pub(crate) struct ThreadTrack {
    state: Mutex<(bool, bool)>,
}

pub(crate) struct ExitGuard<'a> {
    threads: &'a Threads,
    track: Arc<ThreadTrack>,
}

impl Threads {
    pub(crate) fn track(&self) -> Arc<ThreadTrack> {
        Arc::new(ThreadTrack::default())
    }

    /// Called first thing on a new thread; the guard counts it out when the thread ends, also
    /// by a panic.
    pub(crate) fn enter(&self, track: &Arc<ThreadTrack>) -> ExitGuard<'_> {
        self.live.fetch_add(1, Ordering::AcqRel);
        ExitGuard {
            threads: self,
            track: Arc::clone(track),
        }
    }

    pub(crate) fn mark_detached(&self, track: &ThreadTrack) {
        let mut state = track.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (exited, detached) = &mut *state;
        if !*exited && !*detached {
            *detached = true;
            self.detached.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    pub(crate) fn detached(&self) -> usize {
        self.detached.load(Ordering::Acquire)
    }
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        let mut state = self
            .track
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (exited, detached) = &mut *state;
        *exited = true;
        if *detached {
            self.threads.detached.fetch_sub(1, Ordering::AcqRel);
        }
        self.threads.live.fetch_sub(1, Ordering::AcqRel);
    }
}
