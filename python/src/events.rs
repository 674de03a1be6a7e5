//! Callbacks: each stream's events reach Python on one thread of the stream's own, which
//! takes the GIL, calls the callbacks one at a time and logs (and survives) any exception.
//! The library's threads only queue a message; after `stop()` nothing more is called.

use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{JoinHandle, ThreadId};

/// What the stream tells its callback thread.
pub(crate) enum Message {
    Connect,
    Disconnect,
    ReconnectFailure,
    Event(rtsp_stream::Event),
    Quit,
}

/// The Python callables of a stream.
#[derive(Default)]
pub(crate) struct Callbacks {
    pub(crate) on_connect: Option<Py<PyAny>>,
    pub(crate) on_disconnect: Option<Py<PyAny>>,
    pub(crate) on_reconnect_failure: Option<Py<PyAny>>,
    pub(crate) on_event: Option<Py<PyAny>>,
}

impl Callbacks {
    pub(crate) fn any(&self) -> bool {
        self.on_connect.is_some()
            || self.on_disconnect.is_some()
            || self.on_reconnect_failure.is_some()
            || self.on_event.is_some()
    }
}

/// Where the library's callbacks put their messages: the current run's callback thread.
#[derive(Clone, Default)]
pub(crate) struct Outbox(Arc<Mutex<Option<Sender<Message>>>>);

impl Outbox {
    pub(crate) fn send(&self, message: Message) {
        if let Some(tx) = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            let _ = tx.send(message);
        }
    }
}

