//! Starting and stopping runs: what `VideoStream` and `StopHandle` call.

use super::Shared;
use super::run::RunControl;
use super::supervisor::Supervisor;
use crate::LOG_TARGET;
use crate::backend::CaptureBackend;
use crate::error::{Error, ErrorKind, Result};
use crate::panic::panic_text;
use crate::stats::State;
use crate::waiting::{Completion, StopFuture};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

/// The stream's worker as its handles see it: the shared state, the run in progress and the
/// stop in progress.
pub(crate) struct Runner {
    pub(crate) shared: Arc<Shared>,
    running: Mutex<Option<Running>>,
    /// The stop that took the last run and may still be finishing it (on another thread, for
    /// `stop_async`). A second `stop()` and the next `start()` wait for it.
    stopping: Mutex<Option<Arc<Completion>>>,
}

struct Running {
    control: Arc<RunControl>,
    handle: JoinHandle<()>,
}

/// A run taken out of `running`, its stop requested, to be finished by `finish_stop`.
pub(crate) struct Stopping {
    running: Running,
    started: Instant,
    completion: Arc<Completion>,
    /// The stop ended the run (it had not ended by itself): its event streams end with it.
    ended_by_stop: bool,
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
            stopping: Mutex::new(None),
        }
    }

    fn lock_running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_stopping(&self) -> MutexGuard<'_, Option<Arc<Completion>>> {
        self.stopping.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stop_in_progress(&self) -> Option<Arc<Completion>> {
        self.lock_stopping().clone()
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
        // A stop still finishing the last run (stop_async) mutes it first.
        if let Some(stop) = self.stop_in_progress() {
            stop.wait();
        }
        *running = Some(self.spawn::<B>(config)?);
        Ok(())
    }

    /// Starts a run's supervising thread.
    fn spawn<B: CaptureBackend>(&self, config: B::Config) -> Result<Running> {
        let shared = &self.shared;
        let run = shared.counters.runs.fetch_add(1, Ordering::Relaxed) + 1;
        let control = Arc::new(RunControl::new(run, shared.threads.track()));
        shared.slot.activate(run);
        shared.set_state_unchecked(State::Connecting);
        let supervisor = Supervisor::<B>::new(Arc::clone(shared), Arc::clone(&control), config);
        let handle = {
            let (shared, control) = (Arc::clone(shared), Arc::clone(&control));
            std::thread::Builder::new()
                .name(shared.thread_name("sup"))
                .spawn(move || {
                    let _exit = shared.threads.enter(&control.track);
                    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| supervisor.run())) {
                        supervisor_panicked(&shared, control.run, &*payload);
                    }
                    control.mark_finished();
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
    /// While another stop is finishing the run, waits for that one.
    pub(crate) fn stop(&self) {
        match self.begin_stop() {
            Some(stopping) => self.finish_stop(stopping),
            None => {
                if let Some(stop) = self.stop_in_progress() {
                    stop.wait();
                }
            }
        }
    }

    /// Requests the stop now and finishes it on a short-lived thread, so that the caller (an
    /// async task) never blocks.
    pub(crate) fn stop_async(self: &Arc<Self>) -> StopFuture {
        let Some(stopping) = self.begin_stop() else {
            let stop = self
                .stop_in_progress()
                .unwrap_or_else(|| Arc::new(Completion::finished()));
            return StopFuture::new(stop);
        };
        let completion = Arc::clone(&stopping.completion);
        if stopping.running.handle.thread().id() == std::thread::current().id() {
            // From a callback: muting does not wait for anything.
            self.finish_stop(stopping);
            return StopFuture::new(completion);
        }
        let handoff = Arc::new(Mutex::new(Some(stopping)));
        let spawned = {
            let (runner, handoff) = (Arc::clone(self), Arc::clone(&handoff));
            std::thread::Builder::new()
                .name(self.shared.thread_name("stop"))
                .spawn(move || {
                    let stopping = handoff
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take();
                    if let Some(stopping) = stopping {
                        runner.finish_stop(stopping);
                    }
                })
        };
        if spawned.is_err() {
            // No thread to spare: finish here, still within stop_timeout.
            let stopping = handoff
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(stopping) = stopping {
                self.finish_stop(stopping);
            }
        }
        StopFuture::new(completion)
    }

    /// Takes the run in progress and requests its stop, without waiting for it: the first
    /// half of `stop()` (a group asks all its cameras before it waits for any).
    pub(crate) fn begin_stop(&self) -> Option<Stopping> {
        let mut running = self.lock_running();
        let taken = running.take()?;
        let completion = Arc::new(Completion::new());
        *self.lock_stopping() = Some(Arc::clone(&completion));
        drop(running);
        let started = Instant::now();
        taken.control.request_stop();
        let ended_by_stop = self.shared.slot.stop_requested(taken.control.run);
        Some(Stopping {
            running: taken,
            started,
            completion,
            ended_by_stop,
        })
    }

    fn finish_stop(&self, stopping: Stopping) {
        let deadline = stopping.started + self.shared.request.options.stop_timeout;
        self.finish_stop_by(stopping, deadline);
    }

    /// The second half of `stop()`: waits for the run's threads until `deadline` (real time),
    /// then detaches what is left.
    pub(crate) fn finish_stop_by(&self, stopping: Stopping, deadline: Instant) {
        let Stopping {
            running,
            started,
            completion,
            ended_by_stop,
        } = stopping;
        let shared = &self.shared;
        let control = &running.control;
        let on_own_thread = std::thread::current().id() == running.handle.thread().id();
        let finished = !on_own_thread && control.wait_finished(deadline);
        // Mute first, then tidy up: from here on nothing of this run reaches the slot or the
        // callbacks, whatever its threads are still doing. (Waiters were woken when the stop
        // was requested; event streams end now, after the supervisor's last event.)
        if shared.slot.deactivate(control.run) {
            shared.slot.clear(0);
            shared.history.clear();
            shared.set_state_unchecked(State::Stopped);
        }
        // No callback starts from here on; one running now gets what is left of the bound.
        shared
            .callback_gate
            .close(control.run, deadline, on_own_thread);
        if ended_by_stop {
            shared.subscribers.close_all();
        }
        if finished {
            let _ = running.handle.join();
        } else if !on_own_thread {
            shared.threads.mark_detached(&control.track);
            log::warn!(
                target: LOG_TARGET,
                "stream {}: worker did not stop within {:?}; left behind muted",
                shared.label,
                shared.request.options.stop_timeout
            );
        }
        completion.complete();
        let mut stopping = self.lock_stopping();
        if stopping
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, &completion))
        {
            *stopping = None;
        }
        drop(stopping);
        log::info!(
            target: LOG_TARGET,
            "stream {} stopped in {:?}",
            shared.label,
            started.elapsed()
        );
    }
}

