//! What the supervisor tells the application: state, events, callbacks and log lines, each
//! step of a connection's life in one place.

use super::supervisor::{Ending, Supervisor};
use crate::LOG_TARGET;
use crate::backend::CaptureBackend;
use crate::error::Error;
use crate::event::{DisconnectReason, Event, Notice};
use crate::frame::StreamProps;
use crate::panic::panic_text;
use crate::stats::State;
use crate::waiting::EndReason;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

impl<B: CaptureBackend> Supervisor<B> {
    pub(super) fn connecting(&self, attempt: u32) {
        self.set_state(State::Connecting);
        log::info!(
            target: LOG_TARGET,
            "stream {}: connecting ({}, attempt {attempt})",
            self.shared.label,
            self.shared.backend
        );
        self.emit(Event::Connecting { attempt });
    }

    pub(super) fn connected(&mut self, props: StreamProps, generation: u64) {
        self.announced = true;
        log::info!(
            target: LOG_TARGET,
            "stream {}: connected ({}x{}, {} fps, codec {})",
            self.shared.label,
            props.width,
            props.height,
            props.fps.map_or_else(|| "?".to_owned(), |f| format!("{f:.2}")),
            props.codec.as_deref().map_or("?".into(), crate::quote::one_line),
        );
        // The capture thread already set the state and the props, before its first frame
        // could be read; it alone writes the props, and may be on newer ones by now.
        self.emit(Event::Connected { props, generation });
        self.call_all(&self.shared.callbacks.on_connect);
    }

    pub(super) fn first_frame(&mut self, props: StreamProps, after: Duration) {
        self.emit(Event::FirstFrame {
            width: props.width,
            height: props.height,
            after,
        });
        self.size_known(props);
    }

    /// Records the frame size now known; a size that differs from the last one known (in
    /// this connection or an earlier one) is a resolution change.
    pub(super) fn size_known(&mut self, props: StreamProps) {
        let size = (props.width, props.height);
        let previous = self.last_size.replace(size);
        if previous.is_none_or(|p| p == size) {
            return;
        }
        log::info!(
            target: LOG_TARGET,
            "stream {}: resolution changed to {}x{}",
            self.shared.label,
            props.width,
            props.height
        );
        self.emit(Event::ResolutionChanged { props });
    }

    pub(super) fn notice(&self, notice: Notice) {
        log::warn!(
            target: LOG_TARGET,
            "stream {}: {notice:?}",
            self.shared.label
        );
        self.emit(Event::Notice(notice));
    }

    pub(super) fn stalled(&self) {
        let after = self
            .shared
            .counters
            .last_frame_at()
            .map_or(self.options().stall_timeout, |t| {
                self.shared.clock.now().saturating_duration_since(t)
            });
        log::warn!(
            target: LOG_TARGET,
            "stream {}: no frame for {after:?}, dropping the connection",
            self.shared.label
        );
        self.set_state(State::Stalled);
        self.emit(Event::Stalled { after });
    }

    /// Books the end of a connection: slot, state, events, `on_disconnect`.
    pub(super) fn disconnected(&mut self, error: &Arc<Error>, timed_out: bool) {
        self.shared
            .counters
            .set_last_error(Arc::clone(error), self.shared.clock.now());
        self.shared.slot.clear(self.control.run);
        let source = &self.shared.label;
        self.set_state(State::Disconnected);
        if !self.announced {
            log::warn!(
                target: LOG_TARGET,
                "stream {source}: connection attempt failed ({} in a row): {error}",
                self.retry.failures()
            );
            return;
        }
        log::warn!(target: LOG_TARGET, "stream {source}: disconnected: {error}");
        let reason = if timed_out {
            DisconnectReason::Stalled
        } else {
            DisconnectReason::Error(Arc::clone(error))
        };
        self.emit(Event::Disconnected { reason });
        self.call_all(&self.shared.callbacks.on_disconnect);
    }

    pub(super) fn backing_off(&self, delay: Duration) {
        let failures = self.retry.failures();
        log::info!(
            target: LOG_TARGET,
            "stream {}: reconnecting in {delay:?} ({failures} consecutive failure(s))",
            self.shared.label,
        );
        self.set_state(State::BackingOff);
        self.emit(Event::BackingOff { failures, delay });
    }

    pub(super) fn finish(&self, ending: Ending) {
        let source = &self.shared.label;
        match ending {
            Ending::Stopped => {
                self.emit(Event::Stopped);
            }
            Ending::Finished => {
                log::info!(target: LOG_TARGET, "stream {source}: end of stream");
                self.set_state(State::Finished);
                self.emit(Event::EndOfStream);
                self.shared.end_run(self.control.run, EndReason::Finished);
            }
            Ending::GaveUp(error) => {
                log::error!(
                    target: LOG_TARGET,
                    "stream {source}: giving up after {} failed attempt(s): {error}",
                    self.retry.failures()
                );
                self.shared.gave_up(self.control.run, error);
            }
        }
    }

    pub(super) fn emit(&self, event: Event) {
        self.shared.emit(self.control.run, event);
    }

    fn call_all(&self, callbacks: &[Arc<dyn Fn() + Send + Sync>]) {
        self.shared.call_all(self.control.run, callbacks);
    }
}

impl super::Shared {
    /// Ends `run` as given up with `error`: its state, its event, every waiter woken (before
    /// the callbacks run: a slow callback holds up nobody but the supervisor), then
    /// `on_reconnect_failure`.
    pub(super) fn gave_up(&self, run: u64, error: Arc<Error>) {
        self.slot
            .if_active(run, || self.set_state_unchecked(State::GaveUp));
        self.emit(
            run,
            Event::GaveUp {
                error: Arc::clone(&error),
            },
        );
        self.end_run(run, EndReason::GaveUp((*error).clone()));
        self.call_all(run, &self.callbacks.on_reconnect_failure);
    }

    pub(super) fn emit(&self, run: u64, event: Event) {
        if !self.slot.is_active(run) {
            return;
        }
        // Queued before the callbacks run, so a slow callback does not delay async consumers.
        self.subscribers.publish(&event);
        for callback in &self.callbacks.on_event {
            self.callback_gate
                .run(run, || guarded("on_event", || callback(&event)));
        }
    }

    pub(super) fn call_all(&self, run: u64, callbacks: &[Arc<dyn Fn() + Send + Sync>]) {
        for callback in callbacks {
            self.callback_gate
                .run(run, || guarded("callback", || callback()));
        }
    }
}

/// Runs a user callback; a panic is logged (its message scrubbed) and swallowed so the stream
/// keeps running.
fn guarded(what: &str, f: impl FnOnce()) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
        let message = panic_text(&*panic);
        log::error!(target: LOG_TARGET, "{what} panicked: {message}; the stream keeps running");
    }
}
