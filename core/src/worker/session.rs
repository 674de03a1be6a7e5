//! The supervisor's side of one connection: the capture thread it started, and its end.

use super::Shared;
use super::capture::{self, Link};
use super::run::RunControl;
use super::threads::ThreadTrack;
use crate::LOG_TARGET;
use crate::backend::CaptureBackend;
use crate::clock::after;
use crate::context::CaptureContext;
use crate::error::{Error, ErrorKind};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One connection's capture thread, as the supervisor holds it. Dropping it (also while the
/// supervisor unwinds from a panic) cancels the connection and mutes it.
pub(super) struct Session {
    pub(super) ctx: CaptureContext,
    pub(super) link: Arc<Link>,
    shared: Arc<Shared>,
    control: Arc<RunControl>,
    handle: Option<JoinHandle<()>>,
    track: Arc<ThreadTrack>,
}

impl Session {
    /// Starts connection `session_id` (the attempt's number in this run) on a thread of its
    /// own.
    pub(super) fn spawn<B: CaptureBackend>(
        shared: &Arc<Shared>,
        control: &Arc<RunControl>,
        config: &B::Config,
        session_id: u64,
    ) -> Result<Session, Error> {
        let ctx = CaptureContext::for_session(
            Arc::clone(&shared.clock),
            shared.backend,
            control.wake.clone(),
            Arc::clone(&shared.counters.decode),
        );
        let link = Arc::new(Link::new(control.wake.clone()));
        let track = shared.threads.track();
        shared.slot.activate_session(control.run, session_id);
        let handle = {
            let (ctx, link, track) = (ctx.clone(), Arc::clone(&link), Arc::clone(&track));
            let shared = Arc::clone(shared);
            let config = config.clone();
            let run = control.run;
            std::thread::Builder::new()
                .name(shared.thread_name("cap"))
                .spawn(move || {
                    let _exit = shared.threads.enter(&track);
                    capture::run::<B>(&shared, &config, &ctx, &link, run, session_id);
                })
                .map_err(|e| {
                    Error::core(ErrorKind::Other, "could not spawn a capture thread").with_source(e)
                })?
        };
        Ok(Session {
            ctx,
            link,
            shared: Arc::clone(shared),
            control: Arc::clone(control),
            handle: Some(handle),
            track,
        })
    }

    /// Cancels the connection and waits up to `grace` (real time; less once a stop is
    /// requested) for its thread; a thread that does not return in time is detached, and
    /// muted by ending its session in the slot.
    pub(super) fn end(mut self, grace: Duration) {
        self.ctx.cancel();
        let stop_grace = self.shared.request.options.stop_timeout / 2;
        let mut deadline = after(Instant::now(), grace);
        loop {
            let seen = self.control.wake.epoch();
            if self.link.exited() {
                break;
            }
            if self.control.stop_requested() {
                deadline = deadline.min(after(Instant::now(), stop_grace));
            }
            if !self.control.wake.wait_real(seen, Some(deadline)) && Instant::now() >= deadline {
                break;
            }
        }
        self.shared.slot.end_session(self.control.run);
        let handle = self.handle.take();
        if self.link.exited() {
            if let Some(h) = handle {
                let _ = h.join();
            }
        } else {
            self.shared.threads.mark_detached(&self.track);
            log::warn!(
                target: LOG_TARGET,
                "stream {}: backend did not return within {grace:?} of cancellation; its \
                 thread is left behind muted",
                self.shared.label,
            );
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.handle.is_some() {
            // Not ended in order: the supervisor is unwinding. The thread ends or is muted.
            self.ctx.cancel();
            self.shared.slot.end_session(self.control.run);
            if !self.link.exited() {
                self.shared.threads.mark_detached(&self.track);
            }
        }
    }
}