/// The supervisor of `run` panicked (a bug, or a clock of the application's that panicked):
/// the stream ends as given up with an error carrying the scrubbed message, every waiter is
/// woken, and its connection (dropped while unwinding) is cancelled and muted.
fn supervisor_panicked(shared: &Shared, run: u64, payload: &(dyn std::any::Any + Send)) {
    let message = format!("the stream's supervisor panicked: {}", panic_text(payload));
    log::error!(target: LOG_TARGET, "stream {}: {message}", shared.label);
    let error = Arc::new(Error::core(ErrorKind::Other, message));
    shared.slot.end_session(run);
    shared.slot.clear(run);
    // Each step on its own: whatever panicked (the application's clock, say) may panic again,
    // and the waiters must learn of the end whatever happens.
    let step = |f: &dyn Fn()| drop(catch_unwind(AssertUnwindSafe(f)));
    step(&|| {
        shared
            .slot
            .if_active(run, || shared.set_state_unchecked(State::GaveUp))
            .unwrap_or(())
    });
    step(&|| {
        shared
            .counters
            .set_last_error(Arc::clone(&error), Instant::now())
    });
    step(&|| {
        shared.emit(
            run,
            crate::event::Event::GaveUp {
                error: Arc::clone(&error),
            },
        )
    });
    shared.end_run(run, crate::waiting::EndReason::GaveUp((*error).clone()));
    step(&|| shared.call_all(run, &shared.callbacks.on_reconnect_failure));
}
