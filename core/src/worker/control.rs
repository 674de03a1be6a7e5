//! Starting and stopping runs: what `VideoStream` and `StopHandle` call.

use super::Shared;
use super::supervisor::Supervisor;
use super::threads::ThreadTrack;
use crate::LOG_TARGET;
use crate::backend::CaptureBackend;
use crate::error::{Error, ErrorKind, Result};
use crate::stats::State;
use crate::wake::WakeSignal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
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
    fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake.wake();
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }
}

/// The stream's worker as its handles see it: the shared state and the run in progress.
pub(crate) struct Runner {
    pub(crate) shared: Arc<Shared>,
    running: Mutex<Option<Running>>,
}

struct Running {
    control: Arc<RunControl>,
    handle: JoinHandle<()>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

impl Runner {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Runner {
            shared,
            running: Mutex::new(None),
        }
    }

    fn lock_running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a run is in progress (started, and not stopped, given up or finished).
    pub(crate) fn is_running(&self) -> bool {
        self.lock_running()
            .as_ref()
            .is_some_and(|r| !r.control.is_finished())
    }

    /// Starts a run with `config`. Fails with [`ErrorKind::AlreadyStarted`] if one is in
    /// progress.
    pub(crate) fn start<B: CaptureBackend>(&self, config: B::Config) -> Result<()> {
        let mut running = self.lock_running();
        if let Some(r) = running.as_ref()
            && !r.control.is_finished()
        {
            return Err(Error::core(
                ErrorKind::AlreadyStarted,
                "the stream is already running",
            ));
        }
        if let Some(old) = running.take() {
            // The worker ended by itself (gave up or end of stream): it has returned.
            let _ = old.handle.join();
        }
        *running = Some(self.spawn::<B>(config)?);
        Ok(())
    }

    /// Starts a run's supervising thread.
    fn spawn<B: CaptureBackend>(&self, config: B::Config) -> Result<Running> {
        let shared = &self.shared;
        let run = shared.runs.fetch_add(1, Ordering::Relaxed) + 1;
        let control = Arc::new(RunControl {
            run,
            stop: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            wake: WakeSignal::new(),
            done: WakeSignal::new(),
            track: shared.threads.track(),
        });
        shared.slot.activate(run);
        shared.set_state_unchecked(State::Connecting);
        let supervisor = Supervisor::<B>::new(Arc::clone(shared), Arc::clone(&control), config);
        let handle = {
            let (shared, control) = (Arc::clone(shared), Arc::clone(&control));
            std::thread::Builder::new()
                .name("rtsp-stream".into())
                .spawn(move || {
                    let _exit = shared.threads.enter(&control.track);
                    supervisor.run();
                    control.finished.store(true, Ordering::Release);
                    control.done.wake();
                })
        };
        match handle {
            Ok(handle) => Ok(Running { control, handle }),
            Err(e) => {
                shared.slot.deactivate(run);
                shared.set_state_unchecked(State::Stopped);
                Err(
                    Error::core(ErrorKind::Other, "could not spawn the worker thread")
                        .with_source(e),
                )
            }
        }
    }

    /// Stops the run in progress within `stop_timeout`, in every state: cancels it, waits for
    /// the supervisor up to the bound, mutes whatever is left, and leaves a thread that did not
    /// finish in time behind (counted in the stats). From inside a callback (on the supervising
    /// thread itself) it mutes and returns at once; the supervisor ends after the callback.
    pub(crate) fn stop(&self) {
        let Some(running) = self.lock_running().take() else {
            return;
        };
        let started = Instant::now();
        let shared = &self.shared;
        let control = &running.control;
        control.request_stop();
        let on_own_thread = std::thread::current().id() == running.handle.thread().id();
        let finished = !on_own_thread
            && control
                .done
                .wait_for(Some(started + shared.request.options.stop_timeout), || {
                    control.is_finished()
                });
        // Mute first, then tidy up: from here on nothing of this run reaches the slot or the
        // callbacks, whatever its threads are still doing.
        shared.slot.deactivate(control.run);
        shared.slot.clear(0);
        shared.set_state_unchecked(State::Stopped);
        if finished {
            let _ = running.handle.join();
        } else if !on_own_thread {
            shared.threads.mark_detached(&control.track);
            log::warn!(
                target: LOG_TARGET,
                "stream {}: worker did not stop within {:?}; left behind muted",
                shared.request.source(),
                shared.request.options.stop_timeout
            );
        }
        log::info!(
            target: LOG_TARGET,
            "stream {} stopped in {:?}",
            shared.request.source(),
            started.elapsed()
        );
    }
}