/// One run's callback thread.
pub(crate) struct Dispatcher {
    outbox: Outbox,
    active: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Dispatcher {
    /// Starts the thread for a run; `active` is set until [`stop`](Self::stop).
    pub(crate) fn start(
        outbox: &Outbox,
        callbacks: Arc<Callbacks>,
        name: &str,
    ) -> std::io::Result<Dispatcher> {
        let (tx, rx) = channel();
        let active = Arc::new(AtomicBool::new(true));
        let handle = {
            let active = Arc::clone(&active);
            std::thread::Builder::new()
                .name(format!("{name}-py"))
                .spawn(move || run(&rx, &callbacks, &active))?
        };
        *outbox.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
        Ok(Dispatcher {
            outbox: outbox.clone(),
            active,
            handle: Some(handle),
        })
    }

    /// No callback runs after this returns (called with the GIL held, which the callback
    /// thread holds while it checks `active` and calls). The thread ends by itself; it is
    /// joined unless this is it (`stop()` from a callback).
    pub(crate) fn stop(mut self, py: Python<'_>) {
        self.active.store(false, Ordering::Release);
        self.outbox.send(Message::Quit);
        *self.outbox.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
        if let Some(handle) = self.handle.take()
            && handle.thread().id() != current()
        {
            py.detach(|| {
                let _ = handle.join();
            });
        }
    }
}

fn current() -> ThreadId {
    std::thread::current().id()
}

fn run(rx: &Receiver<Message>, callbacks: &Callbacks, active: &AtomicBool) {
    while let Ok(message) = rx.recv() {
        if matches!(message, Message::Quit) {
            return;
        }
        Python::attach(|py| {
            if !active.load(Ordering::Acquire) {
                return;
            }
            let (name, callable, args) = match &message {
                Message::Connect => ("on_connect", &callbacks.on_connect, None),
                Message::Disconnect => ("on_disconnect", &callbacks.on_disconnect, None),
                Message::ReconnectFailure => (
                    "on_reconnect_failure",
                    &callbacks.on_reconnect_failure,
                    None,
                ),
                Message::Event(event) => ("on_event", &callbacks.on_event, Some(event)),
                Message::Quit => return,
            };
            let Some(callable) = callable else {
                return;
            };
            let result = match args {
                None => callable.call0(py),
                Some(event) => {
                    Py::new(py, Event::from(event)).and_then(|e| callable.call1(py, (e,)))
                }
            };
            if let Err(error) = result {
                report(py, name, &error);
            }
        });
    }
}

/// Logs a callback's exception with its traceback under the logger `rtsp_stream`.
fn report(py: Python<'_>, name: &str, error: &PyErr) {
    let logged = py.import("logging").and_then(|logging| {
        let logger = logging.call_method1("getLogger", ("rtsp_stream",))?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("exc_info", error.value(py))?;
        logger.call_method(
            "error",
            ("callback %s raised; the stream goes on", name),
            Some(&kwargs),
        )
    });
    if logged.is_err() {
        error.print(py);
    }
}

/// An event of the stream, passed to `on_event`. `kind` names it (`"connecting"`,
/// `"connected"`, `"first_frame"`, `"stalled"`, `"disconnected"`, `"backing_off"`,
/// `"gave_up"`, `"resolution_changed"`, `"transport_fallback"`, `"end_of_stream"`,
/// `"stopped"`); the other attributes are set where the kind has them, else `None`.
#[pyclass(frozen, get_all, module = "rtsp_stream_rs._native")]
pub(crate) struct Event {
    kind: &'static str,
    attempt: Option<u32>,
    generation: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<f64>,
    /// Seconds: how long after connecting the first frame came, or how long no frame came.
    after: Option<f64>,
    failures: Option<u32>,
    /// Seconds until the next attempt.
    delay: Option<f64>,
    /// Why the feed dropped or the stream gave up (never with a password).
    reason: Option<String>,
}

impl From<&rtsp_stream::Event> for Event {
    fn from(event: &rtsp_stream::Event) -> Self {
        use rtsp_stream::{Event as E, Notice};
        let mut out = Event {
            kind: event.name(),
            attempt: None,
            generation: None,
            width: None,
            height: None,
            fps: None,
            after: None,
            failures: None,
            delay: None,
            reason: None,
        };
        match event {
            E::Connecting { attempt, .. } => out.attempt = Some(*attempt),
            E::Connected {
                props, generation, ..
            } => {
                out.generation = Some(*generation);
                (out.width, out.height, out.fps) =
                    (Some(props.width), Some(props.height), props.fps);
            }
            E::ResolutionChanged { props, .. } => {
                (out.width, out.height, out.fps) =
                    (Some(props.width), Some(props.height), props.fps);
            }
            E::FirstFrame {
                width,
                height,
                after,
                ..
            } => {
                (out.width, out.height) = (Some(*width), Some(*height));
                out.after = Some(after.as_secs_f64());
            }
            E::Stalled { after, .. } => out.after = Some(after.as_secs_f64()),
            E::Disconnected { reason, .. } => out.reason = Some(reason.to_string()),
            E::BackingOff {
                failures, delay, ..
            } => {
                out.failures = Some(*failures);
                out.delay = Some(delay.as_secs_f64());
            }
            E::GaveUp { error, .. } => out.reason = Some(error.to_string()),
            E::Notice(Notice::TransportFallback { from, to, .. }) => {
                out.reason = Some(format!("the server refused {from}, using {to}"));
            }
            _ => {}
        }
        out
    }
}

#[pymethods]
impl Event {
    fn __repr__(&self) -> String {
        let mut parts = vec![format!("kind={:?}", self.kind)];
        let mut add = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                parts.push(format!("{name}={v}"));
            }
        };
        add("attempt", self.attempt.map(|v| v.to_string()));
        add("generation", self.generation.map(|v| v.to_string()));
        add("width", self.width.map(|v| v.to_string()));
        add("height", self.height.map(|v| v.to_string()));
        add("fps", self.fps.map(|v| format!("{v:.1}")));
        add("after", self.after.map(|v| format!("{v:.3}")));
        add("failures", self.failures.map(|v| v.to_string()));
        add("delay", self.delay.map(|v| format!("{v:.3}")));
        add("reason", self.reason.as_ref().map(|v| format!("{v:?}")));
        format!("Event({})", parts.join(", "))
    }
}
